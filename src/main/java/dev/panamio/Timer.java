package dev.panamio;

/**
 * A scheduled timer ({@link EventLoop#setTimeout}, {@link EventLoop#setInterval}).
 *
 * <p>Thread-safety: every method may be called from any thread; from outside the loop thread the change is
 * applied on the loop thread shortly after.
 */
public interface Timer {
    /** Cancels the timer: its task will not run again. Idempotent; callable from inside its own task. */
    void cancel();

    /**
     * Stops this timer from keeping {@link EventLoop#run()} alive (Node's {@code unref}).
     *
     * @return this timer
     */
    Timer unref();

    /**
     * Makes this timer keep the loop alive again (the default).
     *
     * @return this timer
     */
    Timer ref();

    /**
     * Returns whether the timer is still scheduled.
     *
     * @return whether the timer is still scheduled
     */
    boolean isActive();
}
