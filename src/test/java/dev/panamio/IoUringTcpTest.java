package dev.panamio;

import dev.panamio.testing.LeakChecked;
import dev.panamio.testing.TestTimes;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** The TCP suite on io_uring. */
@LeakChecked
@org.junit.jupiter.api.condition.EnabledOnOs(org.junit.jupiter.api.condition.OS.LINUX)
class IoUringTcpTest extends TcpSuite {
    @Override
    Backend backend() {
        return Backend.IO_URING;
    }

    @Test
    void aContinuousReadStaysInTheKernelAcrossArrivals() throws Exception {
        // A multishot receive (Linux 6.0+) completes for good only when it ends: chunks arriving one by one
        // are delivered without an op completing (and being submitted again) for each.
        Assumptions.assumeTrue(kernelAtLeast(6, 0), "multishot receive needs Linux 6.0");
        EventLoop loop = started(builder());
        AtomicInteger chunks = new AtomicInteger();
        AtomicInteger bytes = new AtomicInteger();
        TcpServer server = onLoop(loop, () -> loop.listen(ANY_LOCAL, conn -> conn.startReading((c, data) -> {
            chunks.incrementAndGet();
            bytes.addAndGet(data.length());
            data.release();
        })));
        int sends = 40;
        try (Socket s = client(server.localAddress())) {
            statsWhen(loop, x -> x.connections() == 1);
            long before = onLoop(loop, loop::stats).completed();
            OutputStream out = s.getOutputStream();
            for (int i = 0; i < sends; i++) {
                out.write('x');
                out.flush();
                Thread.sleep(5);
                long deadline = System.nanoTime() + TestTimes.patience().toNanos();
                while (bytes.get() < i + 1 && System.nanoTime() < deadline) {
                    Thread.sleep(1);
                }
            }
            assertThat(bytes.get()).isEqualTo(sends);
            long completions = onLoop(loop, loop::stats).completed() - before;
            assertThat(chunks.get()).as("each byte arrived on its own").isEqualTo(sends);
            assertThat(completions).as("final completions while %d chunks arrived", sends).isLessThan(sends / 4);
        }
        statsWhen(loop, x -> x.connections() == 0);
    }

    static boolean kernelAtLeast(int major, int minor) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^(\\d+)\\.(\\d+)").matcher(System.getProperty("os.version"));
        if (!m.find()) {
            return false;
        }
        int a = Integer.parseInt(m.group(1));
        int b = Integer.parseInt(m.group(2));
        return a > major || (a == major && b >= minor);
    }
}
