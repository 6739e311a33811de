package dev.panamio.sys.linux;

import dev.panamio.sys.SockAddrCodec;
import dev.panamio.sys.linux.ffi.linux_h;
import dev.panamio.sys.linux.ffi.sockaddr_in;
import dev.panamio.sys.linux.ffi.sockaddr_in6;

import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;

/** Java socket addresses to and from Linux's {@code sockaddr_in}/{@code sockaddr_in6}. No DNS, ever. */
public final class SockAddr {
    private SockAddr() {}

    /** The Linux layouts and families, from the generated bindings. */
    public static final SockAddrCodec CODEC = new SockAddrCodec(linux_h.AF_INET(), linux_h.AF_INET6(),
            sockaddr_in.sizeof(), sockaddr_in.sin_port$offset(), sockaddr_in.sin_addr$offset(),
            sockaddr_in6.sizeof(), sockaddr_in6.sin6_port$offset(), sockaddr_in6.sin6_addr$offset(),
            sockaddr_in6.sin6_scope_id$offset());

    /**
     * Writes {@code a} into {@code dst} (at least {@code sizeof(sockaddr_in6)} bytes).
     *
     * @return the address length to pass to the kernel
     * @throws IllegalArgumentException if the address is unresolved
     */
    public static int write(MemorySegment dst, InetSocketAddress a) {
        return CODEC.write(dst, a);
    }

    /** Reads a {@code sockaddr_in}/{@code sockaddr_in6} from {@code src}; null for other families. */
    public static InetSocketAddress read(MemorySegment src) {
        return CODEC.read(src);
    }
}
