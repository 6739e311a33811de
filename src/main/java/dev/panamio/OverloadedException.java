package dev.panamio;

import java.io.IOException;

/**
 * The loop refused an operation because {@code maxQueued} operations already wait in user space behind the
 * high watermark. Failing fast bounds the memory a slow or hostile peer can make the process hold; retry
 * later or shed load.
 */
public class OverloadedException extends IOException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what was refused and the limit
     */
    public OverloadedException(String message) {
        super(message);
    }
}
