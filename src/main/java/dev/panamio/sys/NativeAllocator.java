package dev.panamio.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** The loop's native memory as a backend sees it: allocations and accounting that live until loop close. */
public interface NativeAllocator {
    /** Zeroed memory owned by the loop until it closes. */
    MemorySegment allocate(long size, long alignment);

    /** The loop's arena (for mmap'ed memory reinterpreted with the loop's lifetime). */
    Arena arena();

    /** Adds {@code delta} bytes obtained outside {@link #allocate} (e.g. mmap) to the loop's count. */
    void account(long delta);
}
