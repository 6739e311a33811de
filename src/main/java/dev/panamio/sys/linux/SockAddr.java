package dev.panamio.sys.linux;

import dev.panamio.sys.linux.ffi.linux_h;
import dev.panamio.sys.linux.ffi.sockaddr_in;
import dev.panamio.sys.linux.ffi.sockaddr_in6;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteOrder;

/** Java socket addresses to and from native {@code sockaddr_in}/{@code sockaddr_in6}. No DNS, ever. */
public final class SockAddr {
    private SockAddr() {}

    private static final ValueLayout.OfShort PORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    /**
     * Writes {@code a} into {@code dst} (at least {@code sizeof(sockaddr_in6)} bytes).
     *
     * @return the address length to pass to the kernel
     * @throws IllegalArgumentException if the address is unresolved
     */
    public static int write(MemorySegment dst, InetSocketAddress a) {
        InetAddress ip = a.getAddress();
        if (ip == null) {
            throw new IllegalArgumentException("unresolved address: " + a);
        }
        byte[] bytes = ip.getAddress();
        if (ip instanceof Inet4Address) {
            MemorySegment s = dst.asSlice(0, sockaddr_in.sizeof());
            s.fill((byte) 0);
            sockaddr_in.sin_family(s, (short) linux_h.AF_INET());
            s.set(PORT, sockaddr_in.sin_port$offset(), (short) a.getPort());
            MemorySegment.copy(MemorySegment.ofArray(bytes), 0, s, sockaddr_in.sin_addr$offset(), 4);
            return (int) sockaddr_in.sizeof();
        }
        MemorySegment s = dst.asSlice(0, sockaddr_in6.sizeof());
        s.fill((byte) 0);
        sockaddr_in6.sin6_family(s, (short) linux_h.AF_INET6());
        s.set(PORT, sockaddr_in6.sin6_port$offset(), (short) a.getPort());
        MemorySegment.copy(MemorySegment.ofArray(bytes), 0, s, sockaddr_in6.sin6_addr$offset(), 16);
        sockaddr_in6.sin6_scope_id(s, ((Inet6Address) ip).getScopeId());
        return (int) sockaddr_in6.sizeof();
    }

    /** Reads a {@code sockaddr_in}/{@code sockaddr_in6} from {@code src}; null for other families. */
    public static InetSocketAddress read(MemorySegment src) {
        int family = sockaddr_in.sin_family(src) & 0xFFFF;
        try {
            if (family == linux_h.AF_INET()) {
                byte[] ip = src.asSlice(sockaddr_in.sin_addr$offset(), 4).toArray(ValueLayout.JAVA_BYTE);
                int port = src.get(PORT, sockaddr_in.sin_port$offset()) & 0xFFFF;
                return new InetSocketAddress(InetAddress.getByAddress(ip), port);
            }
            if (family == linux_h.AF_INET6()) {
                byte[] ip = src.asSlice(sockaddr_in6.sin6_addr$offset(), 16).toArray(ValueLayout.JAVA_BYTE);
                int port = src.get(PORT, sockaddr_in6.sin6_port$offset()) & 0xFFFF;
                int scope = sockaddr_in6.sin6_scope_id(src);
                InetAddress addr = scope != 0 ? Inet6Address.getByAddress(null, ip, scope) : InetAddress.getByAddress(ip);
                return new InetSocketAddress(addr, port);
            }
        } catch (UnknownHostException impossible) {
            throw new AssertionError(impossible);
        }
        return null;
    }
}
