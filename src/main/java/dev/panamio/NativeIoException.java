package dev.panamio;

import java.io.IOException;

/**
 * A system call failed. The message names the call, the argument that matters, and the error by name and
 * number, e.g. {@code connect 127.0.0.1:1: ECONNREFUSED (111): Connection refused}.
 *
 * <table class="striped">
 *   <caption>Where the error comes from</caption>
 *   <thead><tr><th>Platform</th><th>{@link #errorName()} / {@link #errorCode()}</th></tr></thead>
 *   <tbody>
 *     <tr><td>Linux</td><td>errno, e.g. {@code ECONNRESET} / 104</td></tr>
 *     <tr><td>Windows</td><td>GetLastError or WSAGetLastError, e.g. {@code WSAECONNRESET} / 10054</td></tr>
 *   </tbody>
 * </table>
 */
public class NativeIoException extends IOException {
    private static final long serialVersionUID = 1L;
    /** The call that failed. */
    private final String call;
    /** The error's symbolic name. */
    private final String errorName;
    /** The error's number. */
    private final int errorCode;

    /**
     * Creates the exception.
     *
     * @param call        the call and its argument, e.g. {@code connect 127.0.0.1:1}
     * @param errorName   the error's symbolic name, e.g. {@code ECONNREFUSED}
     * @param errorCode   the error's number
     * @param description {@code NAME (number): message}
     */
    public NativeIoException(String call, String errorName, int errorCode, String description) {
        super(call + ": " + description);
        this.call = call;
        this.errorName = errorName;
        this.errorCode = errorCode;
    }

    /**
     * Returns the call and its argument.
     *
     * @return the call and its argument
     */
    public String call() {
        return call;
    }

    /**
     * Returns the error's symbolic name, e.g. {@code ECONNRESET}.
     *
     * @return the error's symbolic name, e.g. {@code ECONNRESET}
     */
    public String errorName() {
        return errorName;
    }

    /**
     * Returns the platform error number.
     *
     * @return the platform error number
     */
    public int errorCode() {
        return errorCode;
    }
}
