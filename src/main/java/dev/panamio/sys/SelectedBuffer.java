package dev.panamio.sys;

import java.lang.foreign.MemorySegment;

/**
 * A buffer a backend chose for a {@link OpKind#RECV_SELECT} (an io_uring provided-buffer ring entry). The core
 * wraps it in a user lease; when the lease ends the core calls {@link #recycle()} and the backend gives the
 * memory back to the kernel. Until then the kernel does not write it.
 */
public interface SelectedBuffer {
    /** The whole buffer (its capacity); the completion's result says how many bytes were filled. */
    MemorySegment segment();

    /** Returns the buffer to its backend. Called once, on the loop thread. */
    void recycle();
}
