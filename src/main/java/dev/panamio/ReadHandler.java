package dev.panamio;

/**
 * Receives what a connection reads. Runs on the loop thread.
 *
 * <p>Each {@code onData} gets its own lease on the bytes: release it, or hand it to a write, when done
 * (a lease that is never released keeps its buffer out of the pool). End of stream and errors are their own
 * signals; by default both close the connection.
 *
 * {@snippet :
 * conn.startReading((c, data) -> c.write(data));   // an echo: the write takes the lease
 * }
 */
@FunctionalInterface
public interface ReadHandler {
    /**
     * Bytes arrived.
     *
     * @param connection the connection
     * @param data       a lease on exactly the bytes read (never empty)
     */
    void onData(TcpConnection connection, Buffer data);

    /**
     * The peer shut down its sending side (read returned 0). Reading stops; writing may continue.
     * By default: {@link TcpConnection#close()}.
     *
     * @param connection the connection
     */
    default void onEof(TcpConnection connection) {
        connection.close();
    }

    /**
     * Reading failed: {@link NativeIoException} (e.g. {@code ECONNRESET}), {@link OperationTimeoutException}
     * (no data within the read timeout), {@link OverloadedException}, {@link ClosedException} for a
     * one-shot read outstanding at close, or {@link java.util.concurrent.CancellationException} for a
     * one-shot read ended by {@link TcpConnection#stopReading()}. Reading stops. By default: {@link TcpConnection#close()}.
     *
     * @param connection the connection
     * @param error      what went wrong
     */
    default void onError(TcpConnection connection, Throwable error) {
        connection.close();
    }
}
