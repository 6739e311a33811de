package dev.panamio.sys;

/**
 * Where a backend delivers completions, during {@link IoBackend#poll}. Called on the loop thread only.
 */
@FunctionalInterface
public interface CompletionSink {
    /**
     * One completion.
     *
     * @param op     the op, as submitted (for RECV_SELECT with {@link Op#selected} set on success)
     * @param result {@code >= 0} on success; {@code -code} with a platform error code on failure
     * @param flags  {@link Completion} flags
     */
    void complete(Op op, long result, int flags);

    /**
     * The backend's wait in the kernel has just returned (called only after a wait that may have blocked,
     * before what it brought is delivered): the loop refreshes its clock here, so that a deadline set by a
     * completion's handler counts from now, not from before the wait.
     */
    default void waited() {
    }
}
