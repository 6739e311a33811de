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
                if (deadlineNode.isScheduled()) {
                    loop.timers().remove(deadlineNode);
                }
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
                if (deadlineNode.isScheduled()) {
                    loop.timers().remove(deadlineNode);
                }
                loop.backend().cancel(this);
            }
            default -> {
                // IDLE: nothing to cancel. CANCELLING: the first request stands; its completion will come.
            }
        }
    }

    private void onDeadline() {
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
            if (deadlineNode.isScheduled()) {
                loop.timers().remove(deadlineNode);
            }
            state = IDLE;
            freedGateRoom = loop.opLeftKernel(this);
            if (submittedAt != 0) {
                recordCompletion(result);
            }
        } else if (timeoutNanos > 0 && state == IN_KERNEL) {
            // A multishot op still in the kernel: its deadline is an idle one, counted from this result.
            loop.timers().schedule(deadlineNode, loop.now() + timeoutNanos);
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
        loop.registry().unregister(this);
    }
}
