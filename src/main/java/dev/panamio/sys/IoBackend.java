package dev.panamio.sys;

/**
 * The platform boundary: one kernel event queue driven in the completion model.
 *
 * <p>Every backend supplies:
 * <ul>
 *   <li>{@link #submit(Op)}: start an op. It completes exactly once, later, through the sink given to
 *       {@link #poll} (never synchronously inside {@code submit}: the core never re-enters itself).</li>
 *   <li>{@link #cancel(Op)}: a request. Its outcome is that op's completion: with {@link Completion#CANCELLED}
 *       and a negative result if the cancel won, with the normal result if the op had already finished. The
 *       op's memory stays lent until that completion is delivered.</li>
 *   <li>{@link #poll(long, CompletionSink)}: submit what is batched, wait up to the timeout for at least one
 *       completion or a {@link #wakeup()}, and deliver the whole batch that is ready.</li>
 *   <li>{@link #wakeup()}: from any thread, makes a blocked or the next {@code poll} return promptly.
 *       Repeated wakeups merge.</li>
 *   <li>{@link #sockets()}: the platform's synchronous socket calls (create, bind, listen, options,
 *       addresses, shutdown, close) and {@link #errors()}: naming and classifying its error codes.</li>
 *   <li>{@link #close()}: releases the queue. The core calls it only when no op is left in the kernel.</li>
 * </ul>
 *
 * <p>Threading: everything but {@code wakeup()} is called on the loop thread only. A backend knows no user
 * callback and allocates nothing per op on the steady-state path.
 */
public interface IoBackend extends AutoCloseable {
    /** Short name: {@code epoll}, {@code io_uring}, {@code iocp}, {@code test}. */
    String name();

    /** Starts {@code op}. See the class comment for the contract. */
    void submit(Op op);

    /** Requests cancellation of an op that was submitted and has not completed yet. */
    void cancel(Op op);

    /**
     * Submits what is pending, waits for completions and delivers them to {@code sink}.
     *
     * @param timeoutNanos {@code 0}: do not wait; {@code < 0}: wait until something completes or a wakeup
     * @return the number of completions delivered
     */
    int poll(long timeoutNanos, CompletionSink sink);

    /** Makes a waiting or the next {@link #poll} return. Any thread. */
    void wakeup();

    /**
     * Whether the backend opens, reads, writes and closes files itself ({@link OpKind#FILE_OPEN},
     * {@link OpKind#FILE_READ}, {@link OpKind#FILE_WRITE}, {@link OpKind#FILE_CLOSE}); where it does not,
     * the loop does file work on its blocking pool.
     */
    default boolean supportsFileOps() {
        return false;
    }

    /** Whether {@link OpKind#RECV_SELECT} is supported (the kernel picks the buffer when data arrives). */
    default boolean supportsSelectedBuffers() {
        return false;
    }

    /**
     * Whether the backend sends and receives inline ({@link #sendNow}, {@link #recvNow}): a readiness-model
     * backend (epoll) performs a send to a socket with room, and a receive on a socket reported readable,
     * inside the call, where going through an op would only add bookkeeping. Completion-model backends
     * (io_uring, IOCP) batch their transfers as ops instead.
     */
    default boolean transfersInline() {
        return false;
    }

    /**
     * Performs {@code op}'s send ({@link OpKind#SEND} or {@link OpKind#SENDV}, as prepared) once, now, inside
     * this call, without taking the op: the kernel copies what fits into the socket's send buffer before
     * returning, so no memory stays lent. Only where {@link #transfersInline()}; the core calls it only when
     * the socket has no send op of its own pending, so bytes are never reordered.
     *
     * @return bytes sent; {@code 0} when nothing was sent: no room (the backend notes that the socket is
     *         full), or an error, which the core's next send op meets and reports
     */
    default long sendNow(Op op) {
        throw new UnsupportedOperationException(name() + " has no inline send");
    }

    /**
     * Receives into {@code buffer} now, inside this call (only where {@link #transfersInline()}): the buffer
     * is lent for the duration of the system call only.
     *
     * @return bytes received, {@code 0} at end of stream, or a negative platform error ({@code -EAGAIN} when
     *         nothing is there after all: the backend notes that the socket is drained)
     */
    default long recvNow(long handle, java.lang.foreign.MemorySegment buffer, long offset, long length) {
        throw new UnsupportedOperationException(name() + " has no inline receive");
    }

    /** The platform's socket calls. */
    Sockets sockets();

    /** The platform's error names and classes. */
    PlatformErrors errors();

    /** Native bytes the backend itself holds (rings, event arrays, op blocks), for statistics. */
    default long nativeBytes() {
        return 0;
    }

    /** Native bytes the backend lends to the kernel outside any op (an io_uring provided-buffer ring). */
    default long lentBytes() {
        return 0;
    }

    /** Releases the queue and every byte the backend holds. Called when no op is in the kernel. */
    @Override
    void close();
}
