package dev.panamio;

import dev.panamio.testing.TestTimes;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The TCP behaviour every backend must show, on real sockets over loopback. A backend runs it by
 * subclassing ({@link EpollTcpTest}, ...). Peers are JDK blocking sockets, an independent implementation.
 */
abstract class TcpSuite extends BackendSuite {
    static final InetSocketAddress ANY_LOCAL = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    /** Accepted connections with a small kernel send buffer, so writes wait in the kernel for room. */
    static final TcpOptions SMALL_SEND_BUFFER = TcpOptions.defaults().withSocketBuffers(8192, 0);

    /** Runs {@code action} on the loop thread and returns its result. */
    static <T> T onLoop(EventLoop loop, java.util.concurrent.Callable<T> action) throws Exception {
        return dev.panamio.testing.Loops.onLoop(loop, action);
    }

    static LoopStats statsWhen(EventLoop loop, java.util.function.Predicate<LoopStats> p) throws Exception {
        long deadline = System.nanoTime() + TestTimes.patience().toNanos();
        LoopStats s;
        while (!p.test(s = onLoop(loop, loop::stats))) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition never held; last stats: " + s);
            }
            Thread.sleep(10);
        }
        return s;
    }

    TcpServer echoServer(EventLoop loop) throws Exception {
        return onLoop(loop, () -> loop.listen(ANY_LOCAL, conn -> conn.startReading((c, data) -> c.write(data))));
    }

    static Socket client(InetSocketAddress address) throws IOException {
        Socket s = new Socket();
        s.connect(address, (int) TestTimes.patience().toMillis());
        s.setSoTimeout((int) TestTimes.patience().toMillis());
        s.setTcpNoDelay(true);
        return s;
    }

    static byte[] readFully(InputStream in, int n) throws IOException {
        byte[] b = in.readNBytes(n);
        assertThat(b.length).as("bytes before EOF").isEqualTo(n);
        return b;
    }

    // ---------------------------------------------------------------------------------------------- echo

    @Test
    void echoOneByte() throws Exception {
        EventLoop loop = started(builder());
        TcpServer server = echoServer(loop);
        try (Socket s = client(server.localAddress())) {
            s.getOutputStream().write(42);
            assertThat(s.getInputStream().read()).isEqualTo(42);
        }
    }

    @Test
    void echoTenMebibytes() throws Exception {
        EventLoop loop = started(builder());
        TcpServer server = echoServer(loop);
        byte[] data = new byte[10 << 20];
        new Random(7).nextBytes(data);
        try (Socket s = client(server.localAddress())) {
            Thread writer = new Thread(() -> {
                try {
                    OutputStream out = s.getOutputStream();
                    for (int off = 0; off < data.length; off += 65536) {
                        out.write(data, off, Math.min(65536, data.length - off));
                    }
                    s.shutdownOutput();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            writer.start();
            byte[] back = s.getInputStream().readAllBytes();
            writer.join();
            assertThat(back.length).isEqualTo(data.length);
            assertThat(Arrays.equals(back, data)).as("echoed bytes equal").isTrue();
        }
        statsWhen(loop, st -> st.connections() == 0 && st.lentBytes() == st.ringBytes() && st.leasedBytes() == 0);
    }

    @Test
    void thousandConcurrentConnections() throws Exception {
        EventLoop loop = started(builder());
        TcpServer server = echoServer(loop);
        int n = 1000;
        List<Socket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                sockets.add(client(server.localAddress()));
            }
            for (int i = 0; i < n; i++) {
                sockets.get(i).getOutputStream().write(("hello " + i + "\n").getBytes(StandardCharsets.US_ASCII));
            }
            for (int i = 0; i < n; i++) {
                byte[] expect = ("hello " + i + "\n").getBytes(StandardCharsets.US_ASCII);
                assertThat(readFully(sockets.get(i).getInputStream(), expect.length)).isEqualTo(expect);
            }
            assertThat(statsWhen(loop, st -> st.connections() == n).connections()).isEqualTo(n);
        } finally {
            for (Socket s : sockets) {
                s.close();
            }
        }
        statsWhen(loop, st -> st.connections() == 0);
    }

    /**
     * A panamio client connects to {@code server}, writes {@code sent} in one write and reads until as many
     * bytes came back; the future holds them (or the first error), and the client closes.
     */
    static CompletableFuture<byte[]> echoedBack(EventLoop loop, TcpServer server, byte[] sent) {
        CompletableFuture<byte[]> echoed = new CompletableFuture<>();
        loop.execute(() -> loop.connect(server.localAddress(), Duration.ofSeconds(10), (conn, err) -> {
            if (err != null) {
                echoed.completeExceptionally(err);
                return;
            }
            java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
            conn.startReading(new ReadHandler() {
                @Override
                public void onData(TcpConnection c, Buffer data) {
                    got.writeBytes(data.toArray());
                    data.release();
                    if (got.size() >= sent.length) {
                        echoed.complete(got.toByteArray());
                        c.close();
                    }
                }

                @Override
                public void onError(TcpConnection c, Throwable error) {
                    echoed.completeExceptionally(error);
                    c.close();
                }
            });
            conn.write(sent, (v, e) -> {
                if (e != null) {
                    echoed.completeExceptionally(e);
                }
            });
        }));
        return echoed;
    }

    @Test
    void panamioClientTalksToPanamioServer() throws Exception {
        EventLoop loop = started(builder());
        TcpServer server = echoServer(loop);
        byte[] reply = echoedBack(loop, server, "hello".getBytes(StandardCharsets.UTF_8)).get(30, TimeUnit.SECONDS);
        assertThat(new String(reply, StandardCharsets.UTF_8)).isEqualTo("hello");
        statsWhen(loop, st -> st.connections() == 0);
    }

    @Test
    void aPanamioClientThatWrites32MebibytesAtOnceReadsTheWholeEchoBack() throws Exception {
        // The client queues 32 MiB in one write (more than loopback's kernel buffers hold), far above its write
        // high watermark, and reads the echo as it comes. The server (read backpressure on) pauses while the
        // client does not read; so the client must keep reading while its own writes are backed up, or both
        // would wait on each other until a deadline.
        EventLoop loop = started(builder());
        TcpServer server = echoServer(loop);
        byte[] sent = pattern(32 << 20);
        assertThat(echoedBack(loop, server, sent).get(TestTimes.patience().toMillis(), TimeUnit.MILLISECONDS)).isEqualTo(sent);
        statsWhen(loop, st -> st.connections() == 0);
    }

    @Test
    void ipv6Loopback() throws Exception {
        InetAddress v6;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getByName("::1"))) {
            v6 = probe.getInetAddress();
        } catch (IOException noIpv6) {
            org.junit.jupiter.api.Assumptions.abort("no IPv6 loopback on this machine: " + noIpv6);
            return;
        }
        EventLoop loop = started(builder());
        TcpServer server = onLoop(loop, () -> loop.listen(new InetSocketAddress(v6, 0),
                conn -> conn.startReading((c, data) -> c.write(data))));
        assertThat(server.localAddress().getAddress()).isEqualTo(v6);
        try (Socket s = client(server.localAddress())) {
            s.getOutputStream().write("six".getBytes(StandardCharsets.US_ASCII));
            assertThat(readFully(s.getInputStream(), 3)).isEqualTo("six".getBytes(StandardCharsets.US_ASCII));
        }
    }

    // ---------------------------------------------------------------------------------------------- EOF, errors

    @Test
    void halfCloseDeliversEofAndTheServerCanStillWrite() throws Exception {
        EventLoop loop = started(builder());
        TcpServer server = onLoop(loop, () -> loop.listen(ANY_LOCAL, conn -> {
            StringBuilder got = new StringBuilder();
            conn.startReading(new ReadHandler() {
                @Override
                public void onData(TcpConnection c, Buffer data) {
                    got.append(data.toString(StandardCharsets.US_ASCII));
                    data.release();
                }

                @Override
                public void onEof(TcpConnection c) {
                    c.write(("got " + got + " then EOF").getBytes(StandardCharsets.US_ASCII));
                    c.close(); // graceful: the write above still goes out
                }
            });
        }));
        try (Socket s = client(server.localAddress())) {
            s.getOutputStream().write("abc".getBytes(StandardCharsets.US_ASCII));
            s.shutdownOutput();
            assertThat(new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII))
                    .isEqualTo("got abc then EOF");
        }
    }

    @Test
    void shutdownOutputSendsFinAndKeepsReading() throws Exception {
        EventLoop loop = started(builder());
        CompletableFuture<String> afterFin = new CompletableFuture<>();
        TcpServer server = onLoop(loop, () -> loop.listen(ANY_LOCAL, conn -> {
            conn.write("bye".getBytes(StandardCharsets.US_ASCII));
            conn.shutdownOutput();
            conn.startReading((c, data) -> {
                afterFin.complete(data.toString(StandardCharsets.US_ASCII));
                data.release();
                c.close();
            });
        }));
        try (Socket s = client(server.localAddress())) {
            assertThat(new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII)).isEqualTo("bye");
            s.getOutputStream().write("still here".getBytes(StandardCharsets.US_ASCII));
            assertThat(afterFin.get(30, TimeUnit.SECONDS)).isEqualTo("still here");
        }
    }

    @Test
    void resetByPeerIsReportedByName() throws Exception {
        EventLoop loop = started(builder());
        CompletableFuture<Throwable> readError = new CompletableFuture<>();
        CountDownLatch accepted = new CountDownLatch(1);
        AtomicReference<TcpConnection> serverSide = new AtomicReference<>();
        TcpServer server = onLoop(loop, () -> loop.listen(ANY_LOCAL, conn -> {
            serverSide.set(conn);
            accepted.countDown();
            conn.startReading(new ReadHandler() {
                @Override
                public void onData(TcpConnection c, Buffer data) {
                    data.release();
                }

                @Override
                public void onEof(TcpConnection c) {
                    readError.complete(null);
                    c.close();
                }

                @Override
                public void onError(TcpConnection c, Throwable error) {
                    readError.complete(error);
                    c.close();
                }
            });
        }));
        Socket s = client(server.localAddress());
        assertThat(accepted.await(30, TimeUnit.SECONDS)).isTrue();
        s.setSoLinger(true, 0);
        s.close(); // RST
        Throwable e = readError.get(30, TimeUnit.SECONDS);
        assertThat(e).isInstanceOf(NativeIoException.class);
        assertThat(((NativeIoException) e).errorName()).isEqualTo(expectedResetName());
        assertThat(e.getMessage()).contains("read ", expectedResetName());
        statsWhen(loop, st -> st.connections() == 0);
    }

    String expectedResetName() {
        return dev.panamio.testing.TestBackends.errorName("ECONNRESET");
    }

    @Test
    void connectRefusedIsReportedByName() throws Exception {
        int closedPort;
        try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = ss.getLocalPort();
        }
        EventLoop loop = started(builder());
        CompletableFuture<Throwable> result = new CompletableFuture<>();
        InetSocketAddress target = new InetSocketAddress(InetAddress.getLoopbackAddress(), closedPort);
        loop.execute(() -> loop.connect(target, Duration.ofSeconds(10), (c, e) -> result.complete(e)));
        Throwable e = result.get(30, TimeUnit.SECONDS);
        assertThat(e).isInstanceOf(NativeIoException.class)
                .hasMessageContaining("connect 127.0.0.1:" + closedPort)
                .hasMessageContaining(dev.panamio.testing.TestBackends.errorName("ECONNREFUSED"));
        statsWhen(loop, st -> st.connections() == 0 && st.opsInKernel() == 0);
    }

    @Test
    void connectTimeoutAgainstAFullBacklog() throws Exception {
        // A listener that never accepts, with its backlog filled: further SYNs are dropped, so a connect
        // waits until its deadline.
        try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            List<Socket> fillers = new ArrayList<>();
            try {
                for (int i = 0; i < 8; i++) {
                    Socket f = new Socket();
                    try {
                        f.connect(ss.getLocalSocketAddress(), 200);
                        fillers.add(f);
                    } catch (IOException full) {
                        f.close();
                        break;
                    }
                }
                EventLoop loop = started(builder());
                CompletableFuture<Throwable> result = new CompletableFuture<>();
                loop.execute(() -> loop.connect((InetSocketAddress) ss.getLocalSocketAddress(),
                        Duration.ofMillis(300), (c, e) -> result.complete(e)));
                Throwable e = result.get(30, TimeUnit.SECONDS);
                assertThat(e).isInstanceOf(OperationTimeoutException.class).hasMessageContaining("connect");
                LoopStats st = statsWhen(loop, s -> s.connections() == 0 && s.opsInKernel() == 0);
                assertThat(st.timeouts()).isGreaterThanOrEqualTo(1);
            } finally {
                for (Socket f : fillers) {
                    f.close();
                }
            }
        }
    }

    @Test
    void listenOnABusyPortFailsWithEaddrinuse() throws Exception {
        try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            EventLoop loop = started(builder());
            InetSocketAddress busy = (InetSocketAddress) ss.getLocalSocketAddress();
            assertThatThrownBy(() -> onLoop(loop, () -> loop.listen(busy, c -> { })))
                    .hasCauseInstanceOf(NativeIoException.class)
                    .hasMessageContaining("bind 127.0.0.1:" + busy.getPort())
                    .hasMessageContaining(dev.panamio.testing.TestBackends.errorName("EADDRINUSE"));
        }
    }

    // ---------------------------------------------------------------------------------------------- timeouts

    @Test
    void readTimeoutReclaimsTheBufferAndReportsTheTimeout() throws Exception {
        EventLoop loop = started(builder().readTimeout(Duration.ofMillis(200)));
        CompletableFuture<Throwable> error = new CompletableFuture<>();
        TcpServer server = onLoop(loop, () -> loop.listen(ANY_LOCAL, conn -> conn.startReading(new ReadHandler() {
            @Override
            public void onData(TcpConnection c, Buffer data) {
                data.release();
            }

            @Override
            public void onError(TcpConnection c, Throwable e) {
                error.complete(e);
                c.close();
            }
        })));
        try (Socket s = client(server.localAddress())) {
            Throwable e = error.get(30, TimeUnit.SECONDS);
            assertThat(e).isInstanceOf(OperationTimeoutException.class).hasMessageContaining("read");
            assertThat(s.getInputStream().read()).as("server closed after the timeout").isEqualTo(-1);
        }
        LoopStats st = statsWhen(loop, x -> x.connections() == 0);
        assertThat(st.lentBytes()).isEqualTo(backendRingBytes(st));
        assertThat(st.timeouts()).isGreaterThanOrEqualTo(1);
    }

    @Test
    void aContinuousReadsTimeoutCountsFromItsLatestData() throws Exception {
        // Data every 300 ms for ~4 s against a 3-s read timeout: no timeout while it flows (a read kept in the
        // kernel across arrivals, io_uring's multishot receive, must restart its deadline on each), then one
        // timeout once the peer goes quiet.
        EventLoop loop = started(builder().readTimeout(Duration.ofSeconds(3)));
        AtomicInteger received = new AtomicInteger();
        CompletableFuture<Integer> timedOutAfter = new CompletableFuture<>();
        TcpServer server = onLoop(loop, () -> loop.listen(ANY_LOCAL, conn -> conn.startReading(new ReadHandler() {
            @Override
            public void onData(TcpConnection c, Buffer data) {
                received.addAndGet(data.length());
                data.release();
            }

            @Override
            public void onError(TcpConnection c, Throwable e) {
                timedOutAfter.complete(e instanceof OperationTimeoutException ? received.get() : -1);
                c.close();
            }
        })));
        int sends = 14;
        try (Socket s = client(server.localAddress())) {
            OutputStream out = s.getOutputStream();
            for (int i = 0; i < sends; i++) {
                out.write('x');
                out.flush();
                Thread.sleep(300);
            }
            assertThat(timedOutAfter).as("no timeout while data arrives").isNotDone();
            assertThat(timedOutAfter.get(30, TimeUnit.SECONDS)).as("bytes received before the timeout").isEqualTo(sends);
        }
        statsWhen(loop, x -> x.connections() == 0);
    }

    @Test
    void stoppingAndRestartingAReadWhileDataStreamsLosesAndReordersNothing() throws Exception {
        // The peer streams a byte pattern and closes; the reader stops after every few chunks and starts again
        // on the next tick. Data the kernel hands over in between (several chunks, where a receive stays in the
        // kernel) is kept and delivered first, in order, and the EOF only after all of it.
        EventLoop loop = started(builder());
        int total = 4 << 20;
        AtomicInteger position = new AtomicInteger();
        AtomicInteger pauses = new AtomicInteger();
        CompletableFuture<String> done = new CompletableFuture<>();
        TcpServer server = onLoop(loop, () -> loop.listen(ANY_LOCAL, conn -> conn.startReading(new ReadHandler() {
            int chunks;

            @Override
            public void onData(TcpConnection c, Buffer data) {
                int p = position.get();
                for (int i = 0; i < data.length(); i++) {
                    if (data.get(i) != (byte) ((p + i) % 251)) {
                        done.complete("byte " + (p + i) + " out of order");
                        break;
                    }
                }
                position.set(p + data.length());
                data.release();
                if (++chunks % 3 == 0) {
                    pauses.incrementAndGet();
                    c.stopReading();
                    ReadHandler self = this;
                    loop.setImmediate(() -> c.startReading(self));
                }
            }

            @Override
            public void onEof(TcpConnection c) {
                done.complete(position.get() == total ? "ok" : "EOF at " + position.get());
                c.close();
            }

            @Override
            public void onError(TcpConnection c, Throwable e) {
                done.complete(e.toString());
                c.close();
            }
        })));
        try (Socket s = client(server.localAddress())) {
            byte[] chunk = new byte[1000];
            OutputStream out = s.getOutputStream();
            for (int sent = 0; sent < total; ) {
                int n = Math.min(chunk.length, total - sent);
                for (int i = 0; i < n; i++) {
                    chunk[i] = (byte) ((sent + i) % 251);
                }
                out.write(chunk, 0, n);
                sent += n;
            }
            s.shutdownOutput(); // the EOF follows the data closely: it must wait behind any kept data
            assertThat(done.get(60, TimeUnit.SECONDS)).isEqualTo("ok");
            assertThat(position.get()).isEqualTo(total);
            assertThat(pauses.get()).as("reads stopped and restarted").isGreaterThan(10);
        }
        statsWhen(loop, x -> x.connections() == 0);
    }

    /** Bytes a backend lends for good (an io_uring buffer ring); 0 for epoll. */
    static long backendRingBytes(LoopStats st) {
        return st.ringBytes();
    }

    @Test
    void oneShotReadWithItsOwnTimeout() throws Exception {
        EventLoop loop = started(builder());
        CompletableFuture<Object> outcome = new CompletableFuture<>();
        TcpServer server = onLoop(loop, () -> loop.listen(ANY_LOCAL, conn -> conn.read(Duration.ofMillis(100),
                new ReadHandler() {
                    @Override
                    public void onData(TcpConnection c, Buffer data) {
                        outcome.complete(data.toString(StandardCharsets.US_ASCII));
                        data.release();
                    }

                    @Override
                    public void onError(TcpConnection c, Throwable e) {
                        outcome.complete(e);
                        c.close();
                    }
                })));
        try (Socket s = client(server.localAddress())) {
            assertThat(outcome.get(30, TimeUnit.SECONDS)).isInstanceOf(OperationTimeoutException.class);
        }
    }

    // ---------------------------------------------------------------------------------------------- memory

    @Test
    void idleConnectionsHoldNoBuffer() throws Exception {
        EventLoop loop = started(builder());
        TcpServer server = echoServer(loop);
        int n = 2000;
        List<Socket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                sockets.add(client(server.localAddress()));
            }
            LoopStats st = statsWhen(loop, x -> x.connections() == n);
            System.out.printf("[%s] %d idle connections: lentBytes=%d leasedBytes=%d nativeBytes=%d opsInKernel=%d%n",
                    backend(), n, st.lentBytes(), st.leasedBytes(), st.nativeBytes(), st.opsInKernel());
            assertThat(st.lentBytes()).isEqualTo(backendRingBytes(st));
            assertThat(st.leasedBytes()).isZero();
        } finally {
            for (Socket s : sockets) {
                s.close();
            }
        }
        statsWhen(loop, x -> x.connections() == 0);
    }

    @Test
    void anEchoWhosePeerDoesNotReadHoldsMemoryInProportionToItsBacklog() throws Exception {
        // A peer sends 1,500 messages of 40 bytes in bursts, so they arrive in many small reads, and reads
        // nothing back. The zero-copy echo queues each read's lease; once writes wait, a small lease is copied
        // behind them and its 16-KiB buffer freed at once, so what the echo holds follows the backlog's bytes
        // (one buffer per read would be hundreds of buffers for these 60 KB).
        EventLoop loop = started(builder().writeTimeout(Timeout.NONE));
        CompletableFuture<TcpConnection> accepted = new CompletableFuture<>();
        java.util.concurrent.atomic.AtomicLong received = new java.util.concurrent.atomic.AtomicLong();
        java.util.concurrent.atomic.AtomicInteger reads = new java.util.concurrent.atomic.AtomicInteger();
        TcpServer server = onLoop(loop, () -> loop.listen(ANY_LOCAL, SMALL_SEND_BUFFER, conn -> {
            accepted.complete(conn);
            conn.startReading((c, data) -> {
                received.addAndGet(data.length());
                reads.incrementAndGet();
                c.write(data);
            });
        }));
        int messages = 1_500;
        try (Socket s = new Socket()) {
            // A small receive buffer, so the echo backs up soon; a send buffer that takes every message at
            // once, so the peer never blocks in write (a writer blocked on a full loopback socket can lose the
            // ACKs it waits for, and its data then crawls through retransmission timeouts).
            s.setReceiveBufferSize(4096);
            s.setSendBufferSize(1 << 20);
            s.setTcpNoDelay(true);
            s.connect(server.localAddress(), (int) TestTimes.patience().toMillis());
            TcpConnection c = accepted.get(30, TimeUnit.SECONDS);
            OutputStream out = s.getOutputStream();
            byte[] message = new byte[40];
            for (int i = 0; i < messages; i++) {
                out.write(message);
                if (i % 5 == 4) {
                    Thread.sleep(1);
                }
            }
            long deadline = System.nanoTime() + TestTimes.patience().toNanos();
            while (received.get() < messages * 40L && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(received.get()).isEqualTo(messages * 40L);
            LoopStats st = onLoop(loop, loop::stats);
            long queued = onLoop(loop, c::queuedBytes);
            long held = st.leasedBytes() + st.lentBytes() - backendRingBytes(st);
            int size = loop.bufferSize();
            System.out.printf("[%s] echo backlog: %d reads, %d bytes queued, %d bytes of buffers held%n",
                    backend(), reads.get(), queued, held);
            if (backend() != Backend.IOCP) {
                // The scenario's preconditions, as Linux's socket buffers produce them. Windows can buffer a
                // whole overlapped send in the kernel beyond SO_SNDBUF, so less may wait in user space there;
                // the bound below holds either way.
                assertThat(reads.get()).as("reads (the test needs many small ones)").isGreaterThan(50);
                assertThat(queued).as("bytes queued (the peer reads nothing)").isGreaterThan(10_000);
            }
            assertThat(held).as("buffer bytes held for %d queued bytes", queued).isLessThanOrEqualTo((queued / size + 4) * size);
        }
    }

    @Test
    void theMemoryOfABurstGoesBackAfterItWhileTheLoopRunsOn() throws Exception {
        // 16 MiB queued to a peer that reads only later grows the pool by that much; once the peer has read it
        // all and the connection is idle (still open, the loop running), the pool goes back to what it
        // retains, and so do the loop's native bytes.
        EventLoop loop = started(builder().writeTimeout(Timeout.NONE));
        CompletableFuture<TcpConnection> accepted = new CompletableFuture<>();
        TcpServer server = onLoop(loop, () -> loop.listen(ANY_LOCAL, conn -> accepted.complete(conn)));
        int total = 16 << 20;
        byte[] data = pattern(total);
        try (Socket s = new Socket()) {
            s.connect(server.localAddress(), (int) TestTimes.patience().toMillis());
            TcpConnection c = accepted.get(30, TimeUnit.SECONDS);
            LoopStats before = onLoop(loop, loop::stats);
            onLoop(loop, () -> { c.write(data); return null; });
            LoopStats burst = onLoop(loop, loop::stats);
            long burstPool = poolBytes(burst);
            assertThat(burstPool - poolBytes(before)).as("pool growth for the queued burst").isGreaterThanOrEqualTo(total / 2);

            byte[] got = s.getInputStream().readNBytes(total);
            assertThat(got).as("the burst, in order").isEqualTo(data);

            long retained = 4L << 20;
            long slab = 64L * loop.bufferSize();
            long deadline = System.nanoTime() + TestTimes.patience().toNanos();
            LoopStats after = onLoop(loop, loop::stats);
            while (poolBytes(after) > Math.max(retained, after.ringBytes() + slab) + slab && System.nanoTime() < deadline) {
                Thread.sleep(50);
                after = onLoop(loop, loop::stats);
            }
            System.out.printf("[%s] pool %d -> %d -> %d bytes, native %d -> %d -> %d bytes%n", backend(),
                    poolBytes(before), burstPool, poolBytes(after), before.nativeBytes(), burst.nativeBytes(), after.nativeBytes());
            assertThat(poolBytes(after)).as("pool bytes after the burst").isLessThanOrEqualTo(Math.max(retained, after.ringBytes() + slab) + slab);
            assertThat(burst.nativeBytes() - after.nativeBytes()).as("native bytes given back").isGreaterThanOrEqualTo(total / 2);
            assertThat(onLoop(loop, c::isClosed)).isFalse();
            // The connection works on with the smaller pool.
            byte[] more = pattern(3 * loop.bufferSize());
            onLoop(loop, () -> { c.write(more); return null; });
            assertThat(s.getInputStream().readNBytes(more.length)).isEqualTo(more);
        }
    }

    private static long poolBytes(LoopStats st) {
        return st.lentBytes() + st.leasedBytes() + st.freeBytes();
    }

    /** A peer that writes {@code total} patterned bytes and reads nothing until told; its writes never block on its own buffers. */
    static Socket floodingPeer(InetSocketAddress server) throws IOException {
        Socket s = new Socket();
        s.setReceiveBufferSize(4096);
        s.setSendBufferSize(1 << 20);
        s.setTcpNoDelay(true);
        s.connect(server, (int) TestTimes.patience().toMillis());
        s.setSoTimeout((int) TestTimes.patience().toMillis());
        return s;
    }

    static byte[] pattern(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i % 253);
        }
        return b;
    }

    /** An echo server (zero copy) that adds the bytes it reads to {@code received} and hands each connection to {@code accepted}. */
    static TcpServer countingEcho(EventLoop loop, TcpOptions options, java.util.concurrent.atomic.AtomicLong received,
                                  Consumer<TcpConnection> accepted) throws Exception {
        return onLoop(loop, () -> loop.listen(ANY_LOCAL, options, conn -> {
            accepted.accept(conn);
            conn.startReading((c, data) -> {
                received.addAndGet(data.length());
                c.write(data);
            });
        }));
    }

    /** Waits (with the tests' patience) until {@code counter} reaches {@code n}; returns its value. */
    static long awaitCount(java.util.concurrent.atomic.AtomicLong counter, long n) throws InterruptedException {
        long deadline = System.nanoTime() + TestTimes.patience().toNanos();
        while (counter.get() < n && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        return counter.get();
    }

    /** Waits until {@code counter} has not moved for 300 ms; returns its value. */
    static long whenSettled(java.util.concurrent.atomic.AtomicLong counter) throws InterruptedException {
        long deadline = System.nanoTime() + TestTimes.patience().toNanos();
        long last = -1;
        while (System.nanoTime() < deadline) {
            long now = counter.get();
            if (now == last) {
                return now;
            }
            last = now;
            Thread.sleep(300);
        }
        throw new AssertionError("never settled: " + counter.get());
    }

    @Test
    void anEchoPausesReadingWhileItsPeerDoesNotReadAndLosesNothing() throws Exception {
        // The peer sends 300 KB and reads nothing: the echo's queued writes reach the high watermark (64 KiB)
        // and its read pauses, so it takes in little more than that while the rest waits in the kernel's
        // buffers. Then the peer reads: the echo resumes and every byte comes back, in order.
        EventLoop loop = started(builder().writeTimeout(Timeout.NONE));
        CompletableFuture<TcpConnection> accepted = new CompletableFuture<>();
        java.util.concurrent.atomic.AtomicLong received = new java.util.concurrent.atomic.AtomicLong();
        TcpServer server = countingEcho(loop, SMALL_SEND_BUFFER, received, accepted::complete);
        byte[] sent = pattern(300_000);
        try (Socket s = floodingPeer(server.localAddress())) {
            TcpConnection c = accepted.get(30, TimeUnit.SECONDS);
            s.getOutputStream().write(sent);
            long taken = whenSettled(received);
            long queued = onLoop(loop, c::queuedBytes);
            System.out.printf("[%s] read backpressure: %d of %d bytes read while the peer reads nothing; %d queued%n",
                    backend(), taken, sent.length, queued);
            assertThat(queued).as("bytes queued").isLessThanOrEqualTo(64 * 1024 + loop.bufferSize());
            if (backend() != Backend.IOCP) {
                // On Linux the kernel takes at most its send buffer; Windows can buffer a whole overlapped send
                // (up to an op's worth) beyond it, so the echo may read more there before its queue backs up.
                assertThat(onLoop(loop, c::isWritable)).isFalse();
                assertThat(taken).as("bytes the echo read").isLessThan(200_000);
            }
            assertThat(readFully(s.getInputStream(), sent.length)).isEqualTo(sent);
            assertThat(received.get()).isEqualTo(sent.length);
        }
    }

    @Test
    void aPausedReadGoesOnWhenTheWritesItWaitsForFail() throws Exception {
        // As above, but the peer never reads: the echo's writes time out (1 s), the queue empties by failing,
        // and the read goes on, so the echo still reads everything the peer sent (its writes are refused).
        EventLoop loop = started(builder().writeTimeout(Duration.ofSeconds(1)).errorHandler(e -> { }));
        java.util.concurrent.atomic.AtomicLong received = new java.util.concurrent.atomic.AtomicLong();
        TcpServer server = countingEcho(loop, SMALL_SEND_BUFFER, received, c -> { });
        byte[] sent = pattern(300_000);
        try (Socket s = floodingPeer(server.localAddress())) {
            s.getOutputStream().write(sent);
            assertThat(awaitCount(received, sent.length)).as("bytes the echo read though its peer never read").isEqualTo(sent.length);
        }
    }

    @Test
    void withoutReadBackpressureAnEchoReadsOnWhileItsPeerDoesNotRead() throws Exception {
        // The option's off switch: the echo takes in everything and queues it (the application decides).
        EventLoop loop = started(builder().writeTimeout(Timeout.NONE));
        java.util.concurrent.atomic.AtomicLong received = new java.util.concurrent.atomic.AtomicLong();
        TcpServer server = countingEcho(loop, SMALL_SEND_BUFFER.withReadBackpressure(false), received, c -> { });
        byte[] sent = pattern(300_000);
        try (Socket s = floodingPeer(server.localAddress())) {
            s.getOutputStream().write(sent);
            assertThat(awaitCount(received, sent.length)).isEqualTo(sent.length);
            assertThat(readFully(s.getInputStream(), sent.length)).isEqualTo(sent);
        }
    }

    @Test
    void releasedLeaseThrowsAndNeverReadsRecycledMemory() throws Exception {
        EventLoop loop = started(builder());
        CompletableFuture<List<Throwable>> result = new CompletableFuture<>();
        TcpServer server = onLoop(loop, () -> loop.listen(ANY_LOCAL, conn -> conn.startReading((c, data) -> {
            List<Throwable> errors = new ArrayList<>();
            var view = data.segment();
            data.release();
            for (Runnable r : List.<Runnable>of(
                    () -> view.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0),
                    () -> data.get(0),
                    data::length,
                    data::toArray,
                    data::segment,
                    () -> c.write(data))) {
                try {
                    r.run();
                } catch (Throwable t) {
                    errors.add(t);
                }
            }
            data.release(); // idempotent
            result.complete(errors);
            c.close();
        })));
        try (Socket s = client(server.localAddress())) {
            s.getOutputStream().write(1);
            List<Throwable> errors = result.get(30, TimeUnit.SECONDS);
            assertThat(errors).hasSize(6).allSatisfy(e -> assertThat(e).isInstanceOf(IllegalStateException.class));
        }
    }

    @Test
    void reusedLeasesServeTheNextReadAndNeverTouchAKeptLease() throws Exception {
        // With reuseLeases, the lease object a handler ended serves the connection's next read (so reading
        // allocates no lease object; the benchmarks measure the heap bytes); a lease the handler keeps is
        // never reused: its bytes stay its own while later reads arrive. Without it, every read has its own.
        assertThat(leaseObjects(true)).satisfies(l -> {
            assertThat(l.get(1)).as("an ended lease's object serves the next read").isSameAs(l.get(2));
            assertThat(l.get(0)).as("a kept lease is not reused").isNotSameAs(l.get(1));
        });
        assertThat(leaseObjects(false)).satisfies(l -> assertThat(l.get(1)).isNotSameAs(l.get(2)));
    }

    /** The lease objects of three reads whose handler keeps the first lease and releases the others. */
    private List<Buffer> leaseObjects(boolean reuse) throws Exception {
        EventLoop loop = started(builder().reuseLeases(reuse));
        List<Buffer> leases = new CopyOnWriteArrayList<>();
        CompletableFuture<String> kept = new CompletableFuture<>();
        TcpServer server = onLoop(loop, () -> loop.listen(ANY_LOCAL, conn -> conn.startReading((c, data) -> {
            leases.add(data);
            if (leases.size() > 1) {
                data.release();
            }
            if (leases.size() == 3) {
                kept.complete(leases.getFirst().toString(StandardCharsets.US_ASCII));
            }
        })));
        try (Socket s = client(server.localAddress())) {
            for (String m : List.of("first", "second", "third")) {
                int n = leases.size() + 1; // counted before writing: the read may land before the next line
                s.getOutputStream().write(m.getBytes(StandardCharsets.US_ASCII));
                long deadline = System.nanoTime() + TestTimes.patience().toNanos();
                while (leases.size() < n && System.nanoTime() < deadline) {
                    Thread.sleep(5);
                }
            }
            assertThat(kept.get(30, TimeUnit.SECONDS)).isEqualTo("first");
            onLoop(loop, () -> {
                leases.getFirst().release();
                return null;
            });
            return leases;
        }
    }

    @Test
    void aWriteCallbackThatWritesAgainNeverResendsBytesAlreadyWritten() throws Exception {
        // X goes out alone; A and B then leave together in one gather send. When that send completes, A's
        // callback writes C while B's bytes are not yet accounted for: C must follow B, and B go out once.
        EventLoop loop = started(builder());
        CompletableFuture<TcpConnection> accepted = new CompletableFuture<>();
        TcpServer server = onLoop(loop, () -> loop.listen(ANY_LOCAL, accepted::complete));
        byte[] x = new byte[64 * 1024];
        Arrays.fill(x, (byte) 'x');
        byte[] a = "A".repeat(100).getBytes(StandardCharsets.US_ASCII);
        byte[] b = "B".repeat(100).getBytes(StandardCharsets.US_ASCII);
        byte[] c = "C".repeat(100).getBytes(StandardCharsets.US_ASCII);
        try (Socket s = client(server.localAddress())) {
            TcpConnection conn = accepted.get(30, TimeUnit.SECONDS);
            onLoop(loop, () -> {
                conn.write(x, null);
                conn.write(a, (v, e) -> conn.write(c, null));
                conn.write(b, null);
                return null;
            });
            byte[] expected = new byte[x.length + 300];
            System.arraycopy(x, 0, expected, 0, x.length);
            System.arraycopy(a, 0, expected, x.length, 100);
            System.arraycopy(b, 0, expected, x.length + 100, 100);
            System.arraycopy(c, 0, expected, x.length + 200, 100);
            assertThat(readFully(s.getInputStream(), expected.length)).isEqualTo(expected);
            s.setSoTimeout(300);
            assertThatThrownBy(() -> s.getInputStream().read()).as("nothing more").isInstanceOf(java.net.SocketTimeoutException.class);
        }
    }

    @Test
    void smallCopyingWritesShareBuffersAndKeepTheirOrderAndCallbacks() throws Exception {
        // 6,000 small copying writes (lines of 11 bytes, every 500th with a callback, a lease written as is
        // after line 3,000) to a peer that does not read yet. Copies go to the end of the last queued copy
        // while it has room, so the queue holds ~66 KB in ~20 buffers of 4 KiB, not one buffer per write;
        // then the peer reads, and every byte must arrive once and in order, each callback after its bytes.
        EventLoop loop = started(builder().bufferSize(4096).writeTimeout(Timeout.NONE));
        CompletableFuture<TcpConnection> accepted = new CompletableFuture<>();
        TcpServer server = onLoop(loop, () -> loop.listen(ANY_LOCAL, SMALL_SEND_BUFFER, accepted::complete));
        int lines = 6_000;
        byte[] lease = "<lease written as is>\n".getBytes(StandardCharsets.US_ASCII);
        java.io.ByteArrayOutputStream expected = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < lines; i++) {
            expected.writeBytes(String.format("line %05d\n", i).getBytes(StandardCharsets.US_ASCII));
            if (i == lines / 2) {
                expected.writeBytes(lease);
            }
        }
        List<Integer> callbacks = new CopyOnWriteArrayList<>();
        List<Long> queuedWhenCalled = new CopyOnWriteArrayList<>();
        try (Socket s = client(server.localAddress())) {
            s.setReceiveBufferSize(4096);
            TcpConnection c = accepted.get(30, TimeUnit.SECONDS);
            LoopStats queued = onLoop(loop, () -> {
                for (int i = 0; i < lines; i++) {
                    byte[] line = String.format("line %05d\n", i).getBytes(StandardCharsets.US_ASCII);
                    if (i % 500 == 499) {
                        int n = i;
                        c.write(line, (v, e) -> {
                            callbacks.add(e == null ? n : -1);
                            queuedWhenCalled.add(c.queuedBytes());
                        });
                    } else {
                        c.write(line);
                    }
                    if (i == lines / 2) {
                        c.write(loop.allocateBuffer().append(lease));
                    }
                }
                return loop.stats();
            });
            long held = queued.leasedBytes() + queued.lentBytes() - backendRingBytes(queued);
            // ~66 KB is 17 full buffers; the lease, the buffer after it and a first send that took one line
            // alone (io_uring submits at once) leave a few part-filled. One buffer per write would be 6,000.
            assertThat(held).as("native bytes the queued writes hold").isLessThanOrEqualTo(24L * 4096);
            assertThat(queued.opsQueued()).as("queued write buffers").isLessThanOrEqualTo(24);
            byte[] want = expected.toByteArray();
            byte[] got = new byte[want.length];
            InputStream in = s.getInputStream();
            int off = 0;
            while (off < got.length) {
                int n = in.read(got, off, Math.min(997, got.length - off));
                assertThat(n).as("bytes before EOF").isPositive();
                off += n;
            }
            assertThat(new String(got, StandardCharsets.US_ASCII)).isEqualTo(new String(want, StandardCharsets.US_ASCII));
            long deadline = System.nanoTime() + TestTimes.patience().toNanos();
            while (callbacks.size() < lines / 500 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            List<Integer> order = new ArrayList<>();
            for (int i = 499; i < lines; i += 500) {
                order.add(i);
            }
            assertThat(callbacks).as("callbacks, in write order").isEqualTo(order);
            for (int k = 0; k < order.size(); k++) {
                int line = order.get(k);
                long end = 11L * (line + 1) + (line >= lines / 2 ? lease.length : 0);
                // A callback runs once its write's bytes are written: at most the bytes after them still wait.
                assertThat(queuedWhenCalled.get(k)).as("bytes queued when line %d's callback ran", line).isLessThanOrEqualTo(want.length - end);
            }
            s.setSoTimeout(300);
            assertThatThrownBy(() -> s.getInputStream().read()).as("nothing more").isInstanceOf(java.net.SocketTimeoutException.class);
        }
    }

    @Test
    void theCallbacksOfEmptyWritesRunInWriteOrderToo() throws Exception {
        // An empty write has no bytes to wait for, but its callback still runs after those of earlier writes
        // and before those of later ones, even when the later ones' bytes leave at once (epoll sends them
        // inline, when the task that wrote them returns). Found by the randomized test below (seed
        // 7150177698816945461): an empty write's callback went to the next tick, behind later callbacks.
        EventLoop loop = started(builder());
        CompletableFuture<TcpConnection> accepted = new CompletableFuture<>();
        TcpServer server = onLoop(loop, () -> loop.listen(ANY_LOCAL, accepted::complete));
        try (Socket s = client(server.localAddress())) {
            TcpConnection c = accepted.get(30, TimeUnit.SECONDS);
            List<String> order = new CopyOnWriteArrayList<>();
            CompletableFuture<Void> done = new CompletableFuture<>();
            onLoop(loop, () -> {
                c.write(new byte[0], (v, e) -> order.add("empty bytes" + (e == null ? "" : " " + e)));
                c.write("ab".getBytes(StandardCharsets.US_ASCII), (v, e) -> order.add("ab" + (e == null ? "" : " " + e)));
                c.write(List.of(), (v, e) -> order.add("empty list" + (e == null ? "" : " " + e)));
                c.write(java.nio.ByteBuffer.allocate(0), (v, e) -> order.add("empty buffer" + (e == null ? "" : " " + e)));
                c.write("cd".getBytes(StandardCharsets.US_ASCII), (v, e) -> {
                    order.add("cd" + (e == null ? "" : " " + e));
                    done.complete(null);
                });
                return null;
            });
            done.get(30, TimeUnit.SECONDS);
            assertThat(new String(s.getInputStream().readNBytes(4), StandardCharsets.US_ASCII)).isEqualTo("abcd");
            assertThat(order).containsExactly("empty bytes", "ab", "empty list", "empty buffer", "cd");
            // Empty writes on an idle connection still complete, once each.
            CompletableFuture<Integer> idle = new CompletableFuture<>();
            java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
            onLoop(loop, () -> {
                c.write(new byte[0], (v, e) -> calls.incrementAndGet());
                c.write(List.of(), (v, e) -> loop.setTimeout(Duration.ofMillis(50), () -> idle.complete(calls.incrementAndGet())));
                return null;
            });
            assertThat(idle.get(30, TimeUnit.SECONDS)).isEqualTo(2);
        }
    }

    @Test
    void anEmptyWriteAfterAFailedOneFailsOnce() throws Exception {
        // The peer resets; the server writes until a write fails, then writes an empty list: its callback
        // gets the connection's write error, once (it used to get the error and then a success).
        EventLoop loop = started(builder());
        CompletableFuture<TcpConnection> accepted = new CompletableFuture<>();
        TcpServer server = onLoop(loop, () -> loop.listen(ANY_LOCAL, accepted::complete));
        Socket s = client(server.localAddress());
        TcpConnection c = accepted.get(30, TimeUnit.SECONDS);
        s.setSoLinger(true, 0);
        s.close(); // RST
        List<String> calls = new CopyOnWriteArrayList<>();
        CompletableFuture<Void> settled = new CompletableFuture<>();
        Runnable[] attempt = new Runnable[1];
        attempt[0] = () -> c.write(new byte[1000], (v, e) -> {
            if (e == null) {
                loop.setTimeout(Duration.ofMillis(10), attempt[0]); // the reset may take a write to be seen
                return;
            }
            c.write(List.of(), (v2, e2) -> calls.add(e2 == null ? "success" : e2.getClass().getSimpleName()));
            loop.setTimeout(Duration.ofMillis(300), () -> settled.complete(null));
        });
        onLoop(loop, () -> {
            attempt[0].run();
            return null;
        });
        settled.get(30, TimeUnit.SECONDS);
        assertThat(calls).hasSize(1).doesNotContain("success");
        onLoop(loop, () -> {
            c.close();
            return null;
        });
        statsWhen(loop, x -> x.connections() == 0);
    }

    @Test
    void writesOfEveryKindAndSizeArriveInOrderWithTheirCallbacksInOrder() throws Exception {
        // 4,000 writes, in batches from loop tasks while the peer reads (so sends are in flight as more
        // writes queue): copies from byte[], ByteBuffer and MemorySegment of 0 bytes to 40 KB, leases and
        // lists of leases written as they are; a third with callbacks. The bytes are a running counter: the
        // peer checks every one; each callback must run in write order, once, after its own bytes left.
        long seed = new Random().nextLong();
        Random r = new Random(seed);
        EventLoop loop = started(builder().bufferSize(4096).writeTimeout(Timeout.NONE));
        CompletableFuture<TcpConnection> accepted = new CompletableFuture<>();
        // A kernel send buffer of 128 KiB: the writer outruns it, so sends wait for room while more writes queue
        // (a smaller one meets delayed ACKs on loopback, whose segments are 64 KiB, and crawls).
        TcpServer server = onLoop(loop, () -> loop.listen(ANY_LOCAL, TcpOptions.defaults().withSocketBuffers(65_536, 0), accepted::complete));
        List<Long> callbackEnds = new CopyOnWriteArrayList<>();
        List<String> violations = new CopyOnWriteArrayList<>();
        long[] total = new long[1];
        try (Socket s = client(server.localAddress())) {
            TcpConnection c = accepted.get(30, TimeUnit.SECONDS);
            CompletableFuture<Long> all = new CompletableFuture<>();
            Thread writer = new Thread(() -> {
                try {
                    for (int batch = 0; batch < 200; batch++) {
                        onLoop(loop, () -> {
                            for (int i = 0; i < 20; i++) {
                                writeRandom(loop, c, r, total, callbackEnds, violations);
                            }
                            return null;
                        });
                    }
                    all.complete(total[0]);
                } catch (Throwable e) {
                    all.completeExceptionally(e);
                }
            });
            writer.start();
            InputStream in = s.getInputStream();
            byte[] chunk = new byte[16_384];
            long read = 0;
            // The writer's total is known only once it is done, possibly after the last byte arrived here: the
            // reader waits in short slices and looks again, within the tests' patience.
            s.setSoTimeout(200);
            long readDeadline = System.nanoTime() + TestTimes.patience().toNanos();
            while (!all.isDone() || read < all.get()) {
                assertThat(System.nanoTime()).as("all bytes in time (read %d, seed %d)", read, seed).isLessThan(readDeadline);
                int n;
                try {
                    n = in.read(chunk, 0, (int) Math.min(chunk.length, Math.max(1, (all.isDone() ? all.get() : Long.MAX_VALUE) - read)));
                } catch (java.net.SocketTimeoutException quiet) {
                    continue;
                }
                assertThat(n).as("bytes before EOF (seed %d)", seed).isPositive();
                for (int i = 0; i < n; i++) {
                    if (chunk[i] != (byte) ((read + i) % 251)) {
                        throw new AssertionError("byte " + (read + i) + " is " + chunk[i] + ", want " + (read + i) % 251 + " (seed " + seed + ")");
                    }
                }
                read += n;
            }
            writer.join(TestTimes.patience().toMillis());
            assertThat(read).isEqualTo(all.get());
            long deadline = System.nanoTime() + TestTimes.patience().toNanos();
            while (onLoop(loop, () -> c.queuedBytes()) > 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(violations).as("seed %d", seed).isEmpty();
            for (int k = 1; k < callbackEnds.size(); k++) {
                assertThat(callbackEnds.get(k)).as("callback %d ran in write order (seed %d)", k, seed).isGreaterThanOrEqualTo(callbackEnds.get(k - 1));
            }
            assertThat(callbackEnds).as("callbacks run (seed %d)", seed).isNotEmpty();
            assertThat(callbackEnds.getLast()).isLessThanOrEqualTo(read);
            s.setSoTimeout(300);
            assertThatThrownBy(() -> s.getInputStream().read()).as("nothing more").isInstanceOf(java.net.SocketTimeoutException.class);
        }
    }

    /** One random write continuing the running counter; its callback checks that its bytes have left the queue. */
    private static void writeRandom(EventLoop loop, TcpConnection c, Random r, long[] total, List<Long> callbackEnds,
                                    List<String> violations) {
        int pick = r.nextInt(10);
        int size = pick < 4 ? r.nextInt(65) : pick < 8 ? r.nextInt(5000) : r.nextInt(40_000);
        long start = total[0];
        long end = start + size;
        Callback<Void> cb = r.nextInt(3) != 0 ? null : (v, e) -> {
            if (e != null) {
                violations.add("write ending at " + end + " failed: " + e);
            }
            // Every byte queued after this write's end may still wait, none before it.
            long queuedTotal = total[0];
            if (c.queuedBytes() > queuedTotal - end) {
                violations.add("callback of the write ending at " + end + " ran with " + c.queuedBytes()
                        + " bytes queued, more than the " + (queuedTotal - end) + " written after it");
            }
            callbackEnds.add(end);
        };
        byte[] bytes = new byte[size];
        for (int i = 0; i < size; i++) {
            bytes[i] = (byte) ((start + i) % 251);
        }
        total[0] = end;
        int kind = r.nextInt(5);
        if (kind == 3 && size > 0 && size <= loop.bufferSize()) {
            c.write(loop.allocateBuffer().append(bytes), cb);
        } else if (kind == 4 && size > 1 && size <= loop.bufferSize()) {
            int cut = 1 + r.nextInt(size - 1);
            c.write(List.of(loop.allocateBuffer().append(Arrays.copyOfRange(bytes, 0, cut)),
                    loop.allocateBuffer().append(Arrays.copyOfRange(bytes, cut, size))), cb);
        } else if (kind == 1) {
            c.write(java.nio.ByteBuffer.wrap(bytes), cb);
        } else if (kind == 2) {
            java.lang.foreign.MemorySegment seg = java.lang.foreign.Arena.ofAuto().allocate(Math.max(1, size)).asSlice(0, size);
            seg.copyFrom(java.lang.foreign.MemorySegment.ofArray(bytes));
            c.write(seg, cb);
        } else {
            c.write(bytes, cb);
        }
    }

    @Test
    void aTimerSetByAReadHandlerAfterALongWaitCountsFromTheRead() throws Exception {
        // The loop blocks in the kernel for most of a second (no timer is due); then data arrives and its
        // handler sets a 400 ms timer. Counted from a clock read before the wait, it would fire at once; the
        // loop's clock is read when the wait returns, so it fires at least 400 ms after the data was sent.
        EventLoop loop = started(builder().readTimeout(Timeout.NONE));
        CompletableFuture<Long> firedAt = new CompletableFuture<>();
        TcpServer server = onLoop(loop, () -> loop.listen(ANY_LOCAL, conn -> conn.startReading((c, data) -> {
            data.release();
            loop.setTimeout(Duration.ofMillis(400), () -> firedAt.complete(System.nanoTime()));
        })));
        try (Socket s = client(server.localAddress())) {
            statsWhen(loop, x -> x.connections() == 1);
            Thread.sleep(800);
            long sent = System.nanoTime();
            s.getOutputStream().write(1);
            assertThat(Duration.ofNanos(firedAt.get(30, TimeUnit.SECONDS) - sent)).isGreaterThanOrEqualTo(Duration.ofMillis(400));
        }
    }

    @Test
    void opsBeyondTheWatermarkQueueAndDrainInOrder() throws Exception {
        // Watermark 1: one write in the kernel at a time. Peers that do not read hold their writes in the
        // kernel; the others queue in FIFO order holding no buffer, and drain as the readers read.
        EventLoop loop = started(builder().highWatermark(1).bufferSize(4096).writeTimeout(Timeout.NONE));
        int peers = 4;
        List<Integer> completionOrder = new CopyOnWriteArrayList<>();
        List<TcpConnection> conns = new CopyOnWriteArrayList<>();
        CountDownLatch accepted = new CountDownLatch(peers);
        TcpServer server = onLoop(loop, () -> loop.listen(ANY_LOCAL, SMALL_SEND_BUFFER, c -> {
            conns.add(c);
            accepted.countDown();
        }));
        List<Socket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < peers; i++) {
                Socket s = client(server.localAddress());
                sockets.add(s);
                assertThat(statsWhen(loop, x -> x.connections() == sockets.size()).connections()).isEqualTo(sockets.size());
            }
            assertThat(accepted.await(30, TimeUnit.SECONDS)).isTrue();
            byte[] big = new byte[1 << 20]; // far more than the small socket buffers hold
            onLoop(loop, () -> {
                for (int i = 0; i < peers; i++) {
                    int n = i;
                    conns.get(i).write(big, (v, e) -> completionOrder.add(e == null ? n : -1 - n));
                }
                return null;
            });
            LoopStats st = statsWhen(loop, x -> x.opsQueued() > 0 && x.opsInKernel() >= 1);
            assertThat(st.watermarkHits()).isPositive();
            assertThat(st.lentBytes()).isLessThanOrEqualTo(4096L + backendRingBytes(st));
            // Drain every peer concurrently; the writes must complete in submission order.
            List<Thread> readers = new ArrayList<>();
            for (Socket s : sockets) {
                Thread t = new Thread(() -> {
                    try {
                        readFully(s.getInputStream(), big.length);
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                });
                t.start();
                readers.add(t);
            }
            for (Thread t : readers) {
                t.join(TestTimes.patience().toMillis());
            }
            statsWhen(loop, x -> x.opsQueued() == 0);
            long deadline = System.nanoTime() + TestTimes.patience().toNanos();
            while (completionOrder.size() < peers && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            if (backend() == Backend.EPOLL) {
                // epoll sends inline whenever the socket has room (IoBackend.sendNow): such a send lends
                // nothing and passes the gate, so completions follow the readers, not the queue. The gate's
                // own FIFO is proven by the core tests; here every write must still complete, and intact.
                assertThat(completionOrder).containsExactlyInAnyOrder(0, 1, 2, 3);
            } else {
                assertThat(completionOrder).containsExactly(0, 1, 2, 3);
            }
        } finally {
            for (Socket s : sockets) {
                s.close();
            }
        }
    }

    @Test
    void maxQueuedRefusesWithOverloadedException() throws Exception {
        EventLoop loop = started(builder().highWatermark(1).maxQueued(8).bufferSize(4096).writeTimeout(Timeout.NONE));
        CompletableFuture<TcpConnection> accepted = new CompletableFuture<>();
        TcpServer server = onLoop(loop, () -> loop.listen(ANY_LOCAL, accepted::complete));
        try (Socket s = client(server.localAddress())) {
            s.setReceiveBufferSize(4096);
            TcpConnection c = accepted.get(30, TimeUnit.SECONDS);
            List<Throwable> outcomes = new CopyOnWriteArrayList<>();
            onLoop(loop, () -> {
                byte[] chunk = new byte[4096];
                for (int i = 0; i < 100_000 && outcomes.isEmpty(); i++) {
                    c.write(chunk, (v, e) -> {
                        if (e != null) {
                            outcomes.add(e);
                        }
                    });
                }
                return null;
            });
            long deadline = System.nanoTime() + TestTimes.patience().toNanos();
            while (outcomes.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(outcomes).isNotEmpty();
            assertThat(outcomes.get(0)).isInstanceOf(OverloadedException.class).hasMessageContaining("maxQueued 8");
            LoopStats st = onLoop(loop, loop::stats);
            assertThat(st.overloads()).isPositive();
            assertThat(st.opsQueued()).isLessThanOrEqualTo(8);
        }
    }

    @Test
    void writerToAPeerThatNeverReadsStopsAtTheWatermark() throws Exception {
        EventLoop loop = started(builder().writeTimeout(Timeout.NONE));
        CompletableFuture<TcpConnection> accepted = new CompletableFuture<>();
        // A small fixed kernel send buffer (no autotuning): what the kernel takes at once is a few KiB, so the
        // producer meets the write watermark soon.
        TcpServer server = onLoop(loop, () -> loop.listen(ANY_LOCAL,
                SMALL_SEND_BUFFER.withWriteWatermarks(64 * 1024, 16 * 1024), accepted::complete));
        try (Socket s = client(server.localAddress())) {
            s.setReceiveBufferSize(4096);
            TcpConnection c = accepted.get(30, TimeUnit.SECONDS);
            AtomicInteger writes = new AtomicInteger();
            List<Boolean> signals = new CopyOnWriteArrayList<>();
            CompletableFuture<Long> stoppedAt = new CompletableFuture<>();
            onLoop(loop, () -> {
                c.onWritabilityChanged(conn -> signals.add(conn.isWritable()));
                byte[] chunk = new byte[8192];
                // A well-behaved producer: write while writable.
                Runnable[] produce = new Runnable[1];
                produce[0] = () -> {
                    while (c.isWritable() && writes.get() < 100_000) {
                        c.write(chunk, null);
                        writes.incrementAndGet();
                    }
                    stoppedAt.complete(c.queuedBytes());
                };
                produce[0].run();
                return null;
            });
            long queued = stoppedAt.get(30, TimeUnit.SECONDS);
            assertThat(queued).isGreaterThanOrEqualTo(64 * 1024).isLessThan(64 * 1024 + 8192);
            assertThat(writes.get()).isLessThan(100_000);
            long deadline = System.nanoTime() + TestTimes.patience().toNanos();
            while (signals.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(signals).startsWith(false);
            // The peer starts reading: the queue drains below the low watermark and writability returns.
            Thread reader = new Thread(() -> {
                try {
                    s.getInputStream().readNBytes(writes.get() * 8192);
                } catch (IOException ignored) {
                    // socket closed at the end of the test
                }
            });
            reader.start();
            while (!signals.contains(true) && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(signals).containsExactly(false, true);
            reader.join(TestTimes.patience().toMillis());
        }
    }

    // ---------------------------------------------------------------------------------------------- close

    @Test
    void closeWithOpsInFlightDeliversEachCallbackOnce() throws Exception {
        EventLoop loop = started(builder().writeTimeout(Timeout.NONE));
        CompletableFuture<TcpConnection> accepted = new CompletableFuture<>();
        TcpServer server = onLoop(loop, () -> loop.listen(ANY_LOCAL, accepted::complete));
        try (Socket s = client(server.localAddress())) {
            s.setReceiveBufferSize(4096);
            TcpConnection c = accepted.get(30, TimeUnit.SECONDS);
            int writes = 64;
            AtomicInteger[] calls = new AtomicInteger[writes];
            List<Throwable> errors = new CopyOnWriteArrayList<>();
            onLoop(loop, () -> {
                byte[] chunk = new byte[64 * 1024];
                for (int i = 0; i < writes; i++) {
                    AtomicInteger n = calls[i] = new AtomicInteger();
                    c.write(chunk, (v, e) -> {
                        n.incrementAndGet();
                        if (e != null) {
                            errors.add(e);
                        }
                    });
                }
                c.abort();
                c.abort(); // twice: idempotent
                return null;
            });
            statsWhen(loop, x -> x.connections() == 0 && x.opsInKernel() == 1); // the server's accept
            Thread.sleep(50);
            for (AtomicInteger n : calls) {
                assertThat(n).hasValue(1);
            }
            assertThat(errors).isNotEmpty().allSatisfy(e -> assertThat(e).isInstanceOf(ClosedException.class));
            LoopStats st = onLoop(loop, loop::stats);
            assertThat(st.leasedBytes()).isZero();
            assertThat(st.lentBytes()).isEqualTo(backendRingBytes(st));
        }
    }

    @Test
    void loopCloseWithConnectionsAndOpsInFlight() throws Exception {
        EventLoop loop = builder().writeTimeout(Timeout.NONE).build().start();
        List<Throwable> writeErrors = new CopyOnWriteArrayList<>();
        AtomicInteger writeCallbacks = new AtomicInteger();
        int peers = 4;
        int writesEach = 8;
        CountDownLatch ready = new CountDownLatch(peers);
        TcpServer server = onLoop(loop, () -> loop.listen(ANY_LOCAL, SMALL_SEND_BUFFER, c -> {
            c.startReading((conn, data) -> data.release());
            byte[] chunk = new byte[256 * 1024]; // 2 MiB a peer: far more than the socket buffers take
            for (int i = 0; i < writesEach; i++) {
                c.write(chunk, (v, e) -> {
                    writeCallbacks.incrementAndGet();
                    if (e != null) {
                        writeErrors.add(e);
                    }
                });
            }
            ready.countDown();
        }));
        List<Socket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < peers; i++) {
                Socket s = client(server.localAddress());
                s.setReceiveBufferSize(8192);
                sockets.add(s);
            }
            assertThat(ready.await(30, TimeUnit.SECONDS)).isTrue();
            // More than the server's accept: writes wait in the kernel for room.
            assertThat(statsWhen(loop, x -> x.opsInKernel() > 1).opsInKernel()).isGreaterThan(1);
            loop.close();
            assertThat(loop.stats().nativeBytes()).isZero();
            assertThat(writeCallbacks).hasValue(peers * writesEach);
            assertThat(writeErrors).isNotEmpty().allSatisfy(e -> assertThat(e).isInstanceOf(ClosedException.class));
        } finally {
            for (Socket s : sockets) {
                s.close();
            }
        }
    }


    @Test
    void connectionClosedFromInsideItsOwnCallback() throws Exception {
        EventLoop loop = started(builder());
        AtomicInteger eofs = new AtomicInteger();
        TcpServer server = onLoop(loop, () -> loop.listen(ANY_LOCAL, conn -> conn.startReading(new ReadHandler() {
            @Override
            public void onData(TcpConnection c, Buffer data) {
                c.write(data);
                c.close();
                c.close();
            }

            @Override
            public void onEof(TcpConnection c) {
                eofs.incrementAndGet();
            }
        })));
        try (Socket s = client(server.localAddress())) {
            s.getOutputStream().write("x".getBytes(StandardCharsets.US_ASCII));
            assertThat(s.getInputStream().readAllBytes()).containsExactly('x');
        }
        statsWhen(loop, x -> x.connections() == 0);
        assertThat(eofs).hasValue(0);
    }

    @Test
    void serverCloseStopsAccepting() throws Exception {
        EventLoop loop = started(builder());
        TcpServer server = echoServer(loop);
        InetSocketAddress addr = server.localAddress();
        onLoop(loop, () -> {
            server.close();
            server.close();
            return null;
        });
        statsWhen(loop, x -> x.handles() == 0);
        assertThatThrownBy(() -> {
            try (Socket s = new Socket()) {
                s.connect(addr, 2000);
            }
        }).isInstanceOf(IOException.class);
    }

    @Test
    void writesAfterCloseFailClearly() throws Exception {
        EventLoop loop = started(builder());
        CompletableFuture<Throwable> thrown = new CompletableFuture<>();
        TcpServer server = onLoop(loop, () -> loop.listen(ANY_LOCAL, c -> {
            c.close();
            try {
                c.write(new byte[1]);
                thrown.complete(null);
            } catch (Throwable t) {
                thrown.complete(t);
            }
        }));
        try (Socket s = client(server.localAddress())) {
            assertThat(thrown.get(30, TimeUnit.SECONDS)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("closed");
        }
    }

    void withServer(EventLoop loop, Consumer<TcpConnection> onAccept) throws Exception {
        onLoop(loop, () -> loop.listen(ANY_LOCAL, onAccept::accept));
    }
}
