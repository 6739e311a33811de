package dev.panamio.sys;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteOrder;

/**
 * Java socket addresses to and from a platform's native {@code sockaddr_in}/{@code sockaddr_in6}. Linux and
 * Windows lay these out alike but number {@code AF_INET6} differently, so each platform makes one codec from
 * its generated bindings (whose values the conformance checks prove). No DNS, ever.
 *
 * @param af4 {@code AF_INET}
 * @param af6 {@code AF_INET6}
 * @param v4Size {@code sizeof(sockaddr_in)}
 * @param v4Port offset of {@code sin_port}
 * @param v4Addr offset of {@code sin_addr}
 * @param v6Size {@code sizeof(sockaddr_in6)}
 * @param v6Port offset of {@code sin6_port}
 * @param v6Addr offset of {@code sin6_addr}
 * @param v6Scope offset of {@code sin6_scope_id}
 */
public record SockAddrCodec(int af4, int af6, long v4Size, long v4Port, long v4Addr,
                            long v6Size, long v6Port, long v6Addr, long v6Scope) {
    private static final ValueLayout.OfShort PORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    /**
     * Writes {@code a} into {@code dst} (at least {@code v6Size} bytes).
     *
     * @return the address length to pass to the kernel
     * @throws IllegalArgumentException if the address is unresolved
     */
    public int write(MemorySegment dst, InetSocketAddress a) {
        InetAddress ip = a.getAddress();
        if (ip == null) {
            throw new IllegalArgumentException("unresolved address: " + a);
        }
        byte[] bytes = ip.getAddress();
        boolean v4 = ip instanceof Inet4Address;
        long size = v4 ? v4Size : v6Size;
        MemorySegment s = dst.asSlice(0, size);
        s.fill((byte) 0);
        s.set(ValueLayout.JAVA_SHORT, 0, (short) (v4 ? af4 : af6)); // the family is the first field of both
        s.set(PORT, v4 ? v4Port : v6Port, (short) a.getPort());
        MemorySegment.copy(MemorySegment.ofArray(bytes), 0, s, v4 ? v4Addr : v6Addr, bytes.length);
        if (!v4) {
            s.set(ValueLayout.JAVA_INT, v6Scope, ((Inet6Address) ip).getScopeId());
        }
        return (int) size;
    }

    /** Reads a {@code sockaddr_in}/{@code sockaddr_in6} from {@code src}; null for other families. */
    public InetSocketAddress read(MemorySegment src) {
        int family = src.get(ValueLayout.JAVA_SHORT, 0) & 0xFFFF;
        try {
            if (family == af4) {
                byte[] ip = src.asSlice(v4Addr, 4).toArray(ValueLayout.JAVA_BYTE);
                return new InetSocketAddress(InetAddress.getByAddress(ip), src.get(PORT, v4Port) & 0xFFFF);
            }
            if (family == af6) {
                byte[] ip = src.asSlice(v6Addr, 16).toArray(ValueLayout.JAVA_BYTE);
                int scope = src.get(ValueLayout.JAVA_INT, v6Scope);
                InetAddress addr = scope != 0 ? Inet6Address.getByAddress(null, ip, scope) : InetAddress.getByAddress(ip);
                return new InetSocketAddress(addr, src.get(PORT, v6Port) & 0xFFFF);
            }
        } catch (UnknownHostException impossible) {
            throw new AssertionError(impossible);
        }
        return null;
    }
}
