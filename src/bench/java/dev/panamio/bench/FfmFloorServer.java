package dev.panamio.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The floor of any Java library on the FFM API: {@code src/bench/c/cepoll.c} written again in Java, call for
 * call (edge-triggered epoll, one {@code recv} until a short read, {@code send} at once, the same byte-at-a-time
 * request splitter), with no library in between. {@code recv} and {@code send} are linked as panamio links them
 * ({@code critical}, {@code errno} captured). What this server spends in user space above the C server's is what
 * the FFM downcalls and the JIT-compiled loop cost; what panamio spends above this server is the library's own.
 * Benchmark code only (server name {@code ffm-floor}).
 */
final class FfmFloorServer {
    private static final int AF_INET = 2, SOCK_STREAM = 1, SOCK_NONBLOCK = 0x800, SOCK_CLOEXEC = 0x80000;
    private static final int SOL_SOCKET = 1, SO_REUSEADDR = 2, IPPROTO_TCP = 6, TCP_NODELAY = 1;
    private static final int EPOLL_CTL_ADD = 1, EPOLLIN = 1, EPOLLOUT = 4, EPOLLERR = 8, EPOLLHUP = 0x10,
            EPOLLRDHUP = 0x2000, EPOLLET = 1 << 31;
    private static final int EAGAIN = 11, MSG_NOSIGNAL = 0x4000;
    private static final int BUF = 16384, MAXFD = 65536, MAX_EVENTS = 1024;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout ERRNO_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = ERRNO_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    /** struct epoll_event is packed on x86-64: 4-byte events, then 8-byte data at offset 4. */
    private static final long EVENT_SIZE = 12;

    private static final MethodHandle SOCKET = plain("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle SETSOCKOPT = plain("setsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle BIND = plain("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle LISTEN = plain("listen", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle EPOLL_CREATE1 = plain("epoll_create1", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle EPOLL_CTL = plain("epoll_ctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle EPOLL_WAIT = plain("epoll_wait",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    private static final MethodHandle ACCEPT4 = plain("accept4",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    private static final MethodHandle CLOSE = plain("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle RECV = fast("recv", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle SEND = fast("send", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));

    private static MethodHandle plain(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), fd);
    }

    private static MethodHandle fast(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), fd,
                Linker.Option.critical(true), Linker.Option.captureCallState("errno"));
    }

    private final boolean http;
    private final Arena arena = Arena.global();
    private final MemorySegment errno = arena.allocate(ERRNO_LAYOUT);
    /** The int 1, for the socket options. */
    private final MemorySegment one = arena.allocateFrom(JAVA_INT, 1);
    private final MemorySegment buf = arena.allocate(BUF);
    private final MemorySegment out;
    private final int[] state = new int[MAXFD];
    /** Per-connection bytes not yet written (native, grown like the C server's realloc). */
    private final MemorySegment[] pending = new MemorySegment[MAXFD];
    private final long[] plen = new long[MAXFD];

    private FfmFloorServer(boolean http) {
        this.http = http;
        this.out = arena.allocate((long) BUF / 4 * BenchServer.RESPONSE.length);
    }

    static Thread start(int port, boolean http) {
        FfmFloorServer s = new FfmFloorServer(http);
        int ls = s.listen(port);
        Thread t = new Thread(() -> {
            try {
                s.run(ls);
            } catch (Throwable e) {
                e.printStackTrace();
                System.exit(1);
            }
        }, "ffm-floor-loop");
        t.start();
        return t;
    }

    private int listen(int port) {
        try {
            int ls = check((int) SOCKET.invokeExact(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), "socket");
            check((int) SETSOCKOPT.invokeExact(ls, SOL_SOCKET, SO_REUSEADDR, one, 4), "setsockopt");
            MemorySegment sin = arena.allocate(16);
            sin.set(ValueLayout.JAVA_SHORT, 0, (short) AF_INET);
            sin.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN), 2, (short) port);
            sin.set(JAVA_INT.withOrder(java.nio.ByteOrder.BIG_ENDIAN), 4, 0x7f000001);
            check((int) BIND.invokeExact(ls, sin, 16), "bind to port " + port);
            check((int) LISTEN.invokeExact(ls, 4096), "listen");
            return ls;
        } catch (Throwable e) {
            throw e instanceof RuntimeException r ? r : new IllegalStateException(e);
        }
    }

    /** {@code r}, unless it is -1 (a call this server cannot go on without failed). */
    private static int check(int r, String what) {
        if (r < 0) {
            throw new IllegalStateException(what + " failed");
        }
        return r;
    }

    private void run(int ls) throws Throwable {
        int ep = check((int) EPOLL_CREATE1.invokeExact(SOCK_CLOEXEC), "epoll_create1");
        MemorySegment ev = arena.allocate(EVENT_SIZE);
        ev.set(JAVA_INT, 0, EPOLLIN);
        ev.set(ValueLayout.JAVA_LONG_UNALIGNED, 4, ls);
        check((int) EPOLL_CTL.invokeExact(ep, EPOLL_CTL_ADD, ls, ev), "epoll_ctl");
        MemorySegment events = arena.allocate(EVENT_SIZE * MAX_EVENTS, 8);
        for (;;) {
            int n = (int) EPOLL_WAIT.invokeExact(ep, events, MAX_EVENTS, -1);
            for (int i = 0; i < n; i++) {
                int flags = events.get(JAVA_INT, i * EVENT_SIZE);
                int fd = (int) events.get(ValueLayout.JAVA_LONG_UNALIGNED, i * EVENT_SIZE + 4);
                if (fd == ls) {
                    int c;
                    while ((c = (int) ACCEPT4.invokeExact(ls, MemorySegment.NULL, MemorySegment.NULL,
                            SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                        if (c >= MAXFD) {
                            check((int) CLOSE.invokeExact(c), "close");
                            continue;
                        }
                        check((int) SETSOCKOPT.invokeExact(c, IPPROTO_TCP, TCP_NODELAY, one, 4), "setsockopt");
                        ev.set(JAVA_INT, 0, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET);
                        ev.set(ValueLayout.JAVA_LONG_UNALIGNED, 4, c);
                        check((int) EPOLL_CTL.invokeExact(ep, EPOLL_CTL_ADD, c, ev), "epoll_ctl");
                    }
                    continue;
                }
                boolean bad = false;
                if ((flags & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
                    bad = onReadable(fd) < 0;
                }
                if (!bad && (flags & EPOLLOUT) != 0 && plen[fd] > 0) {
                    bad = flush(fd) < 0;
                }
                if (bad) {
                    state[fd] = 0;
                    plen[fd] = 0;
                    check((int) CLOSE.invokeExact(fd), "close");
                }
            }
        }
    }

    private int onReadable(int fd) throws Throwable {
        for (;;) {
            long n = (long) RECV.invokeExact(errno, fd, buf, (long) BUF, 0);
            if (n == 0) {
                return -1;
            }
            if (n < 0) {
                return (int) ERRNO.get(errno, 0L) == EAGAIN ? 0 : -1;
            }
            if (!http) {
                queue(fd, buf, n);
            } else {
                int st = state[fd];
                long o = 0;
                for (long i = 0; i < n; i++) {
                    byte ch = buf.get(ValueLayout.JAVA_BYTE, i);
                    if (ch == '\r') {
                        st = st == 2 ? 3 : 1;
                    } else if (ch == '\n' && st == 1) {
                        st = 2;
                    } else if (ch == '\n' && st == 3) {
                        MemorySegment.copy(BenchServer.RESPONSE, 0, out, ValueLayout.JAVA_BYTE, o, BenchServer.RESPONSE.length);
                        o += BenchServer.RESPONSE.length;
                        st = 0;
                    } else {
                        st = 0;
                    }
                }
                state[fd] = st;
                if (o > 0) {
                    queue(fd, out, o);
                }
            }
            if (flush(fd) < 0) {
                return -1;
            }
            if (n < BUF) {
                return 0;
            }
        }
    }

    private void queue(int fd, MemorySegment from, long n) {
        MemorySegment p = pending[fd];
        if (p == null || plen[fd] + n > p.byteSize()) {
            MemorySegment bigger = arena.allocate((plen[fd] + n) * 2);
            if (p != null) {
                MemorySegment.copy(p, 0, bigger, 0, plen[fd]);
            }
            pending[fd] = p = bigger;
        }
        MemorySegment.copy(from, 0, p, plen[fd], n);
        plen[fd] += n;
    }

    private int flush(int fd) throws Throwable {
        MemorySegment p = pending[fd];
        long len = plen[fd];
        long off = 0;
        while (off < len) {
            long n = (long) SEND.invokeExact(errno, fd, p.asSlice(off), len - off, MSG_NOSIGNAL);
            if (n < 0) {
                if ((int) ERRNO.get(errno, 0L) == EAGAIN) {
                    break;
                }
                return -1;
            }
            off += n;
        }
        if (off > 0 && off < len) {
            MemorySegment.copy(p, off, p, 0, len - off);
        }
        plen[fd] = len - off;
        return 0;
    }
}
