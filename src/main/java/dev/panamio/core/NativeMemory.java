package dev.panamio.core;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The arena a loop allocates native memory from, with the byte count every statistic and leak check reads.
 *
 * <p>One per loop. Allocation happens on the loop thread (slabs, rings, op blocks); {@link #close()} frees
 * everything at once and is called only after the kernel has returned every lent byte. Memory that may go
 * back before then (the buffer pool's slabs) is a {@link Block}: its own arena, freed by {@link #free} once
 * no byte of it is lent or leased, so that a stale segment of it fails with {@link IllegalStateException}
 * instead of touching freed memory. A process-wide total ({@link #processBytes()}) lets tests check that
 * closed loops gave every byte back.
 */
public final class NativeMemory implements AutoCloseable, dev.panamio.sys.NativeAllocator {
    private static final AtomicLong PROCESS_BYTES = new AtomicLong();

    private final Arena arena = Arena.ofShared();
    private long bytes;
    private boolean closed;
    /** Blocks not yet freed (a doubly linked list through {@link Block#next}). */
    private Block blocks;

    /** Allocates {@code size} zeroed bytes aligned to {@code alignment}, owned by this loop until close. */
    @Override
    public MemorySegment allocate(long size, long alignment) {
        if (closed) {
            throw new IllegalStateException("loop memory already released");
        }
        MemorySegment segment = arena.allocate(size, alignment);
        bytes += size;
        PROCESS_BYTES.addAndGet(size);
        return segment;
    }

    /**
     * Allocates {@code size} zeroed bytes aligned to {@code alignment} in an arena of their own, which
     * {@link #free} closes (or {@link #close()}, with everything else).
     */
    public Block allocateBlock(long size, long alignment) {
        if (closed) {
            throw new IllegalStateException("loop memory already released");
        }
        Arena own = Arena.ofShared();
        Block b;
        try {
            b = new Block(own, own.allocate(size, alignment));
        } catch (RuntimeException | Error e) {
            own.close();
            throw e;
        }
        b.next = blocks;
        if (blocks != null) {
            blocks.prev = b;
        }
        blocks = b;
        bytes += size;
        PROCESS_BYTES.addAndGet(size);
        return b;
    }

    /**
     * Frees a block now: every segment of it fails from here on. The caller guarantees that neither the
     * kernel nor user code holds any of its bytes. Closing a shared arena waits for every thread to
     * acknowledge, so this costs up to a few hundred microseconds: callers free a few blocks at a time.
     */
    public void free(Block b) {
        if (!b.arena.scope().isAlive()) {
            throw new IllegalStateException("block freed twice");
        }
        if (b.prev != null) {
            b.prev.next = b.next;
        } else {
            blocks = b.next;
        }
        if (b.next != null) {
            b.next.prev = b.prev;
        }
        b.prev = b.next = null;
        long size = b.segment.byteSize();
        bytes -= size;
        PROCESS_BYTES.addAndGet(-size);
        b.arena.close();
    }

    /** Native memory with an arena of its own, which can go back before the loop closes. */
    public static final class Block {
        final Arena arena;
        final MemorySegment segment;
        private Block prev;
        private Block next;

        Block(Arena arena, MemorySegment segment) {
            this.arena = arena;
            this.segment = segment;
        }

        /** The block's bytes; valid until it is freed. */
        public MemorySegment segment() {
            return segment;
        }
    }

    /** The arena, for code that must create segments with this loop's lifetime (e.g. mmap'ed rings). */
    @Override
    public Arena arena() {
        return arena;
    }

    /** Records native bytes obtained outside {@link #allocate} (mmap'ed rings) so they show in statistics. */
    @Override
    public void account(long delta) {
        bytes += delta;
        PROCESS_BYTES.addAndGet(delta);
    }

    /** Native bytes this loop holds. */
    public long bytes() {
        return bytes;
    }

    /** Native bytes every open loop in this process holds (for leak checks). */
    public static long processBytes() {
        return PROCESS_BYTES.get();
    }

    /** Frees every byte. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        PROCESS_BYTES.addAndGet(-bytes);
        bytes = 0;
        for (Block b = blocks; b != null; b = b.next) {
            b.arena.close();
        }
        blocks = null;
        arena.close();
    }
}
