package dev.panamio.sys;

import java.util.Locale;

/**
 * Opens a backend by name. The platform's classes are referenced only on the branch that uses them, so no
 * other platform's bindings are ever linked.
 */
public final class Backends {
    private Backends() {}

    /** Whether this JVM runs on Linux. */
    public static boolean isLinux() {
        return System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux");
    }

    /** Whether this JVM runs on Windows. */
    public static boolean isWindows() {
        return System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows");
    }

    /** The default backend name for this platform ({@code epoll} on Linux, {@code iocp} on Windows). */
    public static String defaultName() {
        if (isWindows()) {
            return "iocp";
        }
        if (isLinux()) {
            return "epoll";
        }
        throw new UnsupportedOperationException("panamio supports Linux and Windows; this is "
                + System.getProperty("os.name"));
    }

    /**
     * Opens the named backend.
     *
     * @param ringBuffers how many pool buffers a backend may lend ahead of time (an io_uring provided-buffer
     *                    ring; a power of two, or 0 for none)
     * @throws UnsupportedOperationException when it does not exist on this platform or kernel (the message
     *                                       says why)
     */
    public static IoBackend open(String name, NativeAllocator memory, BufferSource buffers, OpRegistry registry,
                                 int ringBuffers) {
        return switch (name) {
            case "epoll" -> {
                requireLinux(name);
                yield new dev.panamio.sys.linux.epoll.EpollBackend(memory);
            }
            case "io_uring" -> {
                requireLinux(name);
                yield new dev.panamio.sys.linux.uring.IoUringBackend(memory, buffers, registry, ringBuffers);
            }
            case "iocp" -> {
                if (!isWindows()) {
                    throw new UnsupportedOperationException("iocp needs Windows; this is " + System.getProperty("os.name"));
                }
                yield new dev.panamio.sys.windows.IocpBackend(dev.panamio.sys.windows.Win32Api.open(), memory, registry);
            }
            default -> throw new UnsupportedOperationException("backend " + name + " is not available in this build");
        };
    }

    private static void requireLinux(String name) {
        if (!isLinux()) {
            throw new UnsupportedOperationException(name + " needs Linux; this is " + System.getProperty("os.name"));
        }
    }
}
