package dev.panamio.testing;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Fails a test class that leaves file descriptors open: the set in {@code /proc/self/fd} must return to what
 * it was before the class (waits up to 10 s, since peers' sockets close asynchronously). The failure lists
 * each leaked descriptor and what it points to.
 */
public final class FdLeakCheck implements BeforeAllCallback, AfterAllCallback {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(FdLeakCheck.class);
    private static final Path FDS = Path.of("/proc/self/fd");

    /** Open descriptors and their targets; empty where /proc is absent (not Linux). */
    public static Map<Integer, String> openFds() {
        Map<Integer, String> fds = new TreeMap<>();
        if (!Files.isDirectory(FDS)) {
            return fds;
        }
        try (Stream<Path> s = Files.list(FDS)) {
            s.forEach(p -> {
                String target;
                try {
                    target = Files.readSymbolicLink(p).toString();
                } catch (IOException gone) {
                    return; // closed while listing (or the listing's own descriptor)
                }
                fds.put(Integer.parseInt(p.getFileName().toString()), target);
            });
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
        return fds;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        warmUpJdkNetworking();
        context.getStore(NS).put("fds", openFds());
    }

    /**
     * The JDK's socket implementation keeps one descriptor of its own open for good after its first use (the
     * socket it dup2()s over a descriptor being closed). Open one JDK connection first, so that descriptor
     * belongs to the baseline and is not blamed on the class under test.
     */
    private static void warmUpJdkNetworking() throws IOException {
        try (java.net.ServerSocket ss = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
             java.net.Socket c = new java.net.Socket()) {
            c.connect(ss.getLocalSocketAddress(), 10_000);
            ss.accept().close();
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public void afterAll(ExtensionContext context) throws Exception {
        Map<Integer, String> before = context.getStore(NS).get("fds", Map.class);
        long deadline = System.nanoTime() + 10_000_000_000L;
        Map<Integer, String> leaked;
        do {
            leaked = new TreeMap<>(openFds());
            leaked.keySet().removeAll(before.keySet());
            // Descriptors the JVM opens lazily for its own use (jar files, /dev/random) are not ours.
            leaked.values().removeIf(t -> t.endsWith(".jar") || t.startsWith("/dev/") || t.contains("/jre/")
                    || t.contains("/lib/modules") || t.contains("hsperfdata")
                    || t.startsWith("/proc/")); // the listing of /proc/self/fd itself
            if (leaked.isEmpty()) {
                return;
            }
            Thread.sleep(20);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("file descriptor leak in " + context.getDisplayName() + ": " + leaked);
    }
}
