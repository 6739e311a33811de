package dev.panamio.testing;

import dev.panamio.Backend;

import java.util.stream.Stream;

/** The backends of this platform, for tests parameterized over backends: epoll and io_uring, or IOCP. */
public final class TestBackends {
    private TestBackends() {}

    /** @return the backends to test here */
    public static Stream<Backend> available() {
        return System.getProperty("os.name", "").startsWith("Windows") ? Stream.of(Backend.IOCP)
                : Stream.of(Backend.EPOLL, Backend.IO_URING);
    }

    /** The platform's name for a socket error: {@code ECONNREFUSED} on Linux, {@code WSAECONNREFUSED} on Windows. */
    public static String errorName(String posixName) {
        return System.getProperty("os.name", "").startsWith("Windows") ? "WSA" + posixName : posixName;
    }
}
