package dev.panamio.core;

import dev.panamio.sys.Completion;
import dev.panamio.sys.Op;
import dev.panamio.sys.OpKind;

/**
 * An op as the loop tracks it: its state, its deadline, what it holds on the watermark gate, and the handler
 * its completion goes to. Subclasses (one per purpose: a connection's read, its write, an accept...) are
 * reused for every submission, so the steady-state path allocates nothing.
 *
 * <p>States: {@code IDLE} (not submitted) → {@code QUEUED} (waiting at the gate, holding no buffer) →
 * {@code IN_KERNEL} (buffer lent) → {@code CANCELLING} (cancel requested, buffer still lent) → back to
 * {@code IDLE} when its completion has been observed. Memory lent to the kernel is touched again only after
 * that.
 */
public abstract class CoreOp extends Op {
    public static final byte IDLE = 0;
    public static final byte QUEUED = 1;
    public static final byte IN_KERNEL = 2;
    public static final byte CANCELLING = 3;

    protected final LoopCore loop;
    /** {@code System.nanoTime()} when it entered the kernel, while a recording wants op events; else 0. */
    long submittedAt;
    byte state = IDLE;
    /** Bytes this op holds on the gate while in the kernel (0 for ops that lend nothing). */
    long gateBytes;
    /** The deadline it was submitted with ({@code <= 0}: none); a multishot op's counts from each result. */
    long timeoutNanos;
    /**
     * When the deadline passes (loop clock), while {@code timeoutNanos > 0}. The {@link #deadlineNode} may be
     * scheduled earlier than this (never later): deadlines are lazy. A connection's read is resubmitted after
     * every chunk and a multishot read's deadline restarts at every result; moving the node in the heap each
     * time cost a sift per request. Instead the node stays where it is, and when it fires early it moves
     * itself to this time: one heap operation per timeout period, not per read.
     */
    long deadlineAt;
    boolean onGate;
    private boolean timedOut;
    /** Gate FIFO links. */
    CoreOp queuedPrev;
    CoreOp queuedNext;
    final TimerNode deadlineNode = new TimerNode() {
        @Override
        protected void expire() {
            onDeadline();
        }
    };

    /**
     * Gives the op the deadline {@code timeoutNanos} from now ({@code <= 0}: none), moving its node in the heap
     * only when the node would fire too late (or is not scheduled).
     */
    final void armDeadline(long timeoutNanos) {
        this.timeoutNanos = timeoutNanos;
        if (timeoutNanos > 0) {
            deadlineAt = loop.now() + timeoutNanos;
            if (!deadlineNode.isScheduled() || deadlineNode.deadline > deadlineAt) {
                loop.timers().schedule(deadlineNode, deadlineAt);
            }
        }
    }

    private void forgetDeadline() {
        if (deadlineNode.isScheduled()) {
            loop.timers().remove(deadlineNode);
        }
    }

    protected CoreOp(LoopCore loop) {
        this.loop = loop;
        loop.registry().register(this);
    }

    /** The state, for assertions and tests. */
    public final byte state() {
        return state;
    }

    /** Whether the op is queued or in the kernel. */
    public final boolean isPending() {
        return state != IDLE;
    }

    /** During {@link #onComplete}: the op ended because its deadline passed. */
    public final boolean timedOut() {
        return timedOut;
    }

    /** Bytes this op will lend while in the kernel (counted on the gate); by default one pool buffer. */
    protected long lendBytes() {
        return loop.pool().bufferSize();
    }

    /**
     * Called at the gate when the op is admitted, just before it is handed to the backend: take the buffer
     * to lend (RECV: a pool buffer; SEND: the leases' buffers move from leased to lent).
     */
    protected void onAdmit() {
    }

    /**
     * The op's completion, on the loop thread. The op is {@code IDLE} again (unless {@code flags} has
     * {@link Completion#MORE}) and may be resubmitted from here.
     */
    protected abstract void onComplete(long result, int flags);

    /**
     * Called instead of {@link #onComplete} when the op never reached the kernel: it timed out or was
     * cancelled while queued at the gate ({@code timedOut} tells which). It holds no buffer.
     */
    protected abstract void onDequeued(boolean timedOut);

    void expireOrCancel(boolean byDeadline) {
        switch (state) {
            case QUEUED -> {
                loop.gate().unqueue(this);
                state = IDLE;
                forgetDeadline();
                if (byDeadline) {
                    loop.countTimeout(this, true);
                }
                onDequeued(byDeadline);
            }
            case IN_KERNEL -> {
                state = CANCELLING;
                timedOut = byDeadline;
                if (byDeadline) {
                    loop.countTimeout(this, false);
                }
                forgetDeadline();
                loop.backend().cancel(this);
            }
            default -> {
                // IDLE: nothing to cancel. CANCELLING: the first request stands; its completion will come.
            }
        }
    }

    /** The node fired: the op times out if its deadline has passed, else the node moves to the deadline. */
    private void onDeadline() {
        if (timeoutNanos <= 0 || (state != QUEUED && state != IN_KERNEL)) {
            return; // left behind by a completed submission (or one without a deadline): nothing to time out
        }
        if (deadlineAt > loop.now()) {
            loop.timers().schedule(deadlineNode, deadlineAt);
            return;
        }
        expireOrCancel(true);
    }

    /** Requests cancellation: the outcome arrives as {@link #onComplete} (or {@link #onDequeued}). */
    public final void cancel() {
        expireOrCancel(false);
    }

    /** Submits with a deadline {@code timeoutNanos} from now ({@code <= 0}: none). */
    public final void submit(long timeoutNanos) {
        loop.submit(this, timeoutNanos);
    }

    final void completed(long result, int flags) {
        boolean last = (flags & Completion.MORE) == 0;
        boolean freedGateRoom = false;
        if (last) {
            // The deadline node stays: the op's next submission (a connection reads again at once) reuses it.
            state = IDLE;
            freedGateRoom = loop.opLeftKernel(this);
            if (submittedAt != 0) {
                recordCompletion(result);
            }
        } else if (timeoutNanos > 0 && state == IN_KERNEL) {
            // A multishot op still in the kernel: its deadline is an idle one, counted from this result.
            deadlineAt = loop.now() + timeoutNanos;
        }
        boolean cancelledByDeadline = timedOut;
        timedOut = timedOut && result < 0; // a deadline that lost the race to a result is no timeout
        try {
            onComplete(result, flags);
        } finally {
            // A multishot op's results before the final one do not end what its deadline started.
            timedOut = !last && cancelledByDeadline;
            if (freedGateRoom) {
                loop.admitQueued(); // only now: the handler has taken its buffer back from the kernel's account
            }
        }
    }

    private void recordCompletion(long result) {
        LoopEvents.OpCompleted e = LoopEvents.recording() ? new LoopEvents.OpCompleted() : null;
        if (e != null && e.shouldCommit()) {
            e.kind = OpKind.name(kind);
            e.result = result;
            e.latency = System.nanoTime() - submittedAt;
            e.timedOut = timedOut;
            e.commit();
        }
        submittedAt = 0;
    }

    /** Whether ops of this kind hold memory on the gate. */
    final boolean lends() {
        return OpKind.lends(kind);
    }

    /**
     * For ops that read into one whole pool buffer (call from {@link #onAdmit}): takes a buffer for the
     * kernel and points the op at all of it.
     *
     * @return the buffer, now lent
     */
    protected final PooledBuffer lendWholeBuffer() {
        PooledBuffer b = loop.pool().takeForKernel();
        buffer = b.segment();
        offset = 0;
        length = b.capacity();
        return b;
    }

    /** Releases the op's token; call when its owner is closed and the op is idle. */
    public final void dispose() {
        if (state != IDLE) {
            throw new IllegalStateException("op still pending");
        }
        forgetDeadline();
        loop.registry().unregister(this);
    }
}
