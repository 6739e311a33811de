package dev.panamio.sys.linux;

import dev.panamio.sys.linux.ffi.linux_h;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The one place that builds downcall handles with {@code Linker.Option.captureCallState("errno")}, over the
 * generated {@code linux_h} descriptors. Every method returns {@code >= 0} on success or {@code -errno}; errno
 * is read from the call's own capture, never by a second call.
 *
 * <p>One instance per loop thread: it holds the reused capture segment and small scratch segments, so calls
 * allocate nothing. Not thread-safe, except the static {@link #eventfdWriteAnyThread}.
 *
 * <p>Buffers on the hot path (recv, send) are passed as raw addresses ({@code JAVA_LONG} in place of the
 * pointer; both are one 64-bit register in the C calling convention), so no slice is allocated per call.
 * Short non-blocking calls use {@code Linker.Option.critical(false)} (no thread-state transition);
 * {@code epoll_wait} does only with a zero timeout, when it cannot block.
 */
public final class LinuxSys {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE = Linker.Option.captureCallState("errno");
    private static final ValueLayout.OfLong PTR_AS_LONG = ValueLayout.JAVA_LONG;

    private static MethodHandle capturing(String name, FunctionDescriptor d, boolean critical) {
        MemorySegment addr = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("unresolved symbol: " + name));
        return link(addr, d, critical);
    }

    /** A capturing downcall handle, critical when asked and the linker allows it together with capture. */
    private static MethodHandle link(MemorySegment addr, FunctionDescriptor d, boolean critical, Linker.Option... more) {
        Linker.Option[] options = java.util.Arrays.copyOf(more, more.length + 1);
        options[more.length] = CAPTURE;
        if (critical) {
            Linker.Option[] withCritical = java.util.Arrays.copyOf(options, options.length + 1);
            withCritical[options.length] = Linker.Option.critical(false);
            try {
                return LINKER.downcallHandle(addr, d, withCritical);
            } catch (IllegalArgumentException notCombinable) {
                // Older linkers refuse critical together with call-state capture: capture wins.
            }
        }
        return LINKER.downcallHandle(addr, d, options);
    }

    /** {@code d} with every pointer (argument or result) taken as a raw address. */
    private static FunctionDescriptor raw(FunctionDescriptor d) {
        var args = d.argumentLayouts().stream()
                .map(l -> l instanceof java.lang.foreign.AddressLayout ? (MemoryLayout) PTR_AS_LONG : l)
                .toArray(MemoryLayout[]::new);
        return d.returnLayout()
                .map(r -> FunctionDescriptor.of(r instanceof java.lang.foreign.AddressLayout ? PTR_AS_LONG : r, args))
                .orElse(FunctionDescriptor.ofVoid(args));
    }

    private static final class EPOLL_CREATE1 { // linked on first use: only what a loop calls is linked
        static final MethodHandle H = capturing("epoll_create1", linux_h.epoll_create1$descriptor(), true);
    }
    private static final class EPOLL_CTL { // linked on first use: only what a loop calls is linked
        static final MethodHandle H = capturing("epoll_ctl", linux_h.epoll_ctl$descriptor(), true);
    }
    private static final class EPOLL_WAIT { // linked on first use: only what a loop calls is linked
        static final MethodHandle H = capturing("epoll_wait", linux_h.epoll_wait$descriptor(), false);
    }
    /** epoll_wait with a zero timeout never blocks: a busy loop's polls need no thread-state transition. */
    private static final class EPOLL_WAIT_NOW { // linked on first use: only what a loop calls is linked
        static final MethodHandle H = capturing("epoll_wait", linux_h.epoll_wait$descriptor(), true);
    }
    private static final class EVENTFD { // linked on first use: only what a loop calls is linked
        static final MethodHandle H = capturing("eventfd", linux_h.eventfd$descriptor(), true);
    }
    private static final class SOCKET { // linked on first use: only what a loop calls is linked
        static final MethodHandle H = capturing("socket", linux_h.socket$descriptor(), true);
    }
    private static final class BIND { // linked on first use: only what a loop calls is linked
        static final MethodHandle H = capturing("bind", linux_h.bind$descriptor(), true);
    }
    private static final class LISTEN { // linked on first use: only what a loop calls is linked
        static final MethodHandle H = capturing("listen", linux_h.listen$descriptor(), true);
    }
    private static final class ACCEPT4 { // linked on first use: only what a loop calls is linked
        static final MethodHandle H = capturing("accept4", linux_h.accept4$descriptor(), true);
    }
    private static final class CONNECT { // linked on first use: only what a loop calls is linked
        static final MethodHandle H = capturing("connect", linux_h.connect$descriptor(), true);
    }
    private static final class GETSOCKOPT { // linked on first use: only what a loop calls is linked
        static final MethodHandle H = capturing("getsockopt", linux_h.getsockopt$descriptor(), true);
    }
    private static final class SETSOCKOPT { // linked on first use: only what a loop calls is linked
        static final MethodHandle H = capturing("setsockopt", linux_h.setsockopt$descriptor(), true);
    }
    private static final class GETSOCKNAME { // linked on first use: only what a loop calls is linked
        static final MethodHandle H = capturing("getsockname", linux_h.getsockname$descriptor(), true);
    }
    private static final class GETPEERNAME { // linked on first use: only what a loop calls is linked
        static final MethodHandle H = capturing("getpeername", linux_h.getpeername$descriptor(), true);
    }
    private static final class READ { // linked on first use: only what a loop calls is linked
        static final MethodHandle H = capturing("read", raw(linux_h.read$descriptor()), true);
    }
    private static final class RECV { // linked on first use: only what a loop calls is linked
        static final MethodHandle H = capturing("recv", raw(linux_h.recv$descriptor()), true);
    }
    private static final class SEND { // linked on first use: only what a loop calls is linked
        static final MethodHandle H = capturing("send", raw(linux_h.send$descriptor()), true);
    }
    private static final class SENDMSG { // linked on first use: only what a loop calls is linked
        static final MethodHandle H = capturing("sendmsg", raw(linux_h.sendmsg$descriptor()), true);
    }
    private static final class SHUTDOWN { // linked on first use: only what a loop calls is linked
        static final MethodHandle H = capturing("shutdown", linux_h.shutdown$descriptor(), true);
    }
    private static final class CLOSE { // linked on first use: only what a loop calls is linked
        static final MethodHandle H = capturing("close", linux_h.close$descriptor(), false);
    }
    private static final class GETRLIMIT { // linked on first use: only what a loop calls is linked
        static final MethodHandle H = capturing("getrlimit", linux_h.getrlimit$descriptor(), true);
    }

    /**
     * syscall(2) with six register-sized arguments, for the io_uring calls glibc has no wrapper for. Every
     * argument is passed as a {@code long}: the kernel truncates each to its declared width, so the promotion
     * of variadic ints cannot leave garbage in a register's upper half.
     */
    private static final class SYSCALL6 { // linked on first use: only what a loop calls is linked
        static final MethodHandle H = variadicSyscall(6, false);
    }
    /** The same, critical: only for calls that cannot block (an io_uring_enter that waits for nothing). */
    private static final class SYSCALL6_NOW { // linked on first use: only what a loop calls is linked
        static final MethodHandle H = variadicSyscall(6, true);
    }
    private static final class MMAP { // linked on first use: only what a loop calls is linked
        static final MethodHandle H = capturing("mmap", raw(linux_h.mmap$descriptor()), true);
    }
    private static final class MUNMAP { // linked on first use: only what a loop calls is linked
        static final MethodHandle H = capturing("munmap", raw(linux_h.munmap$descriptor()), true);
    }

    private static MethodHandle variadicSyscall(int args, boolean critical) {
        MemoryLayout[] rest = new MemoryLayout[args];
        java.util.Arrays.fill(rest, ValueLayout.JAVA_LONG);
        FunctionDescriptor d = linux_h.syscall.baseDescriptor().appendArgumentLayouts(rest);
        MemorySegment addr = LINKER.defaultLookup().find("syscall").orElseThrow();
        return link(addr, d, critical, Linker.Option.firstVariadicArg(1));
    }

    /** write(2) without capture, for the wakeup from any thread (its only failure, EAGAIN, is harmless). */
    private static final MethodHandle WRITE_ANY_THREAD = LINKER.downcallHandle(
            LINKER.defaultLookup().find("write").orElseThrow(), raw(linux_h.write$descriptor()));

    private static final int EINTR = linux_h.EINTR();

    private final MemorySegment capture;
    private final MemorySegment scratch;
    private final long scratchAddress;
    private final MemorySegment msghdr;

    /**
     * @param arena where the scratch segments live (the loop's). The capture segment, which every call
     *              passes, lives in an automatic arena instead: a downcall acquires and releases the session of
     *              each segment it is given for the call, which for a shared arena is two atomic updates per
     *              call (about 5 % of the epoll loop's user samples in a sampling profile; about 5 ns a call in
     *              {@code DowncallBench}), and for an automatic one nothing.
     *              It is a few bytes, freed with this object.
     */
    public LinuxSys(Arena arena) {
        this.capture = Arena.ofAuto().allocate(CAPTURE_LAYOUT);
        this.scratch = arena.allocate(64, 8);
        this.scratchAddress = scratch.address();
        this.msghdr = arena.allocate(dev.panamio.sys.linux.ffi.msghdr.layout());
    }

    private int errno() {
        return (int) ERRNO.get(capture, 0L);
    }

    private int check(int r) {
        return r >= 0 ? r : -errno();
    }

    private long check(long r) {
        return r >= 0 ? r : -errno();
    }

    private static RuntimeException fail(Throwable t) {
        if (t instanceof RuntimeException re) {
            throw re;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException("downcall failed", t);
    }

    // ------------------------------------------------------------------------------------------- epoll

    public int epollCreate1(int flags) {
        try {
            return check((int) EPOLL_CREATE1.H.invokeExact(capture, flags));
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    /** epoll_ctl with an {@code epoll_event} built in scratch memory. */
    public int epollCtl(int epfd, int op, int fd, int events, long data) {
        scratch.set(ValueLayout.JAVA_INT_UNALIGNED, EpollEvents.eventsOffset(), events);
        scratch.set(ValueLayout.JAVA_LONG_UNALIGNED, EpollEvents.dataOffset(), data);
        try {
            int r;
            do {
                r = check((int) EPOLL_CTL.H.invokeExact(capture, epfd, op, fd, scratch));
            } while (r == -EINTR);
            return r;
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    /** epoll_wait; EINTR is reported as 0 events (the caller's loop simply goes round). */
    public int epollWait(int epfd, MemorySegment events, int maxEvents, int timeoutMs) {
        try {
            int r = timeoutMs == 0
                    ? check((int) EPOLL_WAIT_NOW.H.invokeExact(capture, epfd, events, maxEvents, 0))
                    : check((int) EPOLL_WAIT.H.invokeExact(capture, epfd, events, maxEvents, timeoutMs));
            return r == -EINTR ? 0 : r;
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    // ------------------------------------------------------------------------------------------- eventfd

    public int eventfd(int initval, int flags) {
        try {
            return check((int) EVENTFD.H.invokeExact(capture, initval, flags));
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    /** Reads (and so resets) an eventfd counter: its value, or {@code -errno}. */
    public long eventfdRead(int fd) {
        try {
            long r = check((long) READ.H.invokeExact(capture, fd, scratchAddress, 8L));
            return r < 0 ? r : scratch.get(ValueLayout.JAVA_LONG, 0);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    /** Adds the 8-byte value at {@code value} to an eventfd. Safe from any thread. */
    public static void eventfdWriteAnyThread(int fd, MemorySegment value) {
        try {
            long ignored = (long) WRITE_ANY_THREAD.invokeExact(fd, value.address(), 8L);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    // ------------------------------------------------------------------------------------------- sockets

    public int socket(int domain, int type, int protocol) {
        try {
            return check((int) SOCKET.H.invokeExact(capture, domain, type, protocol));
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    public int bind(int fd, MemorySegment addr, int len) {
        try {
            return check((int) BIND.H.invokeExact(capture, fd, addr, len));
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    public int listen(int fd, int backlog) {
        try {
            return check((int) LISTEN.H.invokeExact(capture, fd, backlog));
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    public int accept4(int fd, MemorySegment addr, MemorySegment lenPtr, int flags) {
        try {
            return check((int) ACCEPT4.H.invokeExact(capture, fd, addr, lenPtr, flags));
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    public int connect(int fd, MemorySegment addr, int len) {
        try {
            return check((int) CONNECT.H.invokeExact(capture, fd, addr, len));
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    /** An int-valued option: its value, or {@code -errno}. */
    public int getsockoptInt(int fd, int level, int name) {
        MemorySegment val = scratch.asSlice(0, 4);
        MemorySegment len = scratch.asSlice(8, 4);
        len.set(ValueLayout.JAVA_INT, 0, 4);
        try {
            int r = check((int) GETSOCKOPT.H.invokeExact(capture, fd, level, name, val, len));
            return r < 0 ? r : val.get(ValueLayout.JAVA_INT, 0);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    public int setsockoptInt(int fd, int level, int name, int value) {
        MemorySegment val = scratch.asSlice(0, 4);
        val.set(ValueLayout.JAVA_INT, 0, value);
        try {
            return check((int) SETSOCKOPT.H.invokeExact(capture, fd, level, name, val, 4));
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    /** SO_LINGER: {@code on} with {@code seconds} (0: reset on close). */
    public int setLinger(int fd, boolean on, int seconds) {
        MemorySegment val = scratch.asSlice(0, 8);
        val.set(ValueLayout.JAVA_INT, 0, on ? 1 : 0);
        val.set(ValueLayout.JAVA_INT, 4, seconds);
        try {
            return check((int) SETSOCKOPT.H.invokeExact(capture, fd, linux_h.SOL_SOCKET(), linux_h.SO_LINGER(), val, 8));
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    /** getsockname into {@code addr} (128 bytes); returns the address length or {@code -errno}. */
    public int getsockname(int fd, MemorySegment addr) {
        return nameCall(GETSOCKNAME.H, fd, addr);
    }

    /** getpeername into {@code addr} (128 bytes); returns the address length or {@code -errno}. */
    public int getpeername(int fd, MemorySegment addr) {
        return nameCall(GETPEERNAME.H, fd, addr);
    }

    private int nameCall(MethodHandle h, int fd, MemorySegment addr) {
        MemorySegment len = scratch.asSlice(0, 4);
        len.set(ValueLayout.JAVA_INT, 0, (int) addr.byteSize());
        try {
            int r = check((int) h.invokeExact(capture, fd, addr, len));
            return r < 0 ? r : len.get(ValueLayout.JAVA_INT, 0);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    /** recv into {@code buf[offset, offset+len)}: bytes read, 0 at EOF, or {@code -errno}. */
    public long recv(int fd, MemorySegment buf, long offset, long len, int flags) {
        java.util.Objects.checkFromIndexSize(offset, len, buf.byteSize());
        try {
            return check((long) RECV.H.invokeExact(capture, fd, buf.address() + offset, len, flags));
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    /** send of {@code buf[offset, offset+len)}: bytes written or {@code -errno}. */
    public long send(int fd, MemorySegment buf, long offset, long len, int flags) {
        java.util.Objects.checkFromIndexSize(offset, len, buf.byteSize());
        try {
            return check((long) SEND.H.invokeExact(capture, fd, buf.address() + offset, len, flags));
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    /**
     * sendmsg of {@code count} iovecs at {@code iov} (a gather write that honours {@code MSG_NOSIGNAL}, which
     * writev cannot): bytes written or {@code -errno}.
     */
    public long sendmsg(int fd, MemorySegment iov, int count, int flags) {
        msghdr.fill((byte) 0);
        dev.panamio.sys.linux.ffi.msghdr.msg_iov(msghdr, iov);
        dev.panamio.sys.linux.ffi.msghdr.msg_iovlen(msghdr, count);
        try {
            return check((long) SENDMSG.H.invokeExact(capture, fd, msghdr.address(), flags));
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    public int shutdown(int fd, int how) {
        try {
            return check((int) SHUTDOWN.H.invokeExact(capture, fd, how));
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    /** close; EINTR is not retried (on Linux the descriptor is released anyway). */
    public int close(int fd) {
        try {
            return check((int) CLOSE.H.invokeExact(capture, fd));
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    // ------------------------------------------------------------------------------------------- io_uring

    /** syscall(2); {@code cannotBlock}: through the critical handle, with no thread-state transition. */
    private long syscall(boolean cannotBlock, long nr, long a, long b, long c, long d, long e, long f) {
        try {
            return check(cannotBlock
                    ? (long) SYSCALL6_NOW.H.invokeExact(capture, nr, a, b, c, d, e, f)
                    : (long) SYSCALL6.H.invokeExact(capture, nr, a, b, c, d, e, f));
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    /** io_uring_setup(2): the ring's descriptor or {@code -errno}. */
    public int ioUringSetup(int entries, MemorySegment params) {
        return (int) syscall(false, linux_h.SYS_io_uring_setup(), entries, params.address(), 0, 0, 0, 0);
    }

    /**
     * io_uring_enter(2): submits {@code toSubmit} entries and waits for {@code minComplete} completions.
     * EINTR is returned to the caller (its loop goes round).
     */
    public int ioUringEnter(int fd, int toSubmit, int minComplete, int flags, long argAddress, long argSize) {
        // With nothing to wait for it submits (and reaps) and returns: it cannot block.
        return (int) syscall(minComplete == 0, linux_h.SYS_io_uring_enter(), fd, toSubmit, minComplete, flags, argAddress, argSize);
    }

    /** io_uring_register(2). */
    public int ioUringRegister(int fd, int opcode, long argAddress, int nrArgs) {
        return (int) syscall(false, linux_h.SYS_io_uring_register(), fd, opcode, argAddress, nrArgs, 0, 0);
    }

    /** mmap(2): the address, or {@code -errno}. */
    public long mmap(long addr, long len, int prot, int flags, int fd, long offset) {
        try {
            long r = (long) MMAP.H.invokeExact(capture, addr, len, prot, flags, fd, offset);
            return r == -1L ? -errno() : r;
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    /** munmap(2). */
    public int munmap(long addr, long len) {
        try {
            return check((int) MUNMAP.H.invokeExact(capture, addr, len));
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    /** The soft RLIMIT_NOFILE, or {@code -errno}. */
    public long getrlimitNofile() {
        try {
            int r = check((int) GETRLIMIT.H.invokeExact(capture, linux_h.RLIMIT_NOFILE(), scratch));
            return r < 0 ? r : scratch.get(ValueLayout.JAVA_LONG, 0);
        } catch (Throwable t) {
            throw fail(t);
        }
    }
}
