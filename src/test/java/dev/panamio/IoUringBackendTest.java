package dev.panamio;

import dev.panamio.testing.LeakChecked;
import dev.panamio.testing.TestTimes;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.panamio.TcpSuite.ANY_LOCAL;
import static dev.panamio.TcpSuite.client;
import static dev.panamio.TcpSuite.onLoop;
import static dev.panamio.TcpSuite.readFully;
import static dev.panamio.TcpSuite.statsWhen;
import static org.assertj.core.api.Assertions.assertThat;

/** What only io_uring has: a provided-buffer ring that can run dry, and reads the kernel holds while idle. */
@LeakChecked
@org.junit.jupiter.api.condition.EnabledOnOs(org.junit.jupiter.api.condition.OS.LINUX)
class IoUringBackendTest {

    private static EventLoop.Builder uring() {
        return EventLoop.builder().backend(Backend.IO_URING);
    }

    @Test
    void ringBuffersAreReservedOnTheWatermarkAndReportedAsLent() throws Exception {
        try (EventLoop loop = uring().highWatermark(64).bufferSize(4096).build()) {
            LoopStats st = loop.stats();
            assertThat(st.ringBytes()).isEqualTo(32L * 4096); // half the watermark, a power of two
            assertThat(st.lentBytes()).isEqualTo(st.ringBytes());
        }
        try (EventLoop tiny = uring().highWatermark(2).build()) {
            assertThat(tiny.stats().ringBytes()).as("too small for a ring: reads poll first").isZero();
        }
    }

    @Test
    void aDryRingFallsBackAndNothingIsLostUnderAThousandConnections() throws Exception {
        // A ring of 8 buffers and 1000 connections whose leases the handler holds for a while: the ring runs
        // dry, reads fall back to poll-then-recv, and every byte is still echoed exactly once.
        EventLoop loop = uring().highWatermark(16).bufferSize(4096).build().start();
        try {
            List<Buffer> held = new ArrayList<>();
            TcpServer server = onLoop(loop, () -> loop.listen(ANY_LOCAL, conn -> conn.startReading((c, data) -> {
                held.add(data);
                if (held.size() >= 32) {
                    loop.setTimeout(Duration.ofMillis(2), () -> {
                        for (Buffer b : held) {
                            b.release();
                        }
                        held.clear();
                    });
                }
                c.write(data.toArray());
            })));
            loop.setInterval(Duration.ofMillis(20), () -> {
                held.forEach(Buffer::release);
                held.clear();
            }).unref();
            int n = 1000;
            List<Socket> sockets = new ArrayList<>();
            try {
                for (int i = 0; i < n; i++) {
                    sockets.add(client(server.localAddress()));
                }
                for (int i = 0; i < n; i++) {
                    sockets.get(i).getOutputStream().write(("message " + i).getBytes(StandardCharsets.US_ASCII));
                }
                for (int i = 0; i < n; i++) {
                    byte[] want = ("message " + i).getBytes(StandardCharsets.US_ASCII);
                    assertThat(readFully(sockets.get(i).getInputStream(), want.length)).isEqualTo(want);
                }
            } finally {
                for (Socket s : sockets) {
                    s.close();
                }
            }
            statsWhen(loop, st -> st.connections() == 0);
        } finally {
            loop.close();
        }
        assertThat(loop.stats().nativeBytes()).isZero();
    }

    @Test
    void loopCloseWithFiveHundredOpsInTheKernelReapsEveryCompletionFirst() throws Exception {
        EventLoop loop = uring().build().start();
        int n = 500;
        CountDownLatch accepted = new CountDownLatch(n);
        AtomicInteger readCallbacks = new AtomicInteger();
        TcpServer server = onLoop(loop, () -> loop.listen(ANY_LOCAL, conn -> {
            conn.read(Timeout.NONE, new ReadHandler() {
                @Override
                public void onData(TcpConnection c, Buffer data) {
                    readCallbacks.incrementAndGet();
                    data.release();
                }

                @Override
                public void onError(TcpConnection c, Throwable error) {
                    readCallbacks.incrementAndGet();
                    assertThat(error).isInstanceOf(ClosedException.class);
                }
            });
            accepted.countDown();
        }));
        List<Socket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                sockets.add(client(server.localAddress()));
            }
            assertThat(accepted.await(TestTimes.patience().toSeconds(), TimeUnit.SECONDS)).isTrue();
            LoopStats before = statsWhen(loop, st -> st.opsInKernel() >= n);
            assertThat(before.opsInKernel()).isGreaterThanOrEqualTo(n);
            loop.close();
            LoopStats after = loop.stats();
            assertThat(after.opsInKernel()).isZero();
            assertThat(after.nativeBytes()).isZero();
            assertThat(readCallbacks).hasValue(n); // each pending one-shot read told exactly once
            for (Socket s : sockets) {
                InputStream in = s.getInputStream();
                try {
                    assertThat(in.read()).isEqualTo(-1);
                } catch (IOException reset) {
                    // closed: fine
                }
            }
        } finally {
            for (Socket s : sockets) {
                s.close();
            }
        }
    }

    @Test
    void cancelledReadThatRacesArrivingDataCompletesOnce() throws Exception {
        // Reads whose deadline falls just as their data arrives: whichever wins, each read's handler runs
        // exactly once, and no buffer is lost.
        EventLoop loop = uring().build().start();
        try {
            int rounds = 300;
            List<String> outcomes = new CopyOnWriteArrayList<>();
            AtomicInteger calls = new AtomicInteger();
            CountDownLatch done = new CountDownLatch(rounds);
            List<CompletableFuture<TcpConnection>> conns = new ArrayList<>();
            for (int i = 0; i < rounds; i++) {
                conns.add(new CompletableFuture<>());
            }
            AtomicInteger next = new AtomicInteger();
            TcpServer server = onLoop(loop, () -> loop.listen(ANY_LOCAL, c -> conns.get(next.getAndIncrement()).complete(c)));
            List<Socket> sockets = new ArrayList<>();
            try {
                for (int i = 0; i < rounds; i++) {
                    sockets.add(client(server.localAddress()));
                }
                for (int i = 0; i < rounds; i++) {
                    TcpConnection c = conns.get(i).get(30, TimeUnit.SECONDS);
                    Socket s = sockets.get(i);
                    loop.execute(() -> c.read(Duration.ofMillis(5), new ReadHandler() {
                        @Override
                        public void onData(TcpConnection conn, Buffer data) {
                            calls.incrementAndGet();
                            outcomes.add("data");
                            data.release();
                            done.countDown();
                        }

                        @Override
                        public void onError(TcpConnection conn, Throwable error) {
                            calls.incrementAndGet();
                            outcomes.add(error.getClass().getSimpleName());
                            done.countDown();
                        }
                    }));
                    Thread.sleep(i % 7); // around the 5 ms deadline
                    s.getOutputStream().write(1);
                }
                assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
                Thread.sleep(100);
                assertThat(calls).hasValue(rounds);
                assertThat(outcomes).containsOnly("data", "OperationTimeoutException");
                System.out.printf("read/deadline race: %d data, %d timeouts%n",
                        outcomes.stream().filter("data"::equals).count(),
                        outcomes.stream().filter(o -> !o.equals("data")).count());
            } finally {
                onLoop(loop, () -> {
                    for (CompletableFuture<TcpConnection> f : conns) {
                        f.getNow(null).abort();
                    }
                    return null;
                });
                for (Socket s : sockets) {
                    s.close();
                }
            }
            LoopStats st = statsWhen(loop, x -> x.connections() == 0);
            assertThat(st.leasedBytes()).isZero();
            assertThat(st.lentBytes()).isEqualTo(st.ringBytes());
        } finally {
            loop.close();
        }
    }
}
