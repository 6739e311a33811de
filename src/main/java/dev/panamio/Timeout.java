package dev.panamio;

import java.time.Duration;
import java.time.temporal.ChronoUnit;

/**
 * Timeout values with a name. Every operation has a deadline; waiting forever has to be asked for in words.
 */
public final class Timeout {
    private Timeout() {}

    /** No deadline: the operation may wait forever. */
    public static final Duration NONE = ChronoUnit.FOREVER.getDuration();

    /**
     * Nanoseconds of {@code timeout} for the loop: {@code 0} for {@link #NONE}.
     *
     * @throws NullPointerException     if {@code timeout} is null
     * @throws IllegalArgumentException if it is zero or negative
     */
    static long toNanos(Duration timeout, String what) {
        if (timeout == null) {
            throw new NullPointerException(what + " timeout is null (use Timeout.NONE for no deadline)");
        }
        if (timeout.equals(NONE)) {
            return 0;
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException(what + " timeout must be positive, was " + timeout);
        }
        try {
            return timeout.toNanos();
        } catch (ArithmeticException tooLong) {
            return 0; // longer than ~292 years: the same as no deadline
        }
    }
}
