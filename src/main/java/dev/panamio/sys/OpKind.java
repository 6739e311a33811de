package dev.panamio.sys;

/**
 * The kinds of operation a backend executes. Every kind completes exactly once (a multishot op completes
 * once per result, the last one without {@link Completion#MORE}).
 *
 * <p>Result conventions (the {@code result} of {@link CompletionSink#complete}): a value {@code >= 0} is
 * success, a negative value is {@code -code} with {@code code} an error of the backend's platform, decoded by
 * {@link IoBackend#errors()}.
 */
public final class OpKind {
    private OpKind() {}

    /** Wait until {@code handle} is readable. Lends nothing. Result 0 (readable, or EOF/error pending). */
    public static final byte POLL_READABLE = 1;
    /** Receive into {@code buffer[offset, offset+length)}. Lends the buffer. Result: bytes read, 0 at EOF. */
    public static final byte RECV = 2;
    /**
     * Receive into a buffer the backend chooses when data arrives (io_uring provided-buffer ring). Lends
     * nothing while it waits. On success the backend sets {@link Op#selected} before completing.
     * Only where {@link IoBackend#supportsSelectedBuffers()}.
     */
    public static final byte RECV_SELECT = 3;
    /** Send {@code buffer[offset, offset+length)}. Lends the buffer. Result: bytes written (may be short). */
    public static final byte SEND = 4;
    /** Gather-send {@code iovCount} iovecs at {@code iov}. Lends every buffer. Result: bytes written. */
    public static final byte SENDV = 5;
    /** Accept one connection on listening {@code handle}. Result: the new handle. */
    public static final byte ACCEPT = 6;
    /** Connect {@code handle} to {@code addr}/{@code addrLen}. Result 0 when connected. */
    public static final byte CONNECT = 7;
    /** Read a file at {@code fileOffset} into the buffer. Lends the buffer. Result: bytes read. */
    public static final byte FILE_READ = 8;
    /** Write the buffer to a file at {@code fileOffset}. Lends the buffer. Result: bytes written. */
    public static final byte FILE_WRITE = 9;
    /**
     * Open the file whose NUL-terminated UTF-8 path is at {@code addr}, for reading ({@code length} =
     * {@link #OPEN_READ}) or writing ({@link #OPEN_WRITE}: created if missing with mode 0644, truncated);
     * close-on-exec. Lends nothing (the path belongs to the op). Result: the new handle. Only where
     * {@link IoBackend#supportsFileOps()}.
     */
    public static final byte FILE_OPEN = 10;
    /** {@link #FILE_OPEN} mode: read only. */
    public static final int OPEN_READ = 0;
    /** {@link #FILE_OPEN} mode: write only, created or truncated. */
    public static final int OPEN_WRITE = 1;
    /** Close file {@code handle}. Result 0. Only where {@link IoBackend#supportsFileOps()}. */
    public static final byte FILE_CLOSE = 11;

    /** Whether ops of this kind lend memory to the kernel while they are in it (and so count on the gate). */
    public static boolean lends(byte kind) {
        return switch (kind) {
            case RECV, SEND, SENDV, FILE_READ, FILE_WRITE -> true;
            default -> false;
        };
    }

    /** A short name for messages and statistics. */
    public static String name(byte kind) {
        return switch (kind) {
            case POLL_READABLE -> "poll";
            case RECV -> "recv";
            case RECV_SELECT -> "recv";
            case SEND -> "send";
            case SENDV -> "writev";
            case ACCEPT -> "accept";
            case CONNECT -> "connect";
            case FILE_READ -> "read";
            case FILE_WRITE -> "write";
            case FILE_OPEN -> "open";
            case FILE_CLOSE -> "close";
            default -> "op" + kind;
        };
    }
}
