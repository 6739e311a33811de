package dev.panamio.sys.linux;

import dev.panamio.sys.Sockets;
import dev.panamio.sys.linux.ffi.linux_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;

/**
 * The Linux socket calls of the {@link Sockets} SPI over {@link LinuxSys}, shared by the epoll and io_uring
 * backends; a backend registers each new descriptor with its queue by overriding {@link #onOpen(int)}.
 */
public class LinuxSockets implements Sockets {
    private static final int SOCK_FLAGS = linux_h.SOCK_STREAM() | linux_h.SOCK_NONBLOCK() | linux_h.SOCK_CLOEXEC();

    private final LinuxSys sys;
    private final MemorySegment addr;

    /** @param sys the loop's syscall layer */
    public LinuxSockets(LinuxSys sys) {
        this.sys = sys;
        this.addr = Arena.ofAuto().allocate(128, 8);
    }

    /** Called for each new descriptor (created or accepted) before any op uses it. */
    protected int onOpen(int fd) {
        return 0;
    }

    @Override
    public long openTcp(boolean ipv6) {
        int fd = sys.socket(ipv6 ? linux_h.AF_INET6() : linux_h.AF_INET(), SOCK_FLAGS, 0);
        if (fd < 0) {
            return fd;
        }
        if (ipv6) {
            sys.setsockoptInt(fd, linux_h.IPPROTO_IPV6(), linux_h.IPV6_V6ONLY(), 0);
        }
        int r = onOpen(fd);
        if (r < 0) {
            sys.close(fd);
            return r;
        }
        return fd;
    }

    @Override
    public int adopt(long handle) {
        return onOpen((int) handle);
    }

    @Override
    public int bind(long handle, InetSocketAddress address) {
        int len = SockAddr.write(addr, address);
        return sys.bind((int) handle, addr, len);
    }

    @Override
    public int listen(long handle, int backlog) {
        return sys.listen((int) handle, backlog);
    }

    @Override
    public int setOption(long handle, SocketOption option, int value) {
        int fd = (int) handle;
        return switch (option) {
            case REUSE_ADDRESS -> sys.setsockoptInt(fd, linux_h.SOL_SOCKET(), linux_h.SO_REUSEADDR(), value);
            case REUSE_PORT -> sys.setsockoptInt(fd, linux_h.SOL_SOCKET(), linux_h.SO_REUSEPORT(), value);
            case TCP_NODELAY -> sys.setsockoptInt(fd, linux_h.IPPROTO_TCP(), linux_h.TCP_NODELAY(), value);
            case KEEP_ALIVE -> sys.setsockoptInt(fd, linux_h.SOL_SOCKET(), linux_h.SO_KEEPALIVE(), value);
            case LINGER -> sys.setLinger(fd, value >= 0, Math.max(0, value));
            case RECEIVE_BUFFER -> sys.setsockoptInt(fd, linux_h.SOL_SOCKET(), linux_h.SO_RCVBUF(), value);
            case SEND_BUFFER -> sys.setsockoptInt(fd, linux_h.SOL_SOCKET(), linux_h.SO_SNDBUF(), value);
        };
    }

    @Override
    public InetSocketAddress localAddress(long handle) {
        return sys.getsockname((int) handle, addr) < 0 ? null : SockAddr.read(addr);
    }

    @Override
    public InetSocketAddress remoteAddress(long handle) {
        return sys.getpeername((int) handle, addr) < 0 ? null : SockAddr.read(addr);
    }

    @Override
    public int shutdownOutput(long handle) {
        return sys.shutdown((int) handle, linux_h.SHUT_WR());
    }

    @Override
    public int close(long handle) {
        return sys.close((int) handle);
    }

    @Override
    public int writeAddress(MemorySegment dst, InetSocketAddress address) {
        return SockAddr.write(dst, address);
    }
}
