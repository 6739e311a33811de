package dev.panamio;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;

/**
 * The server side of {@link EmfileTest}, run in a child JVM with a low descriptor limit: an echo server
 * that prints {@code port N}, serves until its standard input closes, then prints {@code stats {json}} and
 * exits.
 */
public final class EmfileChild {
    private EmfileChild() {}

    public static void main(String[] args) throws Exception {
        Backend backend = Backend.valueOf(args[0]);
        preloadLibraryClasses();
        EventLoop loop = EventLoop.builder().backend(backend).readTimeout(Timeout.NONE).build().start();
        CompletableFuture<TcpServer> server = new CompletableFuture<>();
        loop.execute(() -> {
            try {
                server.complete(loop.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                        TcpOptions.defaults().withBacklog(1024), conn -> conn.startReading((c, data) -> c.write(data))));
            } catch (Throwable e) {
                server.completeExceptionally(e);
            }
        });
        System.out.println("port " + server.get().localAddress().getPort());
        System.out.flush();
        while (System.in.read() >= 0) {
            // serve until the parent closes our stdin
        }
        CompletableFuture<LoopStats> stats = new CompletableFuture<>();
        loop.execute(() -> stats.complete(loop.stats()));
        System.out.println("stats " + stats.get().toJson());
        loop.close();
        System.out.println("closed");
    }

    /**
     * Loads every panamio class now: at the descriptor limit the JVM could not open a class file, and a
     * class first needed there (the backoff timer, say) would fail to load in this child, not in a server
     * whose classes are in a jar that is already open.
     */
    private static void preloadLibraryClasses() throws Exception {
        java.nio.file.Path root = java.nio.file.Path.of(EventLoop.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        if (!java.nio.file.Files.isDirectory(root)) {
            return;
        }
        try (var files = java.nio.file.Files.walk(root)) {
            for (java.nio.file.Path p : (Iterable<java.nio.file.Path>) files::iterator) {
                String rel = root.relativize(p).toString();
                if (rel.endsWith(".class") && !rel.equals("module-info.class")) {
                    Class.forName(rel.substring(0, rel.length() - 6).replace('/', '.'), false, EmfileChild.class.getClassLoader());
                }
            }
        }
    }
}
