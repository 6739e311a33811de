package dev.panamio;

import java.io.IOException;

/**
 * The operation could not finish because its connection, server or event loop was closed. Every callback
 * outstanding at close receives one, exactly once.
 */
public class ClosedException extends IOException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what was closed
     */
    public ClosedException(String message) {
        super(message);
    }
}
