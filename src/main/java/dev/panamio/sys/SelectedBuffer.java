package dev.panamio.sys;

import java.lang.foreign.MemorySegment;

/**
 * A pool buffer held by a backend's ring (see {@link BufferSource}); the completion's result says how many
 * bytes of it the kernel filled.
 */
public interface SelectedBuffer {
    /** The whole buffer (its capacity). */
    MemorySegment segment();
}
