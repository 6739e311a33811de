package dev.panamio.bench;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Starts one benchmark server: {@code BenchServer NAME --port P [--mode http|echo]}. Every server runs one
 * event-loop thread. Each writes the bytes its loop thread has allocated, and when ({@code System.nanoTime()}),
 * to {@code --alloc-file} every 200 ms, so the driver can compute heap allocation per request.
 */
public final class BenchServer {
    private BenchServer() {}

    /** The HTTP response every server sends, byte for byte. */
    public static final byte[] RESPONSE = ("HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\n"
            + "Hello, World!").getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: BenchServer panamio-epoll|panamio-io_uring|panamio-httpserver|nio|netty-epoll|netty-io_uring|ffm-floor --port P [--mode http|echo] [--alloc-file F]");
            System.exit(2);
        }
        String name = args[0];
        int port = 8080;
        boolean http = true;
        Path allocFile = null;
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "--port" -> port = Integer.parseInt(args[++i]);
                case "--mode" -> http = args[++i].equals("http");
                case "--alloc-file" -> allocFile = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Thread loopThread = switch (name.toLowerCase(Locale.ROOT)) {
            case "panamio-epoll" -> PanamioServer.start("EPOLL", port, http);
            case "panamio-io_uring" -> PanamioServer.start("IO_URING", port, http);
            case "panamio-httpserver" -> PanamioServer.startHttpServer(port);
            case "nio" -> NioServer.start(port, http);
            case "netty-epoll" -> NettyServer.start(false, port, http);
            case "netty-io_uring" -> NettyServer.start(true, port, http);
            case "ffm-floor" -> FfmFloorServer.start(port, http);
            default -> throw new IllegalArgumentException("unknown server " + name);
        };
        System.out.println("listening " + name + " on 127.0.0.1:" + port + " (" + (http ? "http" : "echo") + ")");
        if (allocFile != null) {
            reportAllocation(loopThread, allocFile);
        }
        Thread.currentThread().join();
    }

    private static void reportAllocation(Thread loopThread, Path file) {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Thread t = new Thread(() -> {
            while (true) {
                try {
                    long bytes = mx.getThreadAllocatedBytes(loopThread.threadId());
                    Files.writeString(file, bytes + " " + System.nanoTime() + "\n");
                    Thread.sleep(200);
                } catch (Exception e) {
                    return;
                }
            }
        }, "alloc-reporter");
        t.setDaemon(true);
        t.start();
    }

    /**
     * The HTTP request splitter every Java server uses: counts complete requests ("\r\n\r\n") in a stream,
     * carrying a partial terminator across reads.
     */
    public static final class Requests {
        private int state;

        /** Feeds one byte; returns true when it completes a request. */
        public boolean feed(byte b) {
            if (b == '\r') {
                state = state == 2 ? 3 : 1;
            } else if (b == '\n' && state == 1) {
                state = 2;
            } else if (b == '\n' && state == 3) {
                state = 0;
                return true;
            } else {
                state = 0;
            }
            return false;
        }
    }
}
