package dev.panamio.core;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The arena a loop allocates native memory from, with the byte count every statistic and leak check reads.
 *
 * <p>One per loop. Allocation happens on the loop thread (slabs, rings, op blocks); {@link #close()} frees
 * everything at once and is called only after the kernel has returned every lent byte. A process-wide total
 * ({@link #processBytes()}) lets tests check that closed loops gave every byte back.
 */
public final class NativeMemory implements AutoCloseable, dev.panamio.sys.NativeAllocator {
    private static final AtomicLong PROCESS_BYTES = new AtomicLong();

    private final Arena arena = Arena.ofShared();
    private long bytes;
    private boolean closed;

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
        arena.close();
    }
}
