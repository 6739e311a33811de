package dev.panamio.demo;

import dev.panamio.Backend;
import dev.panamio.Buffer;
import dev.panamio.EventLoop;
import dev.panamio.LoopStats;
import dev.panamio.ReadHandler;
import dev.panamio.TcpConnection;
import dev.panamio.TcpOptions;
import dev.panamio.Timeout;

import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code scripts/demo}: an echo server on 127.0.0.1 plus, unless {@code --serve}, a built-in client load on
 * a second loop, with one live progress line (or one JSON object per second) and a final summary.
 */
public final class Demo {
    private Demo() {}

    static final String USAGE = """
            usage: scripts/demo [options]
              --serve                 serve until Ctrl-C (no built-in load); talk to it with nc or socat
              --http                  serve HTTP until Ctrl-C instead (port 8080): / says hello, /stats is the
                                      loop's statistics as JSON; try curl or wrk
              --port P                port to listen on (default: 7007 with --serve, else any free port)
              --seconds S             how long the built-in load runs (default 5)
              --backend NAME          epoll | io_uring | iocp (default: the platform's)
              --high-watermark N      most buffer-holding ops in the kernel (default 1024)
              --buffer-size B         bytes per pooled buffer (default 16384)
              --read-timeout-ms MS    idle read deadline per connection (default 60000)
              --connections N         client connections of the built-in load (default 64)
              --message-size B        bytes per echo message (default 64)
              --pipeline N            messages in flight per connection (default 16)
              --stats-json            one JSON object per second on stdout instead of the progress line
            """;

    /** Parsed flags. */
    record Options(boolean serve, boolean http, int port, int seconds, Backend backend, int highWatermark, int bufferSize,
                   long readTimeoutMs, int connections, int messageSize, int pipeline, boolean statsJson) {

        static Options parse(String[] args) {
            boolean serve = false, json = false, http = false;
            int port = -1, seconds = 5, hw = 1024, buf = 16 * 1024, conns = 64, size = 64, pipeline = 16;
            long readMs = 60_000;
            Backend backend = null;
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--serve" -> serve = true;
                    case "--http" -> http = serve = true;
                    case "--stats-json" -> json = true;
                    case "--port" -> port = intArg(args, ++i, a, 0, 65535);
                    case "--seconds" -> seconds = intArg(args, ++i, a, 1, 86_400);
                    case "--high-watermark" -> hw = intArg(args, ++i, a, 1, 1 << 24);
                    case "--buffer-size" -> buf = intArg(args, ++i, a, 256, 16 << 20);
                    case "--read-timeout-ms" -> readMs = intArg(args, ++i, a, 1, Integer.MAX_VALUE);
                    case "--connections" -> conns = intArg(args, ++i, a, 1, 100_000);
                    case "--message-size" -> size = intArg(args, ++i, a, 1, 1 << 20);
                    case "--pipeline" -> pipeline = intArg(args, ++i, a, 1, 4096);
                    case "--backend" -> backend = backendArg(args, ++i);
                    case "-h", "--help" -> {
                        System.out.print(USAGE);
                        System.exit(0);
                    }
                    default -> fail("unknown option " + a);
                }
            }
            if (port < 0) {
                port = http ? 8080 : serve ? 7007 : 0;
            }
            return new Options(serve, http, port, seconds, backend, hw, buf, readMs, conns, size, pipeline, json);
        }

        private static int intArg(String[] args, int i, String name, int min, int max) {
            if (i >= args.length) {
                fail(name + " needs a value");
            }
            try {
                long v = Long.parseLong(args[i]);
                if (v < min || v > max) {
                    fail(name + " must be within " + min + ".." + max + ", was " + v);
                }
                return (int) v;
            } catch (NumberFormatException e) {
                fail(name + " needs a number, was '" + args[i] + "'");
                return 0;
            }
        }

        private static Backend backendArg(String[] args, int i) {
            if (i >= args.length) {
                fail("--backend needs a value");
            }
            String v = args[i].toUpperCase(Locale.ROOT).replace('-', '_');
            if (v.equals("IOURING")) {
                v = "IO_URING";
            }
            try {
                return Backend.valueOf(v);
            } catch (IllegalArgumentException e) {
                fail("--backend must be epoll, io_uring or iocp, was '" + args[i] + "'");
                return null;
            }
        }
    }

    static void fail(String message) {
        System.err.println("demo: " + message);
        System.err.print(USAGE);
        System.exit(2);
    }

    /**
     * Runs the demo ({@code scripts/demo --help} lists the options).
     *
     * @param args the options
     * @throws Exception if the demo cannot start
     */
    public static void main(String[] args) throws Exception {
        Options o = Options.parse(args);
        EventLoop.Builder b = EventLoop.builder().highWatermark(o.highWatermark()).bufferSize(o.bufferSize())
                .readTimeout(Duration.ofMillis(o.readTimeoutMs()));
        if (o.backend() != null) {
            b.backend(o.backend());
        }
        EventLoop server;
        try {
            server = b.build();
        } catch (UnsupportedOperationException | IllegalStateException e) {
            System.err.println("demo: backend not available: " + e.getMessage());
            System.exit(1);
            return;
        }
        CompletableFuture<InetSocketAddress> listening = new CompletableFuture<>();
        InetSocketAddress bindTo = new InetSocketAddress(InetAddress.getLoopbackAddress(), o.port());
        server.start();
        server.execute(() -> {
            try {
                listening.complete(o.http()
                        ? dev.panamio.http.HttpServer.listen(server, bindTo, (req, res) -> {
                            if (req.target().equals("/stats")) {
                                res.header("Content-Type", "application/json").send(server.stats().toJson() + "\n");
                            } else {
                                res.send("Hello, World!");
                            }
                        }).localAddress()
                        : server.listen(bindTo, TcpOptions.defaults().withBacklog(4096), Demo::echo).localAddress());
            } catch (Throwable e) {
                listening.completeExceptionally(e);
            }
        });
        InetSocketAddress bound;
        try {
            bound = listening.get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            System.err.println("demo: cannot listen on " + bindTo + ": " + e.getCause().getMessage());
            server.close();
            System.exit(1);
            return;
        }
        PrintStream out = System.out;
        String backendName = server.backend().name().toLowerCase(Locale.ROOT);
        if (!o.statsJson()) {
            out.printf("panamio demo: %s %s on %s (high watermark %d, buffer %d B)%n", backendName,
                    o.http() ? "HTTP server" : "echo server", o.http() ? "http://" + address(bound) + "/" : address(bound),
                    o.highWatermark(), o.bufferSize());
        }
        if (o.serve()) {
            if (!o.statsJson()) {
                out.println(o.http() ? "serving until Ctrl-C; try: curl http://" + address(bound) + "/stats"
                        : "serving until Ctrl-C; try: nc 127.0.0.1 " + bound.getPort());
            }
            serveUntilClosed(server, o, out);
            return;
        }
        Load load = new Load(o, bound);
        Reporter r = new Reporter(server, load, o.statsJson(), out);
        load.start();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(o.seconds());
        while (System.nanoTime() < end) {
            Thread.sleep(Math.min(1000, Math.max(1, (end - System.nanoTime()) / 1_000_000)));
            r.report();
        }
        long messages = load.stop();
        LoopStats peak = r.last;
        server.close();
        LoopStats after = server.stats();
        double secs = (System.nanoTime() - load.startedAt) / 1e9;
        if (o.statsJson()) {
            out.printf("{\"summary\":true,\"backend\":\"%s\",\"connections\":%d,\"messages\":%d,\"msgsPerSec\":%.0f,"
                            + "\"timeouts\":%d,\"maxLentBytes\":%d,\"nativeBytesAfterClose\":%d,\"errors\":%d}%n",
                    backendName, o.connections(), messages, messages / secs, peak == null ? 0 : peak.timeouts(),
                    r.maxLent, after.nativeBytes(), load.errors.get());
        } else {
            out.printf("%nsummary: %s, %d connections, %,d messages of %d B in %.1f s = %,.0f msgs/s; peak lent %s;"
                            + " timeouts %d; errors %d; native bytes after close %d%n",
                    backendName, o.connections(), messages, o.messageSize(), secs, messages / secs, bytes(r.maxLent),
                    peak == null ? 0 : peak.timeouts(), load.errors.get(), after.nativeBytes());
        }
    }

    /** The echo handler: each read's lease goes straight back out, zero copy. */
    static void echo(TcpConnection conn) {
        conn.startReading((c, data) -> c.write(data));
    }

    /** Serves until Ctrl-C closes the loop, reporting once a second. */
    private static void serveUntilClosed(EventLoop server, Options o, PrintStream out) throws InterruptedException {
        Runtime.getRuntime().addShutdownHook(new Thread(server::close));
        Reporter r = new Reporter(server, null, o.statsJson(), out);
        while (!server.isClosed()) {
            Thread.sleep(1000);
            r.report();
        }
    }

    static String address(InetSocketAddress a) {
        return a.getAddress().getHostAddress() + ":" + a.getPort();
    }

    static String bytes(long b) {
        if (b < 1024) {
            return b + " B";
        }
        if (b < 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f KiB", b / 1024.0);
        }
        return String.format(Locale.ROOT, "%.1f MiB", b / (1024.0 * 1024));
    }

    /** Prints the progress line or JSON. */
    static final class Reporter {
        private final EventLoop server;
        private final Load load;
        private final boolean json;
        private final PrintStream out;
        private long lastMessages;
        private long lastTime = System.nanoTime();
        long maxLent;
        LoopStats last;

        Reporter(EventLoop server, Load load, boolean json, PrintStream out) {
            this.server = server;
            this.load = load;
            this.json = json;
            this.out = out;
        }

        void report() {
            LoopStats s = server.stats();
            last = s;
            maxLent = Math.max(maxLent, s.lentBytes());
            long now = System.nanoTime();
            long msgs = load == null ? 0 : load.messages();
            double rate = (msgs - lastMessages) / ((now - lastTime) / 1e9);
            lastMessages = msgs;
            lastTime = now;
            if (json) {
                String j = s.toJson();
                out.println(j.substring(0, j.length() - 1) + ",\"msgsPerSec\":" + Math.round(rate) + "}");
            } else {
                out.printf("\rconnections %5d | %,10.0f msgs/s | in-kernel %5d | queued %5d | lent %10s | timeouts %d   ",
                        s.connections(), rate, s.opsInKernel(), s.opsQueued(), bytes(s.lentBytes()), s.timeouts());
            }
            out.flush();
        }
    }

    /** The built-in client load: N connections on their own loop, each keeping M messages in flight. */
    static final class Load {
        private final Options o;
        private final InetSocketAddress target;
        private final EventLoop loop;
        private final AtomicLong received = new AtomicLong();
        final AtomicLong errors = new AtomicLong();
        long startedAt;

        Load(Options o, InetSocketAddress target) {
            this.o = o;
            this.target = target;
            EventLoop.Builder b = EventLoop.builder().readTimeout(Timeout.NONE);
            if (o.backend() != null) {
                b.backend(o.backend());
            }
            this.loop = b.build();
        }

        long messages() {
            return received.get() / o.messageSize();
        }

        void start() throws InterruptedException {
            loop.start();
            CountDownLatch connected = new CountDownLatch(o.connections());
            byte[] message = new byte[o.messageSize()];
            for (int i = 0; i < message.length; i++) {
                message[i] = (byte) ('a' + i % 26);
            }
            byte[] burst = new byte[o.messageSize() * o.pipeline()];
            for (int i = 0; i < o.pipeline(); i++) {
                System.arraycopy(message, 0, burst, i * message.length, message.length);
            }
            // replies[k]: k messages, sent as one write (one copy into one pool buffer, not k of them)
            MemorySegment[] replies = new MemorySegment[o.pipeline() + 1];
            for (int k = 0; k <= o.pipeline(); k++) {
                replies[k] = MemorySegment.ofArray(burst).asSlice(0, (long) k * message.length);
            }
            loop.execute(() -> {
                for (int i = 0; i < o.connections(); i++) {
                    loop.connect(target, Duration.ofSeconds(10), (c, e) -> {
                        connected.countDown();
                        if (e != null) {
                            errors.incrementAndGet();
                            return;
                        }
                        c.startReading(new ReadHandler() {
                            private long partial;

                            @Override
                            public void onData(TcpConnection conn, Buffer data) {
                                int n = data.length();
                                data.release();
                                received.addAndGet(n);
                                partial += n;
                                long whole = partial / message.length;
                                partial -= whole * message.length;
                                while (whole > 0) {
                                    int k = (int) Math.min(whole, o.pipeline());
                                    conn.write(replies[k], null);
                                    whole -= k;
                                }
                            }

                            @Override
                            public void onError(TcpConnection conn, Throwable error) {
                                errors.incrementAndGet();
                                conn.close();
                            }
                        });
                        c.write(burst);
                    });
                }
            });
            connected.await(30, TimeUnit.SECONDS);
            startedAt = System.nanoTime();
            received.set(0);
        }

        long stop() {
            long m = messages();
            loop.close();
            return m;
        }
    }
}
