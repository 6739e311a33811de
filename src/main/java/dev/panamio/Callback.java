package dev.panamio;

/**
 * The completion of an asynchronous operation: exactly one of {@code value} and {@code error} is meaningful.
 * Runs on the loop thread, exactly once.
 *
 * @param <T> the result type
 */
@FunctionalInterface
public interface Callback<T> {
    /**
     * Receives the outcome: exactly one of {@code value} and {@code error} is meaningful.
     *
     * @param value the result, or {@code null} when {@code error} is set
     * @param error the failure, or {@code null} on success
     */
    void complete(T value, Throwable error);
}
