package dev.panamio;

import dev.panamio.testing.LeakChecked;
import dev.panamio.testing.TestTimes;
import org.junit.jupiter.api.Test;

import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The TCP suite on epoll, and what is epoll's own: sends made inline. */
@LeakChecked
@org.junit.jupiter.api.condition.EnabledOnOs(org.junit.jupiter.api.condition.OS.LINUX)
class EpollTcpTest extends TcpSuite {
    @Override
    Backend backend() {
        return Backend.EPOLL;
    }

    @Test
    void aSendTheSocketTakesAtOnceDoesNotWaitBehindTheWatermark() throws Exception {
        // Watermark 1: two writers to peers that never read fill the gate (one op parked in the kernel, one
        // queued behind it). A third connection's short reply fits its socket, lends nothing, and must go out
        // at once, callback included, while the other two stay stuck.
        EventLoop loop = started(builder().highWatermark(1).bufferSize(4096).writeTimeout(Timeout.NONE));
        List<TcpConnection> conns = new CopyOnWriteArrayList<>();
        CountDownLatch accepted = new CountDownLatch(3);
        TcpServer server = onLoop(loop, () -> loop.listen(ANY_LOCAL, SMALL_SEND_BUFFER, c -> {
            conns.add(c);
            accepted.countDown();
        }));
        List<Socket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                Socket s = new Socket();
                s.setReceiveBufferSize(4096); // small: the silent peers' buffers fill at once
                s.connect(server.localAddress(), (int) TestTimes.patience().toMillis());
                s.setSoTimeout((int) TestTimes.patience().toMillis());
                sockets.add(s);
                int n = i + 1;
                statsWhen(loop, x -> x.connections() == n);
            }
            assertThat(accepted.await(30, TimeUnit.SECONDS)).isTrue();
            byte[] big = new byte[1 << 20];
            onLoop(loop, () -> {
                conns.get(0).write(big, null);
                conns.get(1).write(big, null);
                return null;
            });
            LoopStats full = settled(loop);
            assertThat(full.watermarkHits()).isPositive();
            CompletableFuture<Throwable> written = new CompletableFuture<>();
            byte[] reply = "a short reply".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            onLoop(loop, () -> {
                conns.get(2).write(reply, (v, e) -> written.complete(e));
                return null;
            });
            assertThat(written.get(30, TimeUnit.SECONDS)).isNull();
            assertThat(readFully(sockets.get(2).getInputStream(), reply.length)).isEqualTo(reply);
            LoopStats after = onLoop(loop, loop::stats);
            assertThat(after.opsQueued()).as("the stuck writers still wait").isEqualTo(full.opsQueued());
            assertThat(after.lentBytes()).isLessThanOrEqualTo(4096L);
        } finally {
            for (Socket s : sockets) {
                s.close();
            }
        }
    }

    /** Stats once the silent peers' buffers are full: nothing moves between two looks 300 ms apart. */
    private static LoopStats settled(EventLoop loop) throws Exception {
        long deadline = System.nanoTime() + TestTimes.patience().toNanos();
        LoopStats before = onLoop(loop, loop::stats);
        while (true) {
            Thread.sleep(300);
            LoopStats now = onLoop(loop, loop::stats);
            if (now.opsQueued() == before.opsQueued() && now.completed() == before.completed()) {
                return now;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the writers never stopped moving: " + now);
            }
            before = now;
        }
    }
}
