package dev.panamio.sys.linux;

import dev.panamio.sys.linux.ffi.linux_h;
import dev.panamio.testing.LeakChecked;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The raw syscall layer on real descriptors: epoll, eventfd, sockets on loopback, errno by name. */
@LeakChecked
@org.junit.jupiter.api.condition.EnabledOnOs(org.junit.jupiter.api.condition.OS.LINUX)
class LinuxSyscallsTest {
    private Arena arena;
    private LinuxSys sys;
    private final List<Integer> fds = new ArrayList<>();

    @BeforeEach
    void open() {
        arena = Arena.ofConfined();
        sys = new LinuxSys(arena);
    }

    @AfterEach
    void close() {
        for (int fd : fds) {
            sys.close(fd);
        }
        arena.close();
    }

    private int track(int fd) {
        assertThat(fd).as("descriptor (or -errno: %s)", fd < 0 ? Errno.message(-fd) : "").isGreaterThanOrEqualTo(0);
        fds.add(fd);
        return fd;
    }

    @Test
    void epollReturnsTheTokenOfAnEventfdThatWasWritten() {
        int ep = track(sys.epollCreate1(linux_h.EPOLL_CLOEXEC()));
        int efd = track(sys.eventfd(0, linux_h.EFD_NONBLOCK() | linux_h.EFD_CLOEXEC()));
        long token = 0x1234_5678_9ABCL;
        assertThat(sys.epollCtl(ep, linux_h.EPOLL_CTL_ADD(), efd, linux_h.EPOLLIN(), token)).isZero();
        MemorySegment events = arena.allocate(EpollEvents.layout().byteSize() * 8, 8);
        assertThat(sys.epollWait(ep, events, 8, 0)).as("nothing ready yet").isZero();
        MemorySegment one = arena.allocate(8, 8);
        one.set(ValueLayout.JAVA_LONG, 0, 5);
        LinuxSys.eventfdWriteAnyThread(efd, one);
        assertThat(sys.epollWait(ep, events, 8, 5000)).isEqualTo(1);
        assertThat(events.get(ValueLayout.JAVA_LONG_UNALIGNED, EpollEvents.dataOffset())).isEqualTo(token);
        assertThat(events.get(ValueLayout.JAVA_INT_UNALIGNED, EpollEvents.eventsOffset()) & linux_h.EPOLLIN()).isNotZero();
        assertThat(sys.eventfdRead(efd)).isEqualTo(5);
        assertThat(sys.eventfdRead(efd)).isEqualTo(-linux_h.EAGAIN());
    }

    @Test
    void socketsOnLoopbackBothWaysWithNonBlockingConnect() {
        int flags = linux_h.SOCK_STREAM() | linux_h.SOCK_NONBLOCK() | linux_h.SOCK_CLOEXEC();
        int listener = track(sys.socket(linux_h.AF_INET(), flags, 0));
        MemorySegment addr = arena.allocate(128, 8);
        int len = SockAddr.write(addr, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        assertThat(sys.bind(listener, addr, len)).isZero();
        assertThat(sys.listen(listener, 16)).isZero();
        assertThat(sys.getsockname(listener, addr)).isEqualTo(16);
        InetSocketAddress bound = SockAddr.read(addr);
        assertThat(bound.getPort()).isPositive();

        int client = track(sys.socket(linux_h.AF_INET(), flags, 0));
        int r = sys.connect(client, addr, len);
        assertThat(r == 0 || r == -linux_h.EINPROGRESS()).as("connect: %s", r < 0 ? Errno.message(-r) : "0").isTrue();

        int ep = track(sys.epollCreate1(linux_h.EPOLL_CLOEXEC()));
        assertThat(sys.epollCtl(ep, linux_h.EPOLL_CTL_ADD(), client, linux_h.EPOLLOUT(), 7)).isZero();
        MemorySegment events = arena.allocate(EpollEvents.layout().byteSize() * 4, 8);
        assertThat(sys.epollWait(ep, events, 4, 5000)).isEqualTo(1);
        assertThat(sys.getsockoptInt(client, linux_h.SOL_SOCKET(), linux_h.SO_ERROR())).isZero();

        int server = track(sys.accept4(listener, MemorySegment.NULL, MemorySegment.NULL, linux_h.SOCK_NONBLOCK() | linux_h.SOCK_CLOEXEC()));
        assertThat(sys.getpeername(server, addr)).isPositive();
        assertThat(SockAddr.read(addr).getAddress()).isEqualTo(InetAddress.getLoopbackAddress());

        MemorySegment buf = arena.allocate(64);
        buf.setString(0, "ping");
        assertThat(sys.send(client, buf, 0, 4, linux_h.MSG_NOSIGNAL())).isEqualTo(4);
        MemorySegment in = arena.allocate(64);
        assertThat(pollRecv(server, in)).isEqualTo(4);
        assertThat(in.getString(0)).isEqualTo("ping");
        assertThat(sys.recv(server, in, 0, 64, 0)).as("drained").isEqualTo(-linux_h.EAGAIN());

        assertThat(sys.send(server, buf, 0, 4, linux_h.MSG_NOSIGNAL())).isEqualTo(4);
        assertThat(pollRecv(client, in)).isEqualTo(4);

        assertThat(sys.shutdown(client, linux_h.SHUT_WR())).isZero();
        assertThat(pollRecv(server, in)).as("EOF after the peer's shutdown").isZero();
        assertThat(sys.close(server)).isZero();
        fds.remove((Integer) server);
    }

    private long pollRecv(int fd, MemorySegment in) {
        long deadline = System.nanoTime() + 5_000_000_000L;
        long n;
        while ((n = sys.recv(fd, in, 0, in.byteSize(), 0)) == -linux_h.EAGAIN() && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        return n;
    }

    @Test
    void connectToAClosedPortIsEconnrefusedByName() throws Exception {
        int port;
        try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = ss.getLocalPort();
        }
        int fd = track(sys.socket(linux_h.AF_INET(), linux_h.SOCK_STREAM() | linux_h.SOCK_CLOEXEC(), 0));
        MemorySegment addr = arena.allocate(128, 8);
        int len = SockAddr.write(addr, new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        int r = sys.connect(fd, addr, len);
        assertThat(r).isEqualTo(-linux_h.ECONNREFUSED());
        assertThat(Errno.message(-r)).isEqualTo("ECONNREFUSED (111): Connection refused");
        assertThat(Errno.LINUX.kind(-r)).isEqualTo(dev.panamio.sys.ErrorKind.CONNECTION_REFUSED);
    }

    @Test
    void errnoComesFromTheCallItself() {
        assertThat(sys.close(-1)).isEqualTo(-linux_h.EBADF());
        assertThat(sys.listen(-1, 1)).isEqualTo(-linux_h.EBADF());
        assertThat(Errno.nameOf(linux_h.EBADF())).isEqualTo("EBADF");
        assertThat(Errno.nameOf(9999)).isEqualTo("errno 9999");
    }

    @Test
    void ipv6AddressesRoundTrip() throws Exception {
        MemorySegment addr = arena.allocate(128, 8);
        InetSocketAddress v6 = new InetSocketAddress(InetAddress.getByName("::1"), 8443);
        assertThat(SockAddr.write(addr, v6)).isEqualTo(28);
        assertThat(SockAddr.read(addr)).isEqualTo(v6);
        InetSocketAddress v4 = new InetSocketAddress(InetAddress.getByName("10.1.2.3"), 80);
        assertThat(SockAddr.write(addr, v4)).isEqualTo(16);
        assertThat(SockAddr.read(addr)).isEqualTo(v4);
    }
}
