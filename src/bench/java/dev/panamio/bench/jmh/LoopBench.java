package dev.panamio.bench.jmh;

import dev.panamio.Buffer;
import dev.panamio.EventLoop;
import dev.panamio.TcpConnection;
import dev.panamio.Timeout;
import dev.panamio.Timer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/** The loop's hot paths: timers, cross-thread execute, buffer leases, and one op submit → complete. */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class LoopBench {

    /** A loop that is not running: the benchmark thread owns it. */
    @State(Scope.Thread)
    public static class Owned {
        @Param({"EPOLL"})
        public String backend;
        EventLoop loop;
        Timer[] timers = new Timer[1000];

        @Setup
        public void setup() {
            loop = EventLoop.builder().backend(dev.panamio.Backend.valueOf(backend)).build();
        }

        @TearDown
        public void tearDown() {
            loop.close();
        }
    }

    /** 1000 timers inserted into a heap already holding them, then all cancelled: per timer insert + cancel. */
    @Benchmark
    @OperationsPerInvocation(1000)
    public void timerInsertAndCancel(Owned s) {
        Runnable noop = () -> { };
        for (int i = 0; i < 1000; i++) {
            s.timers[i] = s.loop.setTimeout(Duration.ofMillis(1 + (i * 7919L) % 60_000), noop);
        }
        for (int i = 0; i < 1000; i++) {
            s.timers[i].cancel();
        }
    }

    /** Take an empty pooled buffer and give it back. */
    @Benchmark
    public void bufferLeaseRelease(Owned s) {
        Buffer b = s.loop.allocateBuffer();
        b.release();
    }

    /** A lease holding one wrk request, and the same bytes as a plain segment, for the byte-scan benchmarks. */
    @State(Scope.Thread)
    public static class Request {
        EventLoop loop;
        Buffer lease;
        java.lang.foreign.MemorySegment plain;
        final dev.panamio.bench.BenchServer.Requests requests = new dev.panamio.bench.BenchServer.Requests();

        @Setup
        public void setup() {
            byte[] req = "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            loop = EventLoop.create();
            lease = loop.allocateBuffer().append(req);
            plain = java.lang.foreign.Arena.global().allocate(req.length);
            java.lang.foreign.MemorySegment.copy(req, 0, plain, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, req.length);
        }

        @TearDown
        public void tearDown() {
            lease.release();
            loop.close();
        }
    }

    /** The benchmark servers' request scan over a lease, byte by byte with {@link Buffer#get}. */
    @Benchmark
    public int scanLease(Request r) {
        int n = 0;
        Buffer data = r.lease;
        int len = data.length();
        for (int i = 0; i < len; i++) {
            if (r.requests.feed(data.get(i))) {
                n++;
            }
        }
        return n;
    }

    /** The same scan over a plain native segment: the floor for {@link #scanLease}. */
    @Benchmark
    public int scanSegment(Request r) {
        int n = 0;
        java.lang.foreign.MemorySegment s = r.plain;
        long len = s.byteSize();
        for (long i = 0; i < len; i++) {
            if (r.requests.feed(s.get(java.lang.foreign.ValueLayout.JAVA_BYTE, i))) {
                n++;
            }
        }
        return n;
    }

    /** A started loop fed from another thread. */
    @State(Scope.Benchmark)
    public static class Started {
        EventLoop loop;

        @Setup
        public void setup() {
            loop = EventLoop.create().start();
        }

        @TearDown
        public void tearDown() {
            loop.close();
        }
    }

    /** 10 000 tasks handed over with execute() and run on the loop thread: per task, end to end. */
    @Benchmark
    @OperationsPerInvocation(10_000)
    public void executeFromAnotherThread(Started s) throws InterruptedException {
        CountDownLatch done = new CountDownLatch(1);
        int[] count = new int[1];
        Runnable task = () -> {
            if (++count[0] == 10_000) {
                done.countDown();
            }
        };
        for (int i = 0; i < 10_000; i++) {
            s.loop.execute(task);
        }
        done.await();
    }

    /** A TCP round trip of one byte over loopback between two connections of one loop: write + read ops. */
    @State(Scope.Thread)
    public static class PingPong {
        @Param({"EPOLL", "IO_URING"})
        public String backend;
        EventLoop loop;
        TcpConnection client;
        boolean got;

        @Setup(Level.Trial)
        public void setup() throws Exception {
            loop = EventLoop.builder().backend(dev.panamio.Backend.valueOf(backend)).readTimeout(Timeout.NONE).build();
            AtomicReference<TcpConnection> c = new AtomicReference<>();
            var server = loop.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                    conn -> conn.startReading((cc, data) -> cc.write(data)));
            loop.connect(server.localAddress(), Duration.ofSeconds(5), (conn, err) -> c.set(conn));
            while (c.get() == null) {
                loop.runOnce();
            }
            client = c.get();
            client.startReading((cc, data) -> {
                data.release();
                got = true;
            });
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            loop.close();
        }
    }

    @Benchmark
    public boolean opSubmitToCompleteRoundTrip(PingPong p) {
        p.got = false;
        p.client.write(new byte[] {1});
        while (!p.got) {
            p.loop.runOnce();
        }
        return p.got;
    }
}
