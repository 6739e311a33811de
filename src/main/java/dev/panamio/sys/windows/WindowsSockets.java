package dev.panamio.sys.windows;

import dev.panamio.sys.NativeAllocator;
import dev.panamio.sys.SockAddrCodec;
import dev.panamio.sys.Sockets;
import dev.panamio.sys.windows.ffi.SOCKADDR_IN;
import dev.panamio.sys.windows.ffi.SOCKADDR_IN6;
import dev.panamio.sys.windows.ffi.SOCKADDR_STORAGE;
import dev.panamio.sys.windows.ffi.windows_h;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;

/** Winsock sockets for the IOCP backend: every socket is overlapped and associated with the port once. */
final class WindowsSockets implements Sockets {
    /** The Windows layouts and families (AF_INET6 is 23 here), from the generated bindings. */
    static final SockAddrCodec CODEC = new SockAddrCodec(windows_h.AF_INET(), windows_h.AF_INET6(),
            SOCKADDR_IN.sizeof(), SOCKADDR_IN.sin_port$offset(), SOCKADDR_IN.sin_addr$offset(),
            SOCKADDR_IN6.sizeof(), SOCKADDR_IN6.sin6_port$offset(), SOCKADDR_IN6.sin6_addr$offset(),
            SOCKADDR_IN6.layout().byteOffset(MemoryLayout.PathElement.groupElement("$anon$0"),
                    MemoryLayout.PathElement.groupElement("sin6_scope_id")));

    private final IocpApi api;
    private final IocpBackend backend;
    private final MemorySegment scratch;

    WindowsSockets(IocpApi api, IocpBackend backend, NativeAllocator memory) {
        this.api = api;
        this.backend = backend;
        this.scratch = memory.allocate(SOCKADDR_STORAGE.sizeof(), 8);
    }

    @Override
    public long openTcp(boolean ipv6) {
        long s = api.socket(ipv6 ? windows_h.AF_INET6() : windows_h.AF_INET());
        if (s < 0) {
            return s;
        }
        int rc = backend.adopt(s);
        if (rc < 0) {
            api.closeSocket(s);
            return rc;
        }
        return s;
    }

    @Override
    public int adopt(long handle) {
        return backend.adopt(handle); // a socket AcceptEx accepted into
    }

    @Override
    public int bind(long handle, InetSocketAddress address) {
        int len = writeAddress(scratch, address);
        return api.bind(handle, scratch, len);
    }

    /** ConnectEx needs a bound socket: binds to the wildcard address of {@code family} (already bound is fine). */
    int bindAny(long handle, short family) {
        scratch.fill((byte) 0);
        scratch.set(ValueLayout.JAVA_SHORT, 0, family);
        int rc = api.bind(handle, scratch, family == windows_h.AF_INET6() ? (int) SOCKADDR_IN6.sizeof() : (int) SOCKADDR_IN.sizeof());
        return rc == -windows_h.WSAEINVAL() ? 0 : rc;
    }

    @Override
    public int listen(long handle, int backlog) {
        int rc = api.listen(handle, backlog);
        if (rc >= 0 && api.localAddress(handle, scratch) >= 0) {
            backend.listening(handle, scratch.get(ValueLayout.JAVA_SHORT, 0));
        }
        return rc;
    }

    @Override
    public int setOption(long handle, SocketOption option, int value) {
        return switch (option) {
            // Windows listeners need no SO_REUSEADDR to rebind after a restart, and on Windows that option
            // would let another socket take the port: both are left alone.
            case REUSE_ADDRESS, REUSE_PORT -> 0;
            case TCP_NODELAY -> api.setOption(handle, windows_h.IPPROTO_TCP(), windows_h.TCP_NODELAY(), value);
            case KEEP_ALIVE -> api.setOption(handle, windows_h.SOL_SOCKET(), windows_h.SO_KEEPALIVE(), value);
            case LINGER -> api.setLinger(handle, value >= 0, Math.max(0, value));
            case RECEIVE_BUFFER -> api.setOption(handle, windows_h.SOL_SOCKET(), windows_h.SO_RCVBUF(), value);
            case SEND_BUFFER -> api.setOption(handle, windows_h.SOL_SOCKET(), windows_h.SO_SNDBUF(), value);
        };
    }

    @Override
    public InetSocketAddress localAddress(long handle) {
        return api.localAddress(handle, scratch) < 0 ? null : read(scratch);
    }

    @Override
    public InetSocketAddress remoteAddress(long handle) {
        return api.remoteAddress(handle, scratch) < 0 ? null : read(scratch);
    }

    @Override
    public int shutdownOutput(long handle) {
        return api.shutdown(handle, windows_h.SD_SEND());
    }

    @Override
    public int close(long handle) {
        backend.forget(handle);
        return api.closeSocket(handle);
    }

    @Override
    public int writeAddress(MemorySegment dst, InetSocketAddress a) {
        return CODEC.write(dst, a);
    }

    static InetSocketAddress read(MemorySegment src) {
        return CODEC.read(src);
    }
}
