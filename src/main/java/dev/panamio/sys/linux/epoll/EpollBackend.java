package dev.panamio.sys.linux.epoll;

import dev.panamio.sys.Completion;
import dev.panamio.sys.CompletionSink;
import dev.panamio.sys.IoBackend;
import dev.panamio.sys.NativeAllocator;
import dev.panamio.sys.Op;
import dev.panamio.sys.OpKind;
import dev.panamio.sys.PlatformErrors;
import dev.panamio.sys.ReadyQueue;
import dev.panamio.sys.Sockets;
import dev.panamio.sys.linux.EpollEvents;
import dev.panamio.sys.linux.Errno;
import dev.panamio.sys.linux.LinuxSys;
import dev.panamio.sys.linux.ffi.linux_h;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Linux epoll, driven in the completion model: an op waits in user space until its socket is ready, then the
 * backend performs the syscall into the op's buffer and completes it.
 *
 * <p><b>Edge-triggered, by choice.</b> Every socket is registered once, at creation, for
 * {@code EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET}, and never touched with {@code epoll_ctl} again (closing
 * the socket removes it). Each socket's readiness is remembered here ({@link FdState}): an edge sets the
 * flag, and only a short read/write or {@code EAGAIN} clears it. That removes the per-op
 * {@code epoll_ctl(MOD)} traffic level-triggered one-shot interest costs, and it avoids the classic
 * edge-triggered trap (a lost edge when one stops reading before {@code EAGAIN}) because the flag, not the
 * kernel, carries readiness across ticks. Netty dropped ET because its pipeline had to drain each socket
 * within one event; the core here decides per tick how much to read, so that constraint does not apply.
 *
 * <p>Epoll data carries {@code generation << 32 | fd}: events still in a batch for a descriptor closed
 * and reused within the same tick are recognised as stale and dropped.
 *
 * <p>Loop thread only, except {@link #wakeup()}.
 */
public final class EpollBackend implements IoBackend {
    /** Events taken per {@code epoll_wait}: one batch per tick. */
    static final int MAX_EVENTS = 1024;
    /** Completions delivered per poll at most, so a socket that is always ready cannot starve timers. */
    static final int MAX_READY_PER_POLL = 4096;
    private static final long WAKE_TOKEN = -1L;

    static final int EPOLLIN = linux_h.EPOLLIN();
    static final int EPOLLOUT = linux_h.EPOLLOUT();
    static final int EPOLLERR = linux_h.EPOLLERR();
    static final int EPOLLHUP = linux_h.EPOLLHUP();
    static final int EPOLLRDHUP = linux_h.EPOLLRDHUP();
    static final int EPOLLET = linux_h.EPOLLET();
    static final int EAGAIN = linux_h.EAGAIN();
    static final int EINPROGRESS = linux_h.EINPROGRESS();
    static final int EINTR = linux_h.EINTR();
    static final int ECANCELED = linux_h.ECANCELED();
    static final int ECONNABORTED = linux_h.ECONNABORTED();
    static final int EINVAL = linux_h.EINVAL();
    static final int MSG_NOSIGNAL = linux_h.MSG_NOSIGNAL();
    static final int ACCEPT_FLAGS = linux_h.SOCK_NONBLOCK() | linux_h.SOCK_CLOEXEC();

    private final NativeAllocator memory;
    private final LinuxSys sys;
    private final EpollSockets sockets;
    private final int epfd;
    private final int wakeFd;
    private final MemorySegment events;
    private final long eventSize;
    private final long dataOffset;
    private final long eventsOffset;
    private final MemorySegment wakeValue;
    private final ReadyQueue ready = new ReadyQueue();
    private FdState[] fds = new FdState[1024];
    private boolean closed;

    public EpollBackend(NativeAllocator memory) {
        this.memory = memory;
        this.sys = new LinuxSys(memory.arena());
        int ep = sys.epollCreate1(linux_h.EPOLL_CLOEXEC());
        if (ep < 0) {
            throw new IllegalStateException("epoll_create1: " + Errno.message(-ep));
        }
        int wf = sys.eventfd(0, linux_h.EFD_NONBLOCK() | linux_h.EFD_CLOEXEC());
        if (wf < 0) {
            sys.close(ep);
            throw new IllegalStateException("eventfd: " + Errno.message(-wf));
        }
        int r = sys.epollCtl(ep, linux_h.EPOLL_CTL_ADD(), wf, EPOLLIN | EPOLLET, WAKE_TOKEN);
        if (r < 0) {
            sys.close(wf);
            sys.close(ep);
            throw new IllegalStateException("epoll_ctl ADD eventfd: " + Errno.message(-r));
        }
        this.epfd = ep;
        this.wakeFd = wf;
        var layout = EpollEvents.layout();
        this.eventSize = layout.byteSize();
        this.eventsOffset = EpollEvents.eventsOffset();
        this.dataOffset = EpollEvents.dataOffset();
        this.events = memory.allocate(eventSize * MAX_EVENTS, 8);
        this.wakeValue = memory.allocate(8, 8);
        wakeValue.set(ValueLayout.JAVA_LONG, 0, 1L);
        this.sockets = new EpollSockets(this, sys);
    }

    @Override
    public String name() {
        return "epoll";
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
        return eventSize * MAX_EVENTS + 8;
    }

    // ------------------------------------------------------------------------------------------ registration

    /** Registers a new socket, edge-triggered for everything, once. */
    int register(int fd) {
        FdState st = state(fd);
        st.generation++;
        st.readable = false;
        st.writable = true; // until a send finds the socket full; the registration's first edge says so too
        st.peerClosed = false;
        st.readWaiter = null;
        st.writeWaiter = null;
        st.open = true;
        long data = ((long) st.generation << 32) | (fd & 0xFFFF_FFFFL);
        return sys.epollCtl(epfd, linux_h.EPOLL_CTL_ADD(), fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, data);
    }

    /** The socket is being closed: forget its state (its ops have all completed). */
    void forget(int fd) {
        if (fd < fds.length && fds[fd] != null) {
            FdState st = fds[fd];
            st.open = false;
            st.readWaiter = null;
            st.writeWaiter = null;
            st.generation++;
        }
    }

    private FdState state(int fd) {
        if (fd >= fds.length) {
            FdState[] bigger = new FdState[Math.max(fds.length * 2, fd + 1)];
            System.arraycopy(fds, 0, bigger, 0, fds.length);
            fds = bigger;
        }
        FdState st = fds[fd];
        if (st == null) {
            st = fds[fd] = new FdState();
        }
        return st;
    }

    // ------------------------------------------------------------------------------------------------ submit

    @Override
    public void submit(Op op) {
        int fd = (int) op.handle;
        FdState st = state(fd);
        op.backendProgress = 0;
        switch (op.kind) {
            case OpKind.POLL_READABLE -> {
                if (st.readable) {
                    ready.add(op, 0, 0);
                } else {
                    park(st, op, true);
                }
            }
            case OpKind.RECV -> doRecv(st, op);
            case OpKind.ACCEPT -> {
                if (st.readable) {
                    doAccept(st, op);
                } else {
                    park(st, op, true);
                }
            }
            case OpKind.SEND, OpKind.SENDV -> {
                if (st.writable) {
                    doSend(st, op);
                } else {
                    park(st, op, false); // full since the last edge: a send now would only meet EAGAIN again
                }
            }
            case OpKind.CONNECT -> doConnect(st, op);
            default -> ready.add(op, -EINVAL, 0);
        }
    }

    private void park(FdState st, Op op, boolean read) {
        if (read) {
            if (st.readWaiter != null) {
                ready.add(op, -linux_h.EBUSY(), 0);
                return;
            }
            st.readWaiter = op;
        } else {
            if (st.writeWaiter != null) {
                ready.add(op, -linux_h.EBUSY(), 0);
                return;
            }
            st.writeWaiter = op;
        }
    }

    private void doRecv(FdState st, Op op) {
        ready.add(op, recv(st, (int) op.handle, op.buffer, op.offset, op.length), 0);
    }

    private long recv(FdState st, int fd, MemorySegment buffer, long offset, long length) {
        long n;
        do {
            n = sys.recv(fd, buffer, offset, length, 0);
        } while (n == -EINTR);
        if (n == -EAGAIN || (n > 0 && n < length && !st.peerClosed)) {
            // Drained: the next arrival of data is a new edge. Not after the peer's FIN or an error, though:
            // those arrive once, possibly merged into the edge that brought the data just read.
            st.readable = false;
        }
        return n;
    }

    @Override
    public boolean transfersInline() {
        return true;
    }

    @Override
    public long recvNow(long handle, MemorySegment buffer, long offset, long length) {
        int fd = (int) handle;
        if (fd < 0 || fd >= fds.length || fds[fd] == null || !fds[fd].open) {
            return -linux_h.EBADF();
        }
        return recv(fds[fd], fd, buffer, offset, length);
    }

    private void doAccept(FdState st, Op op) {
        int fd;
        do {
            fd = sys.accept4((int) op.handle, MemorySegment.NULL, MemorySegment.NULL, ACCEPT_FLAGS);
        } while (fd == -EINTR || fd == -ECONNABORTED);
        if (fd == -EAGAIN) {
            st.readable = false;
            park(st, op, true);
            return;
        }
        ready.add(op, fd, 0);
    }

    private void doSend(FdState st, Op op) {
        long total = op.kind == OpKind.SEND ? op.length : gatherTotal(op);
        while (op.backendProgress < total) {
            long n = sendOnce(op, op.backendProgress);
            if (n == -EINTR) {
                continue;
            }
            if (n == -EAGAIN) {
                st.writable = false;
                park(st, op, false);
                return;
            }
            if (n < 0) {
                // Bytes already written are reported; the error shows on the core's next attempt.
                ready.add(op, op.backendProgress > 0 ? op.backendProgress : n, 0);
                return;
            }
            op.backendProgress += n;
        }
        ready.add(op, op.backendProgress, 0);
    }

    @Override
    public long sendNow(Op op) {
        int fd = (int) op.handle;
        FdState st = fd < 0 || fd >= fds.length ? null : fds[fd];
        if (st == null || !st.open || st.writeWaiter != null || !st.writable) {
            return 0;
        }
        long n;
        do {
            n = sendOnce(op, 0);
        } while (n == -EINTR);
        if (n == -EAGAIN) {
            st.writable = false;
        }
        return Math.max(n, 0);
    }

    /** One send or sendmsg of {@code op}'s bytes after the first {@code skip}: bytes written or {@code -errno}. */
    private long sendOnce(Op op, long skip) {
        return op.kind == OpKind.SEND
                ? sys.send((int) op.handle, op.buffer, op.offset + skip, op.length - skip, MSG_NOSIGNAL)
                : sys.sendmsg((int) op.handle, op.iov, fillIov(op, skip), MSG_NOSIGNAL);
    }

    private static long gatherTotal(Op op) {
        long t = 0;
        for (int i = 0; i < op.iovCount; i++) {
            t += op.gatherLengths[i];
        }
        return t;
    }

    /** Writes the iovecs for the bytes after {@code skip}; returns their count. */
    private static int fillIov(Op op, long skip) {
        int out = 0;
        for (int i = 0; i < op.iovCount; i++) {
            long len = op.gatherLengths[i];
            if (skip >= len) {
                skip -= len;
                continue;
            }
            long base = op.gatherSegments[i].address() + op.gatherOffsets[i] + skip;
            op.iov.set(ValueLayout.JAVA_LONG, out * 16L, base);
            op.iov.set(ValueLayout.JAVA_LONG, out * 16L + 8, len - skip);
            skip = 0;
            out++;
        }
        return out;
    }

    private void doConnect(FdState st, Op op) {
        int r;
        do {
            r = sys.connect((int) op.handle, op.addr, op.addrLen);
        } while (r == -EINTR);
        if (r == -EINPROGRESS || r == -linux_h.EALREADY()) {
            st.writable = false;
            park(st, op, false);
            return;
        }
        ready.add(op, r, 0);
    }

    private void finishConnect(Op op) {
        int err = sys.getsockoptInt((int) op.handle, linux_h.SOL_SOCKET(), linux_h.SO_ERROR());
        ready.add(op, err < 0 ? err : -err, 0);
    }

    // ------------------------------------------------------------------------------------------------ cancel

    @Override
    public void cancel(Op op) {
        int fd = (int) op.handle;
        if (fd < 0 || fd >= fds.length || fds[fd] == null) {
            return;
        }
        FdState st = fds[fd];
        if (st.readWaiter == op) {
            st.readWaiter = null;
        } else if (st.writeWaiter == op) {
            st.writeWaiter = null;
        } else {
            return; // already done: its completion is in the ready queue
        }
        if (op.backendProgress > 0) {
            ready.add(op, op.backendProgress, 0); // a half-done send reports what it wrote
        } else {
            ready.add(op, -ECANCELED, Completion.CANCELLED);
        }
    }

    // ------------------------------------------------------------------------------------------------ poll

    @Override
    public int poll(long timeoutNanos, CompletionSink sink) {
        int delivered = ready.drain(sink, MAX_READY_PER_POLL);
        int timeoutMs;
        if (!ready.isEmpty() || delivered > 0) {
            timeoutMs = 0;
        } else if (timeoutNanos < 0) {
            timeoutMs = -1;
        } else {
            // Round up: waking before the deadline would spin until it passes.
            timeoutMs = (int) Math.min(Integer.MAX_VALUE, (timeoutNanos + 999_999) / 1_000_000);
        }
        int n = sys.epollWait(epfd, events, MAX_EVENTS, timeoutMs);
        if (timeoutMs != 0) {
            sink.waited();
        }
        for (int i = 0; i < n; i++) {
            long base = i * eventSize;
            int ev = events.get(ValueLayout.JAVA_INT_UNALIGNED, base + eventsOffset);
            long data = events.get(ValueLayout.JAVA_LONG_UNALIGNED, base + dataOffset);
            if (data == WAKE_TOKEN) {
                sys.eventfdRead(wakeFd);
                continue;
            }
            onEvent((int) data, (int) (data >>> 32), ev);
        }
        delivered += ready.drain(sink, MAX_READY_PER_POLL);
        return delivered;
    }

    private void onEvent(int fd, int generation, int ev) {
        if (fd < 0 || fd >= fds.length) {
            return;
        }
        FdState st = fds[fd];
        if (st == null || !st.open || st.generation != generation) {
            return; // stale: the descriptor was closed (and maybe reused) after the event was queued
        }
        if ((ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
            st.peerClosed = true;
        }
        if ((ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
            st.readable = true;
            Op w = st.readWaiter;
            if (w != null) {
                st.readWaiter = null;
                if (w.kind == OpKind.ACCEPT) {
                    doAccept(st, w);
                } else {
                    ready.add(w, 0, 0);
                }
            }
        }
        if ((ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0) {
            st.writable = true;
            Op w = st.writeWaiter;
            if (w != null) {
                st.writeWaiter = null;
                if (w.kind == OpKind.CONNECT) {
                    finishConnect(w);
                } else {
                    doSend(st, w);
                }
            }
        }
    }

    @Override
    public void wakeup() {
        if (!closed) {
            LinuxSys.eventfdWriteAnyThread(wakeFd, wakeValue);
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        sys.close(wakeFd);
        sys.close(epfd);
        ready.clear();
    }

    /** What the backend knows of one descriptor. */
    static final class FdState {
        int generation;
        boolean open;
        /** Readable since the last edge (data, EOF or an error is waiting). */
        boolean readable;
        /** The peer shut down its side or the socket has an error: reads never block again. */
        boolean peerClosed;
        /** No send has found the socket full since its last writable edge (a send may go ahead). */
        boolean writable;
        /** The op waiting to read/accept. */
        Op readWaiter;
        /** The op waiting to send/connect. */
        Op writeWaiter;
    }
}
