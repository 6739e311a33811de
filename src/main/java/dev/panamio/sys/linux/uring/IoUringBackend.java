package dev.panamio.sys.linux.uring;

import dev.panamio.sys.BufferSource;
import dev.panamio.sys.Completion;
import dev.panamio.sys.CompletionSink;
import dev.panamio.sys.IoBackend;
import dev.panamio.sys.NativeAllocator;
import dev.panamio.sys.Op;
import dev.panamio.sys.OpKind;
import dev.panamio.sys.OpRegistry;
import dev.panamio.sys.PlatformErrors;
import dev.panamio.sys.Sockets;
import dev.panamio.sys.linux.Errno;
import dev.panamio.sys.linux.LinuxSockets;
import dev.panamio.sys.linux.LinuxSys;
import dev.panamio.sys.linux.ffi.io_cqring_offsets;
import dev.panamio.sys.linux.ffi.io_sqring_offsets;
import dev.panamio.sys.linux.ffi.io_uring_buf_reg;
import dev.panamio.sys.linux.ffi.io_uring_getevents_arg;
import dev.panamio.sys.linux.ffi.io_uring_params;
import dev.panamio.sys.linux.ffi.io_uring_sqe;
import dev.panamio.sys.linux.ffi.linux_h;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * Linux io_uring, driven from Java without liburing: the rings are mmap'ed, submission and completion
 * queues are read and written with acquire/release ordering on their head and tail, and one
 * {@code io_uring_enter} per tick submits the whole batch and waits.
 *
 * <p>True completion: the kernel owns an op's buffer from submission to its CQE. Reads of idle connections
 * lend nothing: they are {@code IORING_OP_RECV} with {@code IOSQE_BUFFER_SELECT}, and the kernel picks a
 * buffer from a provided-buffer ring only when data arrives. The ring's buffers come from the loop's pool;
 * a buffer the kernel filled goes to user code as a lease and returns to the ring when the lease ends. A
 * dry ring ({@code -ENOBUFS}) is not fatal: the core falls back to poll-then-recv for that read. A
 * continuous read ({@link Op#multishot}) is one multishot receive that stays in the kernel across
 * arrivals (its poll is armed once, not once per request); a one-shot receive after one that emptied the
 * socket polls first instead of failing a receive.
 *
 * <p>Cancellation is {@code IORING_OP_ASYNC_CANCEL} by the op's token; the cancelled op's own CQE
 * ({@code -ECANCELED}, or its normal result if it won the race) is what returns its memory. Deadlines are the
 * loop's timers. Wakeups from other threads write an eventfd the ring keeps a read armed on.
 *
 * <p>Setup flags: {@code SUBMIT_ALL | COOP_TASKRUN | TASKRUN_FLAG | CQSIZE} when the kernel offers them,
 * plain {@code CQSIZE} otherwise. {@code SINGLE_ISSUER}/{@code DEFER_TASKRUN} are not used: a loop may be
 * set up on one thread and run on another (and closed from a third when idle), which those flags forbid.
 * The CQ is four times the SQ, and with {@code IORING_FEAT_NODROP} an overflow is flushed, never lost.
 *
 * <p>Loop thread only, except {@link #wakeup()}.
 */
public final class IoUringBackend implements IoBackend {
    /** Submission queue entries; the completion queue gets four times as many. */
    static final int SQ_ENTRIES = 2048;
    static final int CQ_ENTRIES = SQ_ENTRIES * 4;
    /** The provided-buffer ring's group id. */
    static final int BUFFER_GROUP = 0;
    private static final long WAKE_TOKEN = -2L;
    private static final long CANCEL_TOKEN = -3L;

    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final VarHandle SHORT = ValueLayout.JAVA_SHORT.varHandle();

    private static final byte OP_RECV = (byte) linux_h.IORING_OP_RECV();
    private static final byte OP_SEND = (byte) linux_h.IORING_OP_SEND();
    private static final byte OP_SENDMSG = (byte) linux_h.IORING_OP_SENDMSG();
    private static final byte OP_ACCEPT = (byte) linux_h.IORING_OP_ACCEPT();
    private static final byte OP_CONNECT = (byte) linux_h.IORING_OP_CONNECT();
    private static final byte OP_READ = (byte) linux_h.IORING_OP_READ();
    private static final byte OP_WRITE = (byte) linux_h.IORING_OP_WRITE();
    private static final byte OP_POLL_ADD = (byte) linux_h.IORING_OP_POLL_ADD();
    private static final byte OP_ASYNC_CANCEL = (byte) linux_h.IORING_OP_ASYNC_CANCEL();
    private static final byte OP_OPENAT = (byte) linux_h.IORING_OP_OPENAT();
    private static final byte OP_CLOSE = (byte) linux_h.IORING_OP_CLOSE();
    private static final int F_BUFFER = linux_h.IORING_CQE_F_BUFFER();
    private static final int F_MORE = linux_h.IORING_CQE_F_MORE();
    private static final int BUFFER_SHIFT = linux_h.IORING_CQE_BUFFER_SHIFT();
    private static final int F_SOCK_NONEMPTY = linux_h.IORING_CQE_F_SOCK_NONEMPTY();
    private static final int POLL_FIRST = linux_h.IORING_RECVSEND_POLL_FIRST();
    private static final int RECV_MULTISHOT = linux_h.IORING_RECV_MULTISHOT();
    private static final int EINVAL = linux_h.EINVAL();
    /**
     * {@link Op#backendFlags} of a RECV_SELECT op whose last receive took all the socket held (its CQE lacked
     * {@code IORING_CQE_F_SOCK_NONEMPTY}): the next one is submitted with {@code IORING_RECVSEND_POLL_FIRST}.
     */
    private static final int DRAINED = 1;
    /** {@link Op#backendFlags}: the op was submitted as a multishot receive. */
    private static final int MULTISHOT = 2;
    private static final int MSG_NOSIGNAL = linux_h.MSG_NOSIGNAL();
    private static final int ECANCELED = linux_h.ECANCELED();
    private static final int ETIME = linux_h.ETIME();
    private static final int EINTR = linux_h.EINTR();
    private static final int EBUSY = linux_h.EBUSY();
    private static final int EAGAIN = linux_h.EAGAIN();

    private final NativeAllocator memory;
    private final BufferSource buffers;
    private final OpRegistry registry;
    private final LinuxSys sys;
    private final LinuxSockets sockets;
    private final int ringFd;
    private final int features;
    private final long sqRingAddr;
    private final long sqRingSize;
    private final long sqesAddr;
    private final long sqesSize;
    private final MemorySegment sqRing;
    private final MemorySegment cqRing;
    private final MemorySegment sqes;
    private final long sqHeadOff;
    private final long sqTailOff;
    private final long sqFlagsOff;
    private final int sqMask;
    private final int sqEntries;
    private final long cqHeadOff;
    private final long cqTailOff;
    private final long cqesOff;
    private final int cqMask;
    private int sqTail;
    private int unsubmitted;

    private final int wakeFd;
    private final MemorySegment wakeBuf;
    private final MemorySegment waitArg;
    private final MemorySegment timespec;
    private boolean wakeArmed;

    private final ProvidedBuffers ring;
    private final long ownBytes;

    private final long[] cqUserData = new long[1024];
    private final int[] cqRes = new int[1024];
    private final int[] cqFlags = new int[1024];
    private boolean closed;
    /** Whether continuous reads use multishot receives (Linux 6.0); cleared the first time the kernel refuses one. */
    private boolean multishotRecv = true;

    /**
     * @param ringEntries provided-buffer ring size (a power of two), or 0 for none (reads then poll first)
     * @throws UnsupportedOperationException when the kernel has no usable io_uring (the message says why)
     */
    public IoUringBackend(NativeAllocator memory, BufferSource buffers, OpRegistry registry, int ringEntries) {
        this.memory = memory;
        this.buffers = buffers;
        this.registry = registry;
        this.sys = new LinuxSys(memory.arena());
        MemorySegment p = memory.allocate(io_uring_params.sizeof(), 8);
        int fd = setup(p, linux_h.IORING_SETUP_CQSIZE() | linux_h.IORING_SETUP_SUBMIT_ALL()
                | linux_h.IORING_SETUP_COOP_TASKRUN() | linux_h.IORING_SETUP_TASKRUN_FLAG());
        if (fd == -linux_h.EINVAL()) {
            fd = setup(p, linux_h.IORING_SETUP_CQSIZE());
        }
        if (fd < 0) {
            throw new UnsupportedOperationException("io_uring_setup: " + Errno.message(-fd)
                    + (fd == -linux_h.EPERM() ? " (disabled by kernel.io_uring_disabled?)" : ""));
        }
        this.ringFd = fd;
        this.features = io_uring_params.features(p);
        int needed = linux_h.IORING_FEAT_EXT_ARG() | linux_h.IORING_FEAT_NODROP() | linux_h.IORING_FEAT_SINGLE_MMAP();
        if ((features & needed) != needed) {
            sys.close(fd);
            throw new UnsupportedOperationException("io_uring on this kernel lacks EXT_ARG/NODROP/SINGLE_MMAP"
                    + " (Linux 5.11 or newer is needed)");
        }
        MemorySegment sq = io_uring_params.sq_off(p);
        MemorySegment cq = io_uring_params.cq_off(p);
        this.sqEntries = io_uring_params.sq_entries(p);
        int cqEntries = io_uring_params.cq_entries(p);
        long sqSize = io_sqring_offsets.array(sq) + 4L * sqEntries;
        long cqSize = io_cqring_offsets.cqes(cq) + 16L * cqEntries;
        long ringSize = Math.max(sqSize, cqSize);
        int prot = linux_h.PROT_READ() | linux_h.PROT_WRITE();
        int flags = linux_h.MAP_SHARED() | linux_h.MAP_POPULATE();
        long ringAddr = sys.mmap(0, ringSize, prot, flags, fd, linux_h.IORING_OFF_SQ_RING());
        if (ringAddr < 0) {
            sys.close(fd);
            throw new UnsupportedOperationException("mmap io_uring rings: " + Errno.message((int) -ringAddr));
        }
        long sqesBytes = io_uring_sqe.sizeof() * sqEntries;
        long sqesA = sys.mmap(0, sqesBytes, prot, flags, fd, linux_h.IORING_OFF_SQES());
        if (sqesA < 0) {
            sys.munmap(ringAddr, ringSize);
            sys.close(fd);
            throw new UnsupportedOperationException("mmap io_uring SQEs: " + Errno.message((int) -sqesA));
        }
        this.sqRingAddr = ringAddr;
        this.sqRingSize = ringSize;
        this.sqesAddr = sqesA;
        this.sqesSize = sqesBytes;
        this.sqRing = MemorySegment.ofAddress(ringAddr).reinterpret(ringSize);
        this.cqRing = sqRing; // IORING_FEAT_SINGLE_MMAP: one mapping holds both rings
        this.sqes = MemorySegment.ofAddress(sqesA).reinterpret(sqesBytes);
        memory.account(ringSize + sqesBytes);
        this.sqHeadOff = io_sqring_offsets.head(sq);
        this.sqTailOff = io_sqring_offsets.tail(sq);
        this.sqFlagsOff = io_sqring_offsets.flags(sq);
        this.sqMask = sqRing.get(ValueLayout.JAVA_INT, io_sqring_offsets.ring_mask(sq));
        long arrayOff = io_sqring_offsets.array(sq);
        for (int i = 0; i < sqEntries; i++) {
            sqRing.set(ValueLayout.JAVA_INT, arrayOff + 4L * i, i); // slot i always holds SQE i
        }
        this.sqTail = (int) INT.getAcquire(sqRing, sqTailOff);
        this.cqHeadOff = io_cqring_offsets.head(cq);
        this.cqTailOff = io_cqring_offsets.tail(cq);
        this.cqesOff = io_cqring_offsets.cqes(cq);
        this.cqMask = cqRing.get(ValueLayout.JAVA_INT, io_cqring_offsets.ring_mask(cq));

        int wf = sys.eventfd(0, linux_h.EFD_CLOEXEC());
        if (wf < 0) {
            closeRing();
            throw new IllegalStateException("eventfd: " + Errno.message(-wf));
        }
        this.wakeFd = wf;
        this.wakeBuf = memory.allocate(8, 8);
        this.timespec = memory.allocate(16, 8);
        this.waitArg = memory.allocate(io_uring_getevents_arg.sizeof(), 8);
        io_uring_getevents_arg.ts(waitArg, timespec.address());
        this.sockets = new LinuxSockets(sys);
        this.ring = ringEntries >= 2 ? ProvidedBuffers.register(this, ringEntries) : null;
        this.ownBytes = ringSize + sqesBytes + 8 + 16 + io_uring_getevents_arg.sizeof();
        armWake();
    }

    private int setup(MemorySegment p, int flags) {
        p.fill((byte) 0);
        io_uring_params.flags(p, flags);
        io_uring_params.cq_entries(p, CQ_ENTRIES);
        return sys.ioUringSetup(SQ_ENTRIES, p);
    }

    LinuxSys sys() {
        return sys;
    }

    int ringFd() {
        return ringFd;
    }

    NativeAllocator memory() {
        return memory;
    }

    BufferSource bufferSource() {
        return buffers;
    }

    boolean isClosed() {
        return closed;
    }

    @Override
    public String name() {
        return "io_uring";
    }

    @Override
    public boolean supportsFileOps() {
        return true;
    }

    @Override
    public boolean supportsSelectedBuffers() {
        return ring != null;
    }

    @Override
    public Sockets sockets() {
        return sockets;
    }

    @Override
    public PlatformErrors errors() {
        return Errno.LINUX;
    }

    @Override
    public long nativeBytes() {
        return ownBytes + (ring == null ? 0 : ring.nativeBytes());
    }

    // ------------------------------------------------------------------------------------------------ SQEs

    /** The byte offset of a fresh, zeroed SQE; flushes the queue to the kernel first if it is full. */
    private long nextSqe() {
        int head = (int) INT.getAcquire(sqRing, sqHeadOff);
        if (sqTail - head >= sqEntries) {
            flush(0, 0);
            head = (int) INT.getAcquire(sqRing, sqHeadOff);
            if (sqTail - head >= sqEntries) {
                throw new IllegalStateException("io_uring submission queue full after flushing");
            }
        }
        long base = (long) (sqTail & sqMask) * 64;
        for (int i = 0; i < 64; i += 8) {
            sqes.set(ValueLayout.JAVA_LONG, base + i, 0L);
        }
        return base;
    }

    /** Publishes the SQE just written (the tail store is a release: the kernel sees the whole entry). */
    private void push() {
        sqTail++;
        unsubmitted++;
        INT.setRelease(sqRing, sqTailOff, sqTail);
    }

    private void sqe(long base, byte opcode, int fd, long addr, int len, long off, long userData) {
        sqes.set(ValueLayout.JAVA_BYTE, base, opcode);
        sqes.set(ValueLayout.JAVA_INT, base + 4, fd);
        sqes.set(ValueLayout.JAVA_LONG, base + 8, off);
        sqes.set(ValueLayout.JAVA_LONG, base + 16, addr);
        sqes.set(ValueLayout.JAVA_INT, base + 24, len);
        sqes.set(ValueLayout.JAVA_LONG, base + 32, userData);
    }

    private void armWake() {
        long b = nextSqe();
        sqe(b, OP_READ, wakeFd, wakeBuf.address(), 8, -1, WAKE_TOKEN);
        push();
        wakeArmed = true;
    }

    @Override
    public void submit(Op op) {
        long b = nextSqe();
        int fd = (int) op.handle;
        switch (op.kind) {
            case OpKind.RECV_SELECT -> {
                boolean multi = op.multishot && multishotRecv;
                // A multishot receive takes its length from each ring buffer; the field must be 0.
                sqe(b, OP_RECV, fd, 0, multi ? 0 : buffers.bufferSize(), 0, op.token);
                sqes.set(ValueLayout.JAVA_BYTE, b + 1, (byte) linux_h.IOSQE_BUFFER_SELECT());
                sqes.set(ValueLayout.JAVA_SHORT, b + 40, (short) BUFFER_GROUP);
                // Its last receive left the socket empty: arm the poll at once rather than try a receive
                // that would fail first.
                int ioprio = (op.backendFlags & DRAINED) != 0 ? POLL_FIRST : 0;
                if (multi) {
                    ioprio |= RECV_MULTISHOT;
                    op.backendFlags |= MULTISHOT;
                } else {
                    op.backendFlags &= ~MULTISHOT;
                }
                sqes.set(ValueLayout.JAVA_SHORT, b + 2, (short) ioprio);
            }
            case OpKind.RECV -> sqe(b, OP_RECV, fd, op.buffer.address() + op.offset, (int) op.length, 0, op.token);
            case OpKind.POLL_READABLE -> {
                sqe(b, OP_POLL_ADD, fd, 0, 0, 0, op.token);
                sqes.set(ValueLayout.JAVA_INT, b + 28, linux_h.POLLIN() | linux_h.POLLRDHUP());
            }
            case OpKind.SEND -> {
                sqe(b, OP_SEND, fd, op.buffer.address() + op.offset, (int) op.length, 0, op.token);
                sqes.set(ValueLayout.JAVA_INT, b + 28, MSG_NOSIGNAL);
            }
            case OpKind.SENDV -> {
                sqe(b, OP_SENDMSG, fd, Gather.prepare(op), 0, 0, op.token);
                sqes.set(ValueLayout.JAVA_INT, b + 28, MSG_NOSIGNAL);
            }
            case OpKind.ACCEPT -> {
                sqe(b, OP_ACCEPT, fd, 0, 0, 0, op.token);
                sqes.set(ValueLayout.JAVA_SHORT, b + 2, (short) linux_h.IORING_ACCEPT_MULTISHOT());
                sqes.set(ValueLayout.JAVA_INT, b + 28, linux_h.SOCK_NONBLOCK() | linux_h.SOCK_CLOEXEC());
            }
            case OpKind.CONNECT -> sqe(b, OP_CONNECT, fd, op.addr.address(), 0, op.addrLen, op.token);
            case OpKind.FILE_READ -> sqe(b, OP_READ, fd, op.buffer.address() + op.offset, (int) op.length, op.fileOffset, op.token);
            case OpKind.FILE_WRITE -> sqe(b, OP_WRITE, fd, op.buffer.address() + op.offset, (int) op.length, op.fileOffset, op.token);
            case OpKind.FILE_OPEN -> {
                boolean write = op.length == OpKind.OPEN_WRITE;
                int flags = linux_h.O_CLOEXEC() | (write ? linux_h.O_WRONLY() | linux_h.O_CREAT() | linux_h.O_TRUNC() : linux_h.O_RDONLY());
                sqe(b, OP_OPENAT, linux_h.AT_FDCWD(), op.addr.address(), write ? 0644 : 0, 0, op.token);
                sqes.set(ValueLayout.JAVA_INT, b + 28, flags); // open_flags
            }
            case OpKind.FILE_CLOSE -> sqe(b, OP_CLOSE, fd, 0, 0, 0, op.token);
            default -> throw new IllegalArgumentException("op kind " + op.kind + " not supported by io_uring");
        }
        push();
    }

    @Override
    public void cancel(Op op) {
        long b = nextSqe();
        sqe(b, OP_ASYNC_CANCEL, -1, op.token, 0, 0, CANCEL_TOKEN);
        push();
    }

    // ------------------------------------------------------------------------------------------------ poll

    /** One io_uring_enter: submits what is queued and waits for {@code minComplete} completions. */
    private int flush(int minComplete, long timeoutNanos) {
        int flags = 0;
        long arg = 0;
        long argSize = 0;
        if (minComplete > 0) {
            flags |= linux_h.IORING_ENTER_GETEVENTS();
            if (timeoutNanos > 0) {
                timespec.set(ValueLayout.JAVA_LONG, 0, timeoutNanos / 1_000_000_000L);
                timespec.set(ValueLayout.JAVA_LONG, 8, timeoutNanos % 1_000_000_000L);
                flags |= linux_h.IORING_ENTER_EXT_ARG();
                arg = waitArg.address();
                argSize = io_uring_getevents_arg.sizeof();
            }
        } else if (taskWorkPending()) {
            flags |= linux_h.IORING_ENTER_GETEVENTS(); // COOP_TASKRUN: completions wait for us to enter
        }
        int toSubmit = unsubmitted;
        int r = sys.ioUringEnter(ringFd, toSubmit, minComplete, flags, arg, argSize);
        if (r >= 0) {
            unsubmitted -= Math.min(r, toSubmit);
        } else if (r != -ETIME && r != -EINTR && r != -EBUSY && r != -EAGAIN) {
            throw new IllegalStateException("io_uring_enter: " + Errno.message(-r));
        }
        return r;
    }

    private boolean taskWorkPending() {
        int f = (int) INT.getAcquire(sqRing, sqFlagsOff);
        return (f & (linux_h.IORING_SQ_TASKRUN() | linux_h.IORING_SQ_CQ_OVERFLOW())) != 0;
    }

    private int cqReady() {
        int head = (int) INT.get(cqRing, cqHeadOff);
        int tail = (int) INT.getAcquire(cqRing, cqTailOff);
        return tail - head;
    }

    @Override
    public int poll(long timeoutNanos, CompletionSink sink) {
        boolean wait = timeoutNanos != 0 && cqReady() == 0;
        if (unsubmitted > 0 || wait || taskWorkPending()) {
            flush(wait ? 1 : 0, timeoutNanos < 0 ? 0 : timeoutNanos);
            if (wait) {
                sink.waited();
            }
        }
        int delivered = reap(sink);
        if ((((int) INT.getAcquire(sqRing, sqFlagsOff)) & linux_h.IORING_SQ_CQ_OVERFLOW()) != 0) {
            flush(0, 0); // NODROP: completions that did not fit wait in the kernel; entering flushes them
            delivered += reap(sink);
        }
        return delivered;
    }

    /** Copies the ready CQEs out, frees their slots (release store of the head), then dispatches them. */
    private int reap(CompletionSink sink) {
        int total = 0;
        while (true) {
            int head = (int) INT.get(cqRing, cqHeadOff);
            int tail = (int) INT.getAcquire(cqRing, cqTailOff);
            int n = Math.min(tail - head, cqUserData.length);
            if (n <= 0) {
                return total;
            }
            for (int i = 0; i < n; i++) {
                long base = cqesOff + (long) ((head + i) & cqMask) * 16;
                cqUserData[i] = cqRing.get(ValueLayout.JAVA_LONG, base);
                cqRes[i] = cqRing.get(ValueLayout.JAVA_INT, base + 8);
                cqFlags[i] = cqRing.get(ValueLayout.JAVA_INT, base + 12);
            }
            INT.setRelease(cqRing, cqHeadOff, head + n);
            for (int i = 0; i < n; i++) {
                dispatch(cqUserData[i], cqRes[i], cqFlags[i], sink);
            }
            total += n;
        }
    }

    private void dispatch(long userData, int res, int flags, CompletionSink sink) {
        if (userData == WAKE_TOKEN) {
            wakeArmed = false;
            if (!closed) {
                armWake();
            }
            return;
        }
        if (userData == CANCEL_TOKEN) {
            return; // the cancelled op reports through its own CQE
        }
        Op op = registry.get(userData);
        if (op == null) {
            // A completion for an op no longer registered: only possible for a buffer-carrying CQE of a
            // cancelled read whose owner is gone; give the buffer back to the ring.
            if ((flags & F_BUFFER) != 0 && ring != null) {
                ring.recycle(flags >>> BUFFER_SHIFT);
            }
            return;
        }
        if ((flags & F_BUFFER) != 0 && ring != null) {
            op.selected = ring.take(flags >>> BUFFER_SHIFT);
        }
        if (op.kind == OpKind.RECV_SELECT) {
            if (res == -EINVAL && (op.backendFlags & MULTISHOT) != 0 && (flags & F_MORE) == 0) {
                // A kernel with provided-buffer rings but without multishot receive (5.19): one-shot receives
                // from now on. The core sees a receive that would block and arms the read again (unless it
                // was cancelled meanwhile), now one-shot.
                multishotRecv = false;
                res = -EAGAIN;
            }
            int keep = op.backendFlags & MULTISHOT;
            op.backendFlags = keep | (res > 0 && (flags & F_SOCK_NONEMPTY) == 0 ? DRAINED : 0);
        }
        int out = 0;
        if ((flags & F_MORE) != 0) {
            out |= Completion.MORE;
        }
        if (res == -ECANCELED) {
            out |= Completion.CANCELLED;
        }
        sink.complete(op, res, out);
    }

    @Override
    public void wakeup() {
        if (!closed) {
            LinuxSys.eventfdWriteAnyThread(wakeFd, WAKE_VALUE);
        }
    }

    /** The 8-byte 1 every wakeup adds to the eventfd; shared, read-only, so safe from any thread. */
    private static final MemorySegment WAKE_VALUE = java.lang.foreign.Arena.global().allocate(8, 8);

    static {
        WAKE_VALUE.set(ValueLayout.JAVA_LONG, 0, 1L);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        // The wakeup read still holds wakeBuf in the kernel: cancel it and wait for its CQE before the
        // memory can go.
        if (wakeArmed) {
            long b = nextSqe();
            sqe(b, OP_ASYNC_CANCEL, -1, WAKE_TOKEN, 0, 0, CANCEL_TOKEN);
            push();
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (wakeArmed && System.nanoTime() < deadline) {
                flush(1, 10_000_000L);
                reap((op, r, f) -> { });
            }
        }
        if (ring != null) {
            ring.unregister();
        }
        sys.close(wakeFd);
        closeRing();
    }

    private void closeRing() {
        sys.munmap(sqesAddr, sqesSize);
        sys.munmap(sqRingAddr, sqRingSize);
        memory.account(-(sqRingSize + sqesSize));
        sys.close(ringFd);
    }
}
