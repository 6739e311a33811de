package dev.panamio.core;

import java.lang.foreign.MemorySegment;

/**
 * Fixed-size native buffers carved from slabs of the loop's arena, with an intrusive free list (so taking
 * and returning a buffer allocates nothing). Grows a slab at a time on demand; buffers are freed only when
 * the loop's arena closes, after the kernel has given every one back.
 *
 * <p>Accounting: {@code allocated = free + lent + leased + ring}; {@link #checkInvariant()} verifies it.
 * Loop thread only.
 */
public final class BufferPool implements dev.panamio.sys.BufferSource {
    /** Buffers per slab: one arena allocation serves this many buffers, and the pool grows by this step. */
    static final int BUFFERS_PER_SLAB = 64;
    private static final long ALIGNMENT = 64; // cache line: no false sharing between neighbouring buffers

    private final NativeMemory memory;
    private final int bufferSize;
    private PooledBuffer freeList;
    private long allocatedBytes;
    private long freeBytes;
    private long lentBytes;
    private long leasedBytes;
    private long ringBytes;
    private long peakLentBytes;
    private long slabs;

    public BufferPool(NativeMemory memory, int bufferSize) {
        this.memory = memory;
        this.bufferSize = bufferSize;
    }

    /** Size of every buffer. */
    @Override
    public int bufferSize() {
        return bufferSize;
    }

    private void grow() {
        MemorySegment slab = memory.allocate((long) bufferSize * BUFFERS_PER_SLAB, ALIGNMENT);
        for (int i = BUFFERS_PER_SLAB - 1; i >= 0; i--) {
            PooledBuffer b = new PooledBuffer(slab.asSlice((long) i * bufferSize, bufferSize), this);
            b.nextFree = freeList;
            freeList = b;
        }
        slabs++;
        allocatedBytes += (long) bufferSize * BUFFERS_PER_SLAB;
        freeBytes += (long) bufferSize * BUFFERS_PER_SLAB;
        LoopEvents.BufferPoolGrowth e = new LoopEvents.BufferPoolGrowth();
        if (e.shouldCommit()) {
            e.slabBytes = (long) bufferSize * BUFFERS_PER_SLAB;
            e.poolBytes = allocatedBytes;
            e.commit();
        }
    }

    private PooledBuffer take() {
        if (freeList == null) {
            grow();
        }
        PooledBuffer b = freeList;
        freeList = b.nextFree;
        b.nextFree = null;
        freeBytes -= bufferSize;
        return b;
    }

    /** Takes a buffer to lend to the kernel. */
    public PooledBuffer takeForKernel() {
        PooledBuffer b = take();
        b.state = PooledBuffer.LENT;
        lentBytes += bufferSize;
        notePeak();
        return b;
    }

    /** Takes a buffer for user code (an empty write buffer). */
    public PooledBuffer takeForUser() {
        PooledBuffer b = take();
        b.state = PooledBuffer.LEASED;
        leasedBytes += bufferSize;
        return b;
    }

    /** Takes a buffer for a backend's provided-buffer ring; {@code recycler} gives it back to the ring. */
    @Override
    public PooledBuffer takeForRing(Runnable recycler) {
        PooledBuffer b = take();
        b.state = PooledBuffer.RING;
        b.ringRecycler = recycler;
        ringBytes += bufferSize;
        notePeak();
        return b;
    }

    /** The kernel gave a lent buffer back with data: it now belongs to a user lease. */
    public void lentToLeased(PooledBuffer b) {
        expect(b, PooledBuffer.LENT);
        b.state = PooledBuffer.LEASED;
        lentBytes -= bufferSize;
        leasedBytes += bufferSize;
    }

    /** A leased buffer is handed to a write: it is lent to the kernel again. */
    public void leasedToLent(PooledBuffer b) {
        expect(b, PooledBuffer.LEASED);
        b.state = PooledBuffer.LENT;
        leasedBytes -= bufferSize;
        lentBytes += bufferSize;
        notePeak();
    }

    private void notePeak() {
        long now = lentBytes + ringBytes;
        if (now > peakLentBytes) {
            peakLentBytes = now;
        }
    }

    /** @return the most bytes lent to the kernel (ops and rings) at once since the pool was made */
    public long peakLentBytes() {
        return peakLentBytes;
    }

    /** A ring buffer the kernel filled is now behind a user lease (it stays counted as ring memory). */
    public void ringToLeased(PooledBuffer b) {
        expect(b, PooledBuffer.RING);
        b.state = PooledBuffer.LEASED;
        ringBytes -= bufferSize;
        leasedBytes += bufferSize;
    }

    /** Returns a buffer (lent or leased) to the free list, or a ring buffer to its ring. */
    public void release(PooledBuffer b) {
        switch (b.state) {
            case PooledBuffer.LENT -> lentBytes -= bufferSize;
            case PooledBuffer.LEASED -> leasedBytes -= bufferSize;
            case PooledBuffer.RING -> ringBytes -= bufferSize;
            default -> throw new IllegalStateException("buffer released twice");
        }
        if (b.ringRecycler != null) {
            b.state = PooledBuffer.RING;
            ringBytes += bufferSize;
            b.ringRecycler.run();
            return;
        }
        b.state = PooledBuffer.FREE;
        b.nextFree = freeList;
        freeList = b;
        freeBytes += bufferSize;
    }

    /** A ring is torn down: its buffer goes back to the free list for good. */
    @Override
    public void returnFromRing(dev.panamio.sys.SelectedBuffer selected) {
        PooledBuffer b = (PooledBuffer) selected;
        expect(b, PooledBuffer.RING);
        b.ringRecycler = null;
        ringBytes -= bufferSize;
        b.state = PooledBuffer.FREE;
        b.nextFree = freeList;
        freeList = b;
        freeBytes += bufferSize;
    }

    private static void expect(PooledBuffer b, byte state) {
        if (b.state != state) {
            throw new IllegalStateException("buffer in state " + b.state + ", expected " + state);
        }
    }

    public long allocatedBytes() {
        return allocatedBytes;
    }

    public long freeBytes() {
        return freeBytes;
    }

    public long lentBytes() {
        return lentBytes;
    }

    public long leasedBytes() {
        return leasedBytes;
    }

    public long ringBytes() {
        return ringBytes;
    }

    public long slabs() {
        return slabs;
    }

    /** Throws if the four owners do not add up to what was allocated. */
    public void checkInvariant() {
        if (freeBytes + lentBytes + leasedBytes + ringBytes != allocatedBytes) {
            throw new IllegalStateException("buffer accounting broken: free " + freeBytes + " + lent " + lentBytes
                    + " + leased " + leasedBytes + " + ring " + ringBytes + " != allocated " + allocatedBytes);
        }
    }
}
