package dev.panamio.core;

import java.lang.foreign.MemorySegment;

/**
 * One fixed-size native buffer carved from a slab of the loop's arena. Its owner is always exactly one of:
 * the pool's free list, an op in the kernel (lent), a user lease, or a backend ring. The pool tracks which.
 */
public final class PooledBuffer implements dev.panamio.sys.SelectedBuffer {
    /** Free in the pool. */
    static final byte FREE = 0;
    /** Lent to the kernel by an op. */
    static final byte LENT = 1;
    /** Held by user code through a lease. */
    static final byte LEASED = 2;
    /** Owned by a backend (provided-buffer ring), recycled through it. */
    static final byte RING = 3;

    final MemorySegment segment;
    final BufferPool pool;
    /** The slab this buffer belongs to when a trim may free it (beyond what the pool retains), else {@code null}. */
    final BufferPool.Slab slab;
    byte state = FREE;
    /** Next in the pool's free list. */
    PooledBuffer nextFree;
    /** Set while a backend ring owns the buffer: how the lease gives it back. */
    Runnable ringRecycler;

    PooledBuffer(MemorySegment segment, BufferPool pool, BufferPool.Slab slab) {
        this.segment = segment;
        this.pool = pool;
        this.slab = slab;
    }

    /** The whole buffer (capacity bytes), with the loop's lifetime. Never shown to user code as is. */
    @Override
    public MemorySegment segment() {
        return segment;
    }

    /** Capacity in bytes. */
    public int capacity() {
        return (int) segment.byteSize();
    }
}
