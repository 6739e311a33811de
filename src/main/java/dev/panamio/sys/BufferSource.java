package dev.panamio.sys;

/**
 * The loop's buffer pool as a backend sees it, for backends that give buffers to the kernel ahead of time
 * (an io_uring provided-buffer ring). Loop thread only.
 */
public interface BufferSource {
    /** Size of every buffer. */
    int bufferSize();

    /**
     * Takes a pool buffer for a ring: until the ring gives it back with {@link #returnFromRing} it counts as
     * lent. When the kernel fills it, the backend sets it as {@link Op#selected} of the RECV_SELECT
     * completion; the core then lends it to user code, and when that lease ends runs {@code recycle} so the
     * backend can give it to the kernel again.
     */
    SelectedBuffer takeForRing(Runnable recycle);

    /** The ring is torn down: the buffer (not behind a user lease) goes back to the free list. */
    void returnFromRing(SelectedBuffer buffer);
}
