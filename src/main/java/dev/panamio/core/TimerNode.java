package dev.panamio.core;

/** An entry of the {@link TimerHeap}: a user timer or an op's deadline. */
public abstract class TimerNode {
    /** Absolute deadline on the loop's clock (nanoseconds). */
    long deadline;
    /** Insertion order: equal deadlines fire in the order they were scheduled. */
    long seq;
    /** Position in the heap array, {@code -1} when not scheduled. */
    int heapIndex = -1;

    /** Whether this node is scheduled. */
    public final boolean isScheduled() {
        return heapIndex >= 0;
    }

    /** The deadline (loop clock, nanoseconds). */
    public final long deadline() {
        return deadline;
    }

    /** Runs on the loop thread when the deadline has passed; the node is already unscheduled. */
    protected abstract void expire();
}
