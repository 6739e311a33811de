package dev.panamio.bench;

import dev.panamio.Backend;
import dev.panamio.EventLoop;
import dev.panamio.TcpConnection;
import dev.panamio.TcpOptions;
import dev.panamio.Timeout;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;

/**
 * The benchmark servers on panamio: zero-copy echo, and the pipelined HTTP responder. Both end each lease in
 * the handler, so they run with {@code reuseLeases(true)}: reading allocates nothing.
 */
final class PanamioServer {
    private PanamioServer() {}

    /** Up to this many responses are written from one prebuilt native segment. */
    private static final int BATCH = 64;
    private static final MemorySegment RESPONSES = Arena.global().allocate((long) BenchServer.RESPONSE.length * BATCH);

    /** SLICES[k]: k responses, sliced once so that answering allocates nothing. */
    private static final MemorySegment[] SLICES = new MemorySegment[BATCH + 1];

    static {
        for (int i = 0; i < BATCH; i++) {
            MemorySegment.copy(BenchServer.RESPONSE, 0, RESPONSES, ValueLayout.JAVA_BYTE,
                    (long) i * BenchServer.RESPONSE.length, BenchServer.RESPONSE.length);
        }
        for (int k = 0; k <= BATCH; k++) {
            SLICES[k] = RESPONSES.asSlice(0, (long) k * BenchServer.RESPONSE.length);
        }
    }

    static Thread start(String backend, int port, boolean http) throws Exception {
        EventLoop loop = EventLoop.builder().backend(Backend.valueOf(backend)).readTimeout(Timeout.NONE).reuseLeases(true).build();
        CompletableFuture<Thread> thread = new CompletableFuture<>();
        loop.start();
        loop.execute(() -> {
            try {
                loop.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), port),
                        TcpOptions.defaults().withBacklog(4096), http ? PanamioServer::http : PanamioServer::echo);
                thread.complete(Thread.currentThread());
            } catch (Throwable e) {
                thread.completeExceptionally(e);
            }
        });
        return thread.get();
    }

    /** The library's own {@link dev.panamio.http.HttpServer} (epoll), answering "Hello, World!". */
    static Thread startHttpServer(int port) throws Exception {
        EventLoop loop = EventLoop.builder().backend(Backend.EPOLL).readTimeout(Timeout.NONE).build();
        CompletableFuture<Thread> thread = new CompletableFuture<>();
        byte[] hello = "Hello, World!".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        loop.start();
        loop.execute(() -> {
            try {
                dev.panamio.http.HttpServer.listen(loop, new InetSocketAddress(InetAddress.getLoopbackAddress(), port),
                        (req, res) -> res.header("Content-Type", "text/plain").send(hello));
                thread.complete(Thread.currentThread());
            } catch (Throwable e) {
                thread.completeExceptionally(e);
            }
        });
        return thread.get();
    }

    static void echo(TcpConnection conn) {
        conn.startReading((c, data) -> c.write(data));
    }

    static void http(TcpConnection conn) {
        BenchServer.Requests requests = new BenchServer.Requests();
        conn.startReading((c, data) -> {
            int n = 0;
            int len = data.length();
            for (int i = 0; i < len; i++) {
                if (requests.feed(data.get(i))) {
                    n++;
                }
            }
            data.release();
            while (n > 0) {
                int k = Math.min(n, BATCH);
                c.write(SLICES[k], null);
                n -= k;
            }
        });
    }

}
