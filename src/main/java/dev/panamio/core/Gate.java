package dev.panamio.core;

/**
 * The high watermark, enforced: at most {@code highWatermark} lending ops and {@code maxLentBytes} bytes in
 * the kernel at once. Past either, ops wait here in FIFO order holding no buffer; a wait that lends nothing
 * (a readiness poll, an io_uring recv with a provided buffer, an IOCP zero-byte read) never comes here, so a
 * client whose data has arrived is not stuck behind thousands of silent ones.
 *
 * <p>The FIFO is an intrusive doubly-linked list through the ops (removal on timeout is O(1), nothing is
 * allocated). Its length, together with the writes queued in connections, is bounded by the loop's
 * {@code maxQueued}: the loop rejects beyond it. Loop thread only.
 */
final class Gate {
    private final int highWatermark;
    private final long maxLentBytes;
    private int inKernel;
    private long bytes;
    private CoreOp head;
    private CoreOp tail;
    private int queued;
    private long hits;
    private int reserved;

    Gate(int highWatermark, long maxLentBytes) {
        this.highWatermark = highWatermark;
        this.maxLentBytes = maxLentBytes;
    }

    /** Counts memory a backend lends for good (a provided-buffer ring) against the limits. */
    void reserve(int ops, long reservedBytes) {
        inKernel += ops;
        bytes += reservedBytes;
        reserved += ops;
    }

    /**
     * Admits {@code op} if there is room (or if nothing is in the kernel at all, so that one op larger than
     * the byte limit cannot wait forever); otherwise queues it and returns false.
     */
    boolean admitOrQueue(CoreOp op, long opBytes) {
        if (head == null && (inKernel == reserved || (inKernel < highWatermark && bytes + opBytes <= maxLentBytes))) {
            take(op, opBytes);
            return true;
        }
        hits++;
        op.gateBytes = opBytes;
        op.queuedPrev = tail;
        op.queuedNext = null;
        if (tail == null) {
            head = op;
        } else {
            tail.queuedNext = op;
        }
        tail = op;
        queued++;
        LoopEvents.WatermarkReached e = LoopEvents.recording() ? new LoopEvents.WatermarkReached() : null;
        if (e != null && e.shouldCommit()) {
            e.kind = dev.panamio.sys.OpKind.name(op.kind);
            e.queued = queued;
            e.lentBytes = bytes;
            e.commit();
        }
        return false;
    }

    private void take(CoreOp op, long opBytes) {
        inKernel++;
        bytes += opBytes;
        op.gateBytes = opBytes;
        op.onGate = true;
    }

    /** An admitted op left the kernel. */
    void release(CoreOp op) {
        if (!op.onGate) {
            return;
        }
        op.onGate = false;
        inKernel--;
        bytes -= op.gateBytes;
        op.gateBytes = 0;
    }

    /** The next queued op if it fits now (removed from the FIFO and counted), else null. */
    CoreOp nextAdmissible() {
        CoreOp op = head;
        if (op == null || !(inKernel == reserved || (inKernel < highWatermark && bytes + op.gateBytes <= maxLentBytes))) {
            return null;
        }
        unqueue(op);
        take(op, op.gateBytes);
        return op;
    }

    void unqueue(CoreOp op) {
        if (op.queuedPrev == null) {
            head = op.queuedNext;
        } else {
            op.queuedPrev.queuedNext = op.queuedNext;
        }
        if (op.queuedNext == null) {
            tail = op.queuedPrev;
        } else {
            op.queuedNext.queuedPrev = op.queuedPrev;
        }
        op.queuedPrev = op.queuedNext = null;
        queued--;
    }

    int inKernel() {
        return inKernel;
    }

    long bytes() {
        return bytes;
    }

    int queued() {
        return queued;
    }

    long hits() {
        return hits;
    }

    /**
     * Verifies the gate's bookkeeping (for tests and debugging): every op in the FIFO is QUEUED and holds no
     * gate bytes, the FIFO's length matches its count, and the admitted counts stay within the limits.
     *
     * @throws IllegalStateException naming the first broken rule
     */
    void checkInvariant() {
        int n = 0;
        CoreOp prev = null;
        for (CoreOp op = head; op != null; op = op.queuedNext) {
            if (op.state() != CoreOp.QUEUED || op.onGate || op.queuedPrev != prev) {
                throw new IllegalStateException("gate FIFO holds an op in state " + op.state() + " (onGate " + op.onGate + ")");
            }
            prev = op;
            n++;
        }
        if (prev != tail || n != queued) {
            throw new IllegalStateException("gate FIFO length " + n + " != queued " + queued);
        }
        if (inKernel < reserved || bytes < 0 || (inKernel - reserved > Math.max(highWatermark - reserved, 1))) {
            throw new IllegalStateException("gate counts broken: inKernel " + inKernel + ", reserved " + reserved
                    + ", bytes " + bytes + ", highWatermark " + highWatermark);
        }
    }
}
