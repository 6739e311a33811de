package dev.panamio.sys;

import java.net.InetSocketAddress;

/**
 * A platform's synchronous socket calls. Results are {@code >= 0} on success and {@code -code} on failure,
 * decoded by {@link IoBackend#errors()}. Every socket is created non-blocking and close-on-exec, and is
 * registered with its backend's queue on creation. Loop thread only.
 */
public interface Sockets {
    /** Creates a TCP socket for IPv4 or IPv6. Returns the handle or {@code -code}. */
    long openTcp(boolean ipv6);

    /** Binds {@code handle} to {@code address}. */
    int bind(long handle, InetSocketAddress address);

    /** Marks {@code handle} listening. */
    int listen(long handle, int backlog);

    /** Sets a boolean/int socket option by portable name. */
    int setOption(long handle, SocketOption option, int value);

    /** The local address, or {@code null} with the error in {@code lastError()}. */
    InetSocketAddress localAddress(long handle);

    /** The peer address, or {@code null}. */
    InetSocketAddress remoteAddress(long handle);

    /** Shuts the sending side down (FIN). */
    int shutdownOutput(long handle);

    /** Closes the handle. The core calls it only when no op on the handle is in the kernel. */
    int close(long handle);

    /**
     * Writes {@code address} as a native socket address into {@code dst} (at least 128 bytes).
     *
     * @return the address length
     */
    int writeAddress(java.lang.foreign.MemorySegment dst, InetSocketAddress address);

    /** Called once for a handle returned by a completed ACCEPT, before any op on it (IOCP: association). */
    default int adopt(long handle) {
        return 0;
    }

    /** Portable socket options. */
    enum SocketOption {
        /** SO_REUSEADDR. */
        REUSE_ADDRESS,
        /** SO_REUSEPORT (Linux); ignored where absent. */
        REUSE_PORT,
        /** TCP_NODELAY. */
        TCP_NODELAY,
        /** SO_KEEPALIVE. */
        KEEP_ALIVE,
        /** SO_LINGER with l_onoff = 1 and l_linger = value (0: reset on close); value &lt; 0 disables. */
        LINGER,
        /** SO_RCVBUF. */
        RECEIVE_BUFFER,
        /** SO_SNDBUF. */
        SEND_BUFFER
    }
}
