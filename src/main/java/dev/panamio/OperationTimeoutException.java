package dev.panamio;

import java.io.IOException;
import java.time.Duration;

/**
 * An operation's deadline passed. By the time this is delivered the operation has been cancelled in the
 * kernel and every byte it was lent has been given back.
 */
public class OperationTimeoutException extends IOException {
    private static final long serialVersionUID = 1L;
    /** The operation that timed out. */
    private final String operation;
    private final transient Duration timeout;

    /**
     * Creates the exception.
     *
     * @param operation the operation, e.g. {@code read 127.0.0.1:4000}
     * @param timeout   the deadline it had
     */
    public OperationTimeoutException(String operation, Duration timeout) {
        super(operation + " timed out after " + format(timeout));
        this.operation = operation;
        this.timeout = timeout;
    }

    /**
     * Returns the operation that timed out.
     *
     * @return the operation that timed out
     */
    public String operation() {
        return operation;
    }

    /**
     * Returns the deadline the operation had.
     *
     * @return the deadline the operation had
     */
    public Duration timeout() {
        return timeout;
    }

    private static String format(Duration d) {
        return d.toMillis() >= 1000 && d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }
}
