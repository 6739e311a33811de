package dev.panamio;

import dev.panamio.core.PooledBuffer;
import dev.panamio.sys.Rings;

/**
 * A connection's queued writes, as two rings in parallel arrays, so queueing and completing writes allocates
 * nothing once the rings have grown to their working size:
 * <ul>
 *   <li>the bytes: (buffer, end, bytes already written, copy) per buffer, never empty. A buffer that holds
 *       copied bytes (from offset 0) takes further copies at its end while no send has it (see {@link #room}),
 *       so small copying writes share buffers;</li>
 *   <li>the callbacks: each with the position its write ends at, counted in bytes ever queued. A callback is
 *       due once that many bytes are written, so it runs in write order and never before its own bytes
 *       are written, however writes share buffers.</li>
 * </ul>
 * The rings start empty and take their arrays at the first write (and the first callback), so a connection
 * that never writes holds none. Loop thread only.
 */
final class WriteQueue {
    private static final int FIRST_CAPACITY = 8;
    // Shared by every empty queue; never written (a ring grows before its first entry).
    private static final PooledBuffer[] NO_BUFFERS = {};
    private static final int[] NO_INTS = {};
    private static final boolean[] NO_FLAGS = {};
    private static final Callback<?>[] NO_CALLBACKS = {};
    private static final long[] NO_LONGS = {};

    private PooledBuffer[] buffers = NO_BUFFERS;
    private int[] lengths = NO_INTS;
    private int[] written = NO_INTS;
    private boolean[] copies = NO_FLAGS;
    private int head;
    private int size;

    private Callback<?>[] callbacks = NO_CALLBACKS;
    private long[] ends = NO_LONGS;
    private int callbackHead;
    private int callbackCount;

    /** Bytes ever queued and bytes ever written: callback positions are counted on this scale. */
    private long queuedTotal;
    private long writtenTotal;

    /** Bytes queued and not yet written (or given up: see {@link #advance}). */
    long pendingBytes() {
        return queuedTotal - writtenTotal;
    }

    int size() {
        return size;
    }

    boolean isEmpty() {
        return size == 0;
    }

    /**
     * Queues a buffer's first {@code length} bytes ({@code length > 0}).
     *
     * @param copy whether the buffer is the queue's own copy of the caller's bytes (more copies may be
     *             appended to it); false for a caller's lease, whose buffer is written as is
     */
    void add(PooledBuffer buffer, int length, boolean copy) {
        if (size == buffers.length) {
            growBuffers();
        }
        int i = (head + size) & (buffers.length - 1);
        buffers[i] = buffer;
        lengths[i] = length;
        written[i] = 0;
        copies[i] = copy;
        size++;
        queuedTotal += length;
    }

    /**
     * Bytes that can still be appended to the last buffer: it holds a copy and is not among the first
     * {@code busy} buffers, which a send has (the kernel may be reading them).
     */
    int room(int busy) {
        if (size <= busy) {
            return 0;
        }
        int i = at(size - 1);
        return copies[i] ? buffers[i].capacity() - lengths[i] : 0;
    }

    /** Where appended bytes go: the last buffer from its current length (see {@link #room}). */
    PooledBuffer lastBuffer() {
        return buffers[at(size - 1)];
    }

    /** The last buffer's length: the offset in {@link #lastBuffer()} where appended bytes go. */
    int lastLength() {
        return lengths[at(size - 1)];
    }

    /** The last buffer grows by {@code n} bytes, already copied to its end. */
    void extendLast(int n) {
        lengths[at(size - 1)] += n;
        queuedTotal += n;
    }

    private int at(int k) {
        return (head + k) & (buffers.length - 1);
    }

    PooledBuffer buffer(int k) {
        return buffers[at(k)];
    }

    /** Bytes of buffer {@code k} not yet written. */
    int remaining(int k) {
        int i = at(k);
        return lengths[i] - written[i];
    }

    /** Offset of the first unwritten byte of buffer {@code k}. */
    int written(int k) {
        return written[at(k)];
    }

    /** Marks {@code n} more bytes of the first buffer written, or given up (at most its remaining bytes). */
    void advance(int n) {
        written[head] += n;
        writtenTotal += n;
    }

    /** Removes the first buffer (the caller releases it). */
    void removeFirst() {
        buffers[head] = null;
        head = (head + 1) & (buffers.length - 1);
        size--;
    }

    /** The callback of the write whose bytes were queued last: due when every byte queued so far is written. */
    void addCallback(Callback<?> callback) {
        if (callbackCount == callbacks.length) {
            growCallbacks();
        }
        int i = (callbackHead + callbackCount) & (callbacks.length - 1);
        callbacks[i] = callback;
        ends[i] = queuedTotal;
        callbackCount++;
    }

    boolean hasCallback() {
        return callbackCount > 0;
    }

    /** Whether the first callback's bytes are all written. */
    boolean callbackDue() {
        return callbackCount > 0 && ends[callbackHead] <= writtenTotal;
    }

    /** Removes and returns the first callback. */
    Callback<?> pollCallback() {
        Callback<?> c = callbacks[callbackHead];
        callbacks[callbackHead] = null;
        callbackHead = (callbackHead + 1) & (callbacks.length - 1);
        callbackCount--;
        return c;
    }

    private void growBuffers() {
        int m = buffers.length == 0 ? FIRST_CAPACITY : buffers.length * 2;
        buffers = Rings.unwrapped(buffers, head, size, m);
        lengths = Rings.unwrapped(lengths, head, size, m);
        written = Rings.unwrapped(written, head, size, m);
        copies = Rings.unwrapped(copies, head, size, m);
        head = 0;
    }

    private void growCallbacks() {
        int m = callbacks.length == 0 ? FIRST_CAPACITY : callbacks.length * 2;
        callbacks = Rings.unwrapped(callbacks, callbackHead, callbackCount, m);
        ends = Rings.unwrapped(ends, callbackHead, callbackCount, m);
        callbackHead = 0;
    }
}
