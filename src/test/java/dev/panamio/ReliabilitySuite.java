package dev.panamio;

import dev.panamio.testing.Soak;
import dev.panamio.testing.TestBackends;
import dev.panamio.testing.TestTimes;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static dev.panamio.TcpSuite.ANY_LOCAL;
import static dev.panamio.TcpSuite.client;
import static dev.panamio.TcpSuite.onLoop;
import static dev.panamio.TcpSuite.statsWhen;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Hostile peers and faults on real loopback sockets: memory stays bounded, every callback runs once, every
 * lent buffer comes back. Each scenario prints its figures ({@code [reliability] ...}) and asserts them.
 * {@code scripts/soak} runs the same scenarios scaled up ({@link Soak#scale()}). A backend runs the suite
 * by subclassing.
 */
abstract class ReliabilitySuite extends BackendSuite {

    void report(String scenario, String figures) {
        System.out.println("[reliability] " + backend().name().toLowerCase() + " " + scenario + ": " + figures);
    }

    /** The loop's buffers all back in the pool: nothing lent (beyond a backend's standing ring), nothing leased. */
    static void assertBuffersHome(EventLoop loop) throws Exception {
        LoopStats s = statsWhen(loop, st -> st.lentBytes() == st.ringBytes() && st.leasedBytes() == 0 && st.opsQueued() == 0);
        assertThat(s.lentBytes()).isEqualTo(s.ringBytes());
    }

    // ------------------------------------------------------------------------------------------ 1. slowloris

    @Test
    void slowlorisIsBoundedAndReclaimedWhileAGoodClientIsServed() throws Exception {
        int silent = 1800 * Soak.scale();
        int tricklers = 200 * Soak.scale();
        int highWatermark = 16;
        int bufferSize = 16 * 1024;
        EventLoop loop = started(EventLoop.builder().highWatermark(highWatermark).bufferSize(bufferSize)
                .readTimeout(Duration.ofSeconds(2)));
        TcpServer server = onLoop(loop, () -> loop.listen(ANY_LOCAL, TcpOptions.defaults().withBacklog(4096),
                conn -> conn.startReading((c, data) -> c.write(data))));
        InetSocketAddress address = server.localAddress();
        List<SocketChannel> attackers = new ArrayList<>();
        long started = System.nanoTime();
        try {
            for (int i = 0; i < silent + tricklers; i++) {
                SocketChannel ch = SocketChannel.open(address);
                attackers.add(ch);
            }
            // The tricklers send one byte now and another after 3 s: longer than the 2 s read timeout.
            ByteBuffer one = ByteBuffer.allocate(1);
            for (int i = silent; i < attackers.size(); i++) {
                attackers.get(i).write(one.clear());
            }
            // Meanwhile a well-behaved client gets every echo.
            long goodStart = System.nanoTime();
            try (Socket good = client(address)) {
                byte[] msg = new byte[1000];
                for (int i = 0; i < 100; i++) {
                    msg[0] = (byte) i;
                    good.getOutputStream().write(msg);
                    assertThat(good.getInputStream().readNBytes(msg.length)).isEqualTo(msg);
                }
            }
            long goodMillis = (System.nanoTime() - goodStart) / 1_000_000;
            assertThat(goodMillis).as("well-behaved client's 100 echoes (ms)").isLessThan(TestTimes.patience().toMillis());
            Thread.sleep(3000);
            for (int i = silent; i < attackers.size(); i++) {
                try {
                    attackers.get(i).write(one.clear());
                } catch (IOException closedAlready) {
                    // the server's timeout got there first
                }
            }
            // Every attacker is closed by the read timeout.
            LoopStats after = statsWhen(loop, s -> s.connections() == 0);
            long reclaimMillis = (System.nanoTime() - started) / 1_000_000;
            int closedSeen = 0;
            for (SocketChannel ch : attackers) {
                ch.socket().setSoTimeout((int) TestTimes.patience().toMillis());
                try (InputStream in = ch.socket().getInputStream()) {
                    while (in.read() >= 0) {
                        // drain the trickler's echo
                    }
                    closedSeen++;
                } catch (IOException reset) {
                    closedSeen++;
                }
            }
            long bound = (long) highWatermark * bufferSize;
            report("slowloris", String.format("%d silent + %d trickling connections; peak lent %d bytes (bound %d);"
                            + " %d read timeouts; all %d closed by the server after %d ms; good client's 100 echoes took %d ms",
                    silent, tricklers, after.peakLentBytes(), bound, after.timeouts(), closedSeen, reclaimMillis, goodMillis));
            assertThat(after.peakLentBytes()).isLessThanOrEqualTo(bound);
            assertThat(after.timeouts()).isGreaterThanOrEqualTo(silent + tricklers);
            assertThat(closedSeen).isEqualTo(silent + tricklers);
            assertBuffersHome(loop);
        } finally {
            for (SocketChannel ch : attackers) {
                ch.close();
            }
        }
    }

    // ------------------------------------------------------------------------------------------ 2. write flood

    @Test
    void writeFloodToAPeerThatNeverReadsStaysBounded() throws Exception {
        int maxQueued = 256;
        int bufferSize = 16 * 1024;
        EventLoop loop = started(EventLoop.builder().maxQueued(maxQueued).bufferSize(bufferSize).writeTimeout(Timeout.NONE));
        CompletableFuture<TcpConnection> accepted = new CompletableFuture<>();
        TcpServer server = onLoop(loop, () -> loop.listen(ANY_LOCAL,
                TcpOptions.defaults().withWriteWatermarks(256 * 1024, 64 * 1024).withSocketBuffers(16 * 1024, 0),
                accepted::complete));
        int attempts = 2000 * Soak.scale();
        int chunk = 64 * 1024;
        try (Socket peer = client(server.localAddress())) {
            peer.setReceiveBufferSize(4096);
            TcpConnection c = accepted.get(30, TimeUnit.SECONDS);
            AtomicInteger ok = new AtomicInteger();
            AtomicInteger overloaded = new AtomicInteger();
            AtomicInteger closed = new AtomicInteger();
            AtomicInteger other = new AtomicInteger();
            AtomicInteger twice = new AtomicInteger();
            AtomicLong peakQueued = new AtomicLong();
            AtomicInteger unwritable = new AtomicInteger();
            onLoop(loop, () -> {
                c.onWritabilityChanged(conn -> {
                    if (!conn.isWritable()) {
                        unwritable.incrementAndGet();
                    }
                });
                byte[] data = new byte[chunk];
                // A hostile producer: it ignores writability and writes as fast as it can.
                for (int i = 0; i < attempts; i++) {
                    boolean[] done = new boolean[1];
                    c.write(data, (v, err) -> {
                        if (done[0]) {
                            twice.incrementAndGet();
                        }
                        done[0] = true;
                        if (err == null) {
                            ok.incrementAndGet();
                        } else if (err instanceof OverloadedException) {
                            overloaded.incrementAndGet();
                        } else if (err instanceof ClosedException) {
                            closed.incrementAndGet();
                        } else {
                            other.incrementAndGet();
                        }
                    });
                    peakQueued.accumulateAndGet(c.queuedBytes(), Math::max);
                }
                return null;
            });
            statsWhen(loop, s -> overloaded.get() > 0);
            long bound = (long) maxQueued * bufferSize;
            LoopStats s = onLoop(loop, loop::stats);
            // A graceful close would wait for the peer to read what is queued (no write timeout here):
            // abort discards the queue, and each queued write's callback gets ClosedException.
            onLoop(loop, () -> {
                c.abort();
                return null;
            });
            statsWhen(loop, st -> ok.get() + overloaded.get() + closed.get() + other.get() == attempts);
            report("write flood", String.format("%d writes of %d KiB attempted; peak queued %d bytes (bound %d);"
                            + " %d refused with OverloadedException; %d written before the abort, %d failed by it; unwritable signalled %d time(s)",
                    attempts, chunk / 1024, peakQueued.get(), bound, overloaded.get(), ok.get(), closed.get() + other.get(), unwritable.get()));
            assertThat(twice.get()).as("callbacks run twice").isZero();
            assertThat(peakQueued.get()).isLessThanOrEqualTo(bound);
            assertThat(overloaded.get()).isGreaterThan(0);
            assertThat(s.overloads()).isGreaterThanOrEqualTo(overloaded.get());
            assertThat(unwritable.get()).isGreaterThanOrEqualTo(1);
            assertThat(ok.get() + overloaded.get() + closed.get() + other.get()).isEqualTo(attempts);
            assertBuffersHome(loop);
        }
    }

    // ------------------------------------------------------------------------------------------ 4. peer faults

    @Test
    void peerResetsMidWrite() throws Exception {
        peerResetsDuring("reset mid-write", 100_000, (c, done) -> c.write(new byte[8 * 1024 * 1024], done));
    }

    @Test
    void peerClosesWhileAGatherWriteIsHalfDone() throws Exception {
        peerResetsDuring("close during gather write", 50_000, (c, done) -> {
            List<Buffer> parts = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                Buffer b = c.loop().allocateBuffer();
                b.setLength(b.capacity());
                parts.add(b);
            }
            c.write(parts, done);
        });
    }

    /**
     * A server connection starts {@code write}, its peer reads {@code readBeforeReset} bytes and resets (SO_LINGER
     * 0): the write's callback runs once, with the reset or broken pipe by name, and every buffer comes back.
     */
    private void peerResetsDuring(String scenario, int readBeforeReset,
                                  java.util.function.BiConsumer<TcpConnection, Callback<Void>> write) throws Exception {
        EventLoop loop = started(EventLoop.builder().writeTimeout(Timeout.NONE));
        CompletableFuture<TcpConnection> accepted = new CompletableFuture<>();
        TcpServer server = onLoop(loop, () -> loop.listen(ANY_LOCAL, TcpOptions.defaults().withSocketBuffers(16 * 1024, 0),
                accepted::complete));
        List<Throwable> outcomes = new CopyOnWriteArrayList<>();
        AtomicInteger calls = new AtomicInteger();
        try (Socket peer = client(server.localAddress())) {
            peer.setReceiveBufferSize(4096);
            TcpConnection c = accepted.get(30, TimeUnit.SECONDS);
            onLoop(loop, () -> {
                write.accept(c, (v, err) -> {
                    calls.incrementAndGet();
                    outcomes.add(err == null ? new AssertionError("the write finished to a peer that reset") : err);
                });
                return null;
            });
            assertThat(peer.getInputStream().readNBytes(readBeforeReset)).hasSize(readBeforeReset);
            peer.setSoLinger(true, 0);
        }
        statsWhen(loop, s -> calls.get() > 0);
        Thread.sleep(50);
        assertThat(calls.get()).isEqualTo(1);
        assertThat(outcomes.getFirst()).isInstanceOf(NativeIoException.class);
        String name = ((NativeIoException) outcomes.getFirst()).errorName();
        report(scenario, "write callback once, with " + name);
        assertThat(name).isIn(TestBackends.errorName("ECONNRESET"), "EPIPE", TestBackends.errorName("ECONNABORTED"));
        assertBuffersHome(loop);
    }

    // ------------------------------------------------------------------------------------------ 5. close storms

    @Test
    void loopClosedWithAThousandOpsInFlight() throws Exception {
        int pairs = 500;
        EventLoop loop = EventLoop.builder().backend(backend()).readTimeout(Timeout.NONE).build().start();
        ConcurrentHashMap<Integer, AtomicInteger> readOutcomes = new ConcurrentHashMap<>();
        AtomicInteger closeListeners = new AtomicInteger();
        AtomicInteger closedErrors = new AtomicInteger();
        AtomicInteger ids = new AtomicInteger();
        java.util.function.Consumer<TcpConnection> arm = conn -> {
            int id = ids.getAndIncrement();
            AtomicInteger count = new AtomicInteger();
            readOutcomes.put(id, count);
            conn.onClose(closeListeners::incrementAndGet);
            conn.read(Timeout.NONE, new ReadHandler() {
                @Override
                public void onData(TcpConnection c, Buffer data) {
                    data.release();
                    count.incrementAndGet();
                }

                @Override
                public void onEof(TcpConnection c) {
                    count.incrementAndGet();
                }

                @Override
                public void onError(TcpConnection c, Throwable error) {
                    count.incrementAndGet();
                    if (error instanceof ClosedException) {
                        closedErrors.incrementAndGet();
                    }
                }
            });
        };
        TcpServer server = onLoop(loop, () -> loop.listen(ANY_LOCAL, TcpOptions.defaults().withBacklog(1024), arm));
        AtomicInteger connected = new AtomicInteger();
        onLoop(loop, () -> {
            for (int i = 0; i < pairs; i++) {
                loop.connect(server.localAddress(), (conn, err) -> {
                    if (conn != null) {
                        arm.accept(conn);
                        connected.incrementAndGet();
                    }
                });
            }
            return null;
        });
        LoopStats before = statsWhen(loop, s -> s.connections() == 2 * pairs && readOutcomes.size() == 2 * pairs);
        loop.close();
        loop.close();
        int once = 0;
        for (AtomicInteger n : readOutcomes.values()) {
            assertThat(n.get()).as("read outcomes per connection").isEqualTo(1);
            once++;
        }
        report("loop close storm", String.format("%d connections, %d reads in flight (%d in the kernel); close twice;"
                        + " %d read callbacks exactly once (%d ClosedException); %d close listeners",
                2 * pairs, 2 * pairs, before.opsInKernel(), once, closedErrors.get(), closeListeners.get()));
        assertThat(closeListeners.get()).isEqualTo(2 * pairs);
        assertThat(closedErrors.get()).isEqualTo(2 * pairs);
        assertThat(loop.isClosed()).isTrue();
    }

    @Test
    void connectionsClosedFromTheirOwnCallbacksAndTwice() throws Exception {
        EventLoop loop = started(EventLoop.builder());
        AtomicInteger closes = new AtomicInteger();
        AtomicInteger reads = new AtomicInteger();
        TcpServer server = onLoop(loop, () -> loop.listen(ANY_LOCAL, conn -> {
            conn.onClose(closes::incrementAndGet);
            conn.startReading((c, data) -> {
                reads.incrementAndGet();
                c.write(data, (v, err) -> {
                    c.close();
                    c.close();
                });
                c.close();
                c.abort();
            });
        }));
        int n = 200;
        for (int i = 0; i < n; i++) {
            try (Socket s = client(server.localAddress())) {
                s.getOutputStream().write(new byte[] {1, 2, 3});
                InputStream in = s.getInputStream();
                try {
                    while (in.read() >= 0) {
                        // the server closes after its callback
                    }
                } catch (IOException resetByAbort) {
                    // abort() may reset the connection
                }
            }
        }
        statsWhen(loop, s -> s.connections() == 0 && closes.get() == n);
        report("close from own callbacks", n + " connections closed inside their read and write callbacks (close, close, abort):"
                + " " + closes.get() + " close listeners, " + reads.get() + " reads");
        assertThat(closes.get()).isEqualTo(n);
        assertThat(reads.get()).isEqualTo(n);
        assertBuffersHome(loop);
    }
}
