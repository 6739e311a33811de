package dev.panamio;

/**
 * The kernel event queue an event loop drives.
 *
 * <table class="striped">
 *   <caption>Backends by platform</caption>
 *   <thead><tr><th>Backend</th><th>Platform</th><th>Model</th></tr></thead>
 *   <tbody>
 *     <tr><td>{@link #EPOLL}</td><td>Linux</td><td>readiness, emulated as completion</td></tr>
 *     <tr><td>{@link #IO_URING}</td><td>Linux 5.19+</td><td>completion, provided-buffer rings</td></tr>
 *     <tr><td>{@link #IOCP}</td><td>Windows</td><td>completion (I/O completion ports)</td></tr>
 *   </tbody>
 * </table>
 */
public enum Backend {
    /** Linux epoll. */
    EPOLL,
    /** Linux io_uring. */
    IO_URING,
    /** Windows I/O completion ports. */
    IOCP
}
