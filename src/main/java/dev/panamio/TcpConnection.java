package dev.panamio;

import dev.panamio.core.CoreOp;
import dev.panamio.core.Handle;
import dev.panamio.core.LoopCore;
import dev.panamio.core.PooledBuffer;
import dev.panamio.core.Stages;
import dev.panamio.sys.ErrorKind;
import dev.panamio.sys.OpKind;
import dev.panamio.sys.Sockets;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * A TCP connection on an {@link EventLoop}: accepted by a {@link TcpServer} or opened by
 * {@link EventLoop#connect}.
 *
 * <p><b>Reading.</b> {@link #startReading(ReadHandler)} reads continuously, {@link #read(Duration, ReadHandler)}
 * once. A read lends a pool buffer to the kernel only when data can be read (epoll: on readiness; io_uring:
 * the kernel picks a ring buffer when data arrives; IOCP: after a zero-byte read completes), so an idle
 * connection holds no buffer. Each read has a deadline (the read timeout): past it the handler gets
 * {@link OperationTimeoutException}.
 *
 * <p><b>Writing.</b> {@link #write(Buffer, Callback)} takes ownership of a lease until its callback; the other
 * {@code write} methods copy once into pooled buffers. Writes go out in order; partial writes are finished by
 * the loop, and a write's callback fires once, when all its bytes are written or the write failed, never
 * inside the {@code write} call, and in write order (an empty write's too). Above the
 * write high watermark the connection turns unwritable ({@link #isWritable()}, {@link #onWritabilityChanged})
 * until the queue drains below the low watermark.
 *
 * <p><b>Closing.</b> {@link #close()} stops reading, lets queued writes finish (within their deadlines) and
 * closes; {@link #abort()} closes now, failing queued writes with {@link ClosedException}. Either way the
 * socket is closed only after every operation in the kernel has completed, so no lent buffer is ever freed
 * early.
 *
 * <p>Thread-safety: loop thread only (see {@link EventLoop}).
 */
public final class TcpConnection extends Handle {
    private final EventLoop loop;
    private final LoopCore core;
    private final long handle;
    private final TcpOptions options;
    /** Whether reading pauses while the writes are backed up: accepted connections, as their options say. */
    private final boolean readBackpressure;
    private final long readTimeoutNanos;
    private final long writeTimeoutNanos;
    private final ReadOp readOp;
    /** A receive after readiness, made on first use: never on backends that receive inline (epoll). */
    private RecvOp recvOp;
    private final WriteOp writeOp;
    private ConnectOp connectOp;

    private boolean closing;
    private boolean aborted;
    private boolean closed;
    private boolean referenced = true;

    private ReadHandler reader;
    private boolean reading;
    private boolean oneShot;
    private boolean eof;
    private boolean ringDry;
    /**
     * Data the kernel handed over while no read was active, oldest first; the next read gets it before
     * anything newer (created on first use). A receive kept in the kernel (io_uring multishot) can hand over
     * several chunks between {@link #stopReading()} and its cancellation's completion.
     */
    private ArrayDeque<Buffer> stash;

    private final WriteQueue queue = new WriteQueue();
    /** With {@code reuseLeases}: the last read's lease object, ended by its handler, for the next read. */
    private Buffer spareLease;
    /** A flush waits for the end of the current callback ({@link #writeQueued}). */
    private boolean flushScheduled;
    private final Runnable flushTask = () -> {
        flushScheduled = false;
        afterWriteQueueChange();
    };
    /** While {@link #onWritten} accounts for written bytes: no new send may start. */
    private boolean accounting;
    /** Callbacks with nothing left to wait for will run on the next tick ({@link #queueCallback}). */
    private boolean dueCallbacksScheduled;
    private boolean writable = true;
    /** Read backpressure: the queued writes reached the high watermark, and a continuous read waits (see {@link #holdReads}). */
    private boolean readsHeld;
    private Consumer<TcpConnection> writabilityHandler;
    private Throwable writeError;
    private boolean outputShutdown;
    private boolean shutdownPending;
    private List<Runnable> closeListeners;

    private InetSocketAddress remote;
    private InetSocketAddress local;

    private TcpConnection(EventLoop loop, long handle, TcpOptions options, boolean readBackpressure) {
        this.loop = loop;
        this.core = loop.core();
        this.handle = handle;
        this.options = options;
        this.readBackpressure = readBackpressure;
        this.readTimeoutNanos = options.readTimeoutNanos(core.config().readTimeoutNanos());
        this.writeTimeoutNanos = options.writeTimeoutNanos(core.config().writeTimeoutNanos());
        this.readOp = new ReadOp(core);
        this.writeOp = new WriteOp(core);
        core.handles().add(this);
        core.ref();
        core.connections(1);
        applyOptions();
    }

    private void applyOptions() {
        Sockets s = core.backend().sockets();
        if (options.noDelay()) {
            s.setOption(handle, Sockets.SocketOption.TCP_NODELAY, 1);
        }
        if (options.keepAlive()) {
            s.setOption(handle, Sockets.SocketOption.KEEP_ALIVE, 1);
        }
        if (options.sendBufferSize() > 0) {
            s.setOption(handle, Sockets.SocketOption.SEND_BUFFER, options.sendBufferSize());
        }
        if (options.receiveBufferSize() > 0) {
            s.setOption(handle, Sockets.SocketOption.RECEIVE_BUFFER, options.receiveBufferSize());
        }
    }

    static TcpConnection accepted(EventLoop loop, long handle, TcpOptions options) {
        return new TcpConnection(loop, handle, options, options.readBackpressure());
    }

    static void connect(EventLoop loop, InetSocketAddress address, long timeoutNanos, TcpOptions options,
                        Callback<TcpConnection> callback) {
        LoopCore core = loop.core();
        long fd = core.backend().sockets().openTcp(address.getAddress() instanceof Inet6Address);
        if (fd < 0) {
            NativeIoException e = IoErrors.exception(core, "socket for " + format(address), fd);
            core.defer(() -> callback.complete(null, e));
            return;
        }
        // A client never pauses its own reading: one that writes a large request and reads the reply as it
        // comes would otherwise wait on a server that waits on it (see TcpOptions#readBackpressure).
        TcpConnection conn = new TcpConnection(loop, fd, options, false);
        conn.connectOp = conn.new ConnectOp(core, address, timeoutNanos, callback);
        conn.connectOp.submit(timeoutNanos);
    }

    static int openCount(LoopCore core) {
        return core.connections();
    }

    static String format(InetSocketAddress a) {
        if (a == null) {
            return "?";
        }
        String host = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    /**
     * Returns the loop this connection belongs to.
     *
     * @return the loop this connection belongs to
     */
    public EventLoop loop() {
        return loop;
    }

    /**
     * Returns the peer's address, or {@code null} if the socket has none (not connected).
     *
     * @return the peer's address, or {@code null} if the socket has none (not connected)
     */
    public InetSocketAddress remoteAddress() {
        if (remote == null && !closed) {
            remote = core.backend().sockets().remoteAddress(handle);
        }
        return remote;
    }

    /**
     * Returns the local address, or {@code null} if unknown.
     *
     * @return the local address, or {@code null} if unknown
     */
    public InetSocketAddress localAddress() {
        if (local == null && !closed) {
            local = core.backend().sockets().localAddress(handle);
        }
        return local;
    }

    /**
     * Returns whether {@link #close()} or {@link #abort()} has been called (or the loop closed).
     *
     * @return whether {@link #close()} or {@link #abort()} has been called (or the loop closed)
     */
    public boolean isClosed() {
        return closing;
    }

    // ------------------------------------------------------------------------------------------------ reading

    /**
     * Reads continuously: every arrival of data is one {@link ReadHandler#onData} with its own lease, until
     * EOF, an error, {@link #stopReading()} or close. Each wait for data has the read timeout as deadline.
     *
     * @param handler receives data, EOF and errors
     * @throws IllegalStateException if closed, or a read is already active
     */
    public void startReading(ReadHandler handler) {
        beginRead(handler, false);
    }

    /**
     * Reads once: the handler gets exactly one of data, EOF or error.
     *
     * @param timeout how long to wait for data, or {@link Timeout#NONE}
     * @param handler receives the outcome
     */
    public void read(Duration timeout, ReadHandler handler) {
        long nanos = Timeout.toNanos(timeout, "read");
        beginRead(handler, true);
        readDeadline = nanos;
        armReadIfIdle();
    }

    /**
     * {@link #read(Duration, ReadHandler)} as a stage, completed on the loop thread: with a lease on the bytes
     * read, with {@code null} at end of stream, or exceptionally with the read's error.
     *
     * @param timeout how long to wait for data, or {@link Timeout#NONE}
     * @return the lease (release it), or null at EOF
     * @throws IllegalStateException if closed, a read is already active, or called from another thread
     */
    public CompletionStage<Buffer> read(Duration timeout) {
        CompletableFuture<Buffer> f = new CompletableFuture<>();
        read(timeout, new ReadHandler() {
            @Override
            public void onData(TcpConnection connection, Buffer data) {
                f.complete(data);
            }

            @Override
            public void onEof(TcpConnection connection) {
                f.complete(null);
            }

            @Override
            public void onError(TcpConnection connection, Throwable error) {
                f.completeExceptionally(error);
            }
        });
        return f;
    }

    /**
     * {@link #write(byte[], Callback)} as a stage, completed on the loop thread.
     *
     * @param data the bytes (copied)
     * @return completes when every byte is written, or exceptionally with the write's error
     * @throws IllegalStateException if the connection is closed or its output shut down
     */
    public CompletionStage<Void> writeAsync(byte[] data) {
        return Stages.of(done -> write(data, done));
    }

    /**
     * {@link #write(Buffer, Callback)} as a stage, completed on the loop thread.
     *
     * @param data the lease (ended by this call)
     * @return completes when every byte is written, or exceptionally with the write's error
     * @throws IllegalStateException if the connection is closed or its output shut down
     */
    public CompletionStage<Void> writeAsync(Buffer data) {
        return Stages.of(done -> write(data, done));
    }

    /**
     * {@link #write(ByteBuffer, Callback)} as a stage, completed on the loop thread.
     *
     * @param data the bytes (copied; the position advances)
     * @return completes when every byte is written, or exceptionally with the write's error
     * @throws IllegalStateException if the connection is closed or its output shut down
     */
    public CompletionStage<Void> writeAsync(ByteBuffer data) {
        return Stages.of(done -> write(data, done));
    }

    /**
     * {@link #write(MemorySegment, Callback)} as a stage, completed on the loop thread.
     *
     * @param data the bytes (copied)
     * @return completes when every byte is written, or exceptionally with the write's error
     * @throws IllegalStateException if the connection is closed or its output shut down
     */
    public CompletionStage<Void> writeAsync(MemorySegment data) {
        return Stages.of(done -> write(data, done));
    }

    /**
     * {@link #write(List, Callback)} as a stage, completed on the loop thread.
     *
     * @param data the leases (each ended by this call)
     * @return completes when every byte is written, or exceptionally with the write's error
     * @throws IllegalStateException if the connection is closed or its output shut down
     */
    public CompletionStage<Void> writeAsync(List<Buffer> data) {
        return Stages.of(done -> write(data, done));
    }

    /**
     * A stage completed (on the loop thread) once the connection is fully closed: the {@link #onClose}
     * twin.
     *
     * @return completes when closed
     */
    public CompletionStage<Void> closed() {
        CompletableFuture<Void> f = new CompletableFuture<>();
        onClose(() -> f.complete(null));
        return f;
    }

    private long readDeadline = -1;

    private void beginRead(ReadHandler handler, boolean once) {
        Objects.requireNonNull(handler, "handler");
        core.checkThread();
        if (closing) {
            throw new IllegalStateException("connection is closed");
        }
        if (connectOp != null && connectOp.isPending()) {
            throw new IllegalStateException("connection is still connecting");
        }
        if (reading) {
            throw new IllegalStateException("a read is already active on this connection");
        }
        reader = handler;
        reading = true;
        oneShot = once;
        readDeadline = -1;
        if (hasStash()) {
            core.defer(this::deliverStash); // before an EOF that arrived after it
            return;
        }
        if (eof) {
            reading = false;
            reader = null;
            core.defer(() -> handler.onEof(this));
            return;
        }
        if (!once) {
            armReadIfIdle();
        }
    }

    /**
     * Stops reading. Data the kernel already handed over is kept and delivered by the next read. A continuous
     * read's handler is called no more; a pending one-shot {@link #read} ends with
     * {@link ReadHandler#onError} and a {@link java.util.concurrent.CancellationException}, so that every
     * one-shot read has exactly one outcome. Does nothing when no read is active.
     *
     * @throws IllegalStateException if called from another thread while the loop runs
     */
    public void stopReading() {
        core.checkThread();
        ReadHandler h = reader;
        boolean wasOneShot = reading && oneShot;
        reading = false;
        reader = null;
        cancelReads();
        if (wasOneShot && h != null) {
            var e = new java.util.concurrent.CancellationException("read cancelled by stopReading()");
            core.defer(() -> h.onError(this, e));
        }
    }

    /**
     * Returns whether a read is active.
     *
     * @return whether a read is active
     */
    public boolean isReading() {
        return reading;
    }

    private long readTimeout() {
        return readDeadline >= 0 ? readDeadline : readTimeoutNanos;
    }

    /** Whether the active read waits for the write backlog to drain (read backpressure; continuous reads only). */
    private boolean readHeld() {
        return readsHeld && !oneShot;
    }

    /** The queued writes reached the high watermark: a continuous read pauses (see {@link TcpOptions#readBackpressure()}). */
    private void holdReads() {
        readsHeld = true;
        if (reading && !oneShot) {
            cancelReads();
        }
    }

    /** The queued writes fell to the low watermark, or failed: a paused read goes on, after the current callback. */
    private void releaseReads() {
        if (readsHeld) {
            readsHeld = false;
            core.nextTick(() -> {
                if (!readsHeld) {
                    deliverStash();
                    armReadIfIdle();
                }
            });
        }
    }

    private boolean recvPending() {
        return recvOp != null && recvOp.isPending();
    }

    /** Cancels whichever read op is in the kernel (its completion, -ECANCELED or data, still comes back). */
    private void cancelReads() {
        readOp.cancel();
        if (recvOp != null) {
            recvOp.cancel();
        }
    }

    private void armReadIfIdle() {
        if (!reading || readHeld() || closing || eof || readOp.isPending() || recvPending()) {
            return;
        }
        readOp.kind = core.backend().supportsSelectedBuffers() && !ringDry ? OpKind.RECV_SELECT : OpKind.POLL_READABLE;
        readOp.multishot = !oneShot; // a continuous read may stay in the kernel until stopReading()
        ringDry = false;
        readOp.submit(readTimeout());
    }

    private void deliverData(Buffer data) {
        deliverData(data, false);
    }

    /**
     * Hands one chunk to the active read's handler, or keeps it when no read is active or older data waits
     * ({@code fromStash}: this is that older data, the stash's first).
     */
    private void deliverData(Buffer data, boolean fromStash) {
        if (closing) {
            data.release();
            finishCloseIfIdle();
            return;
        }
        ReadHandler h = reader;
        if (!reading || h == null || readHeld() || (!fromStash && hasStash())) {
            stash(data); // stopped or held meanwhile, or older data still to be delivered: keep it, in order
            return;
        }
        if (oneShot) {
            reading = false;
            reader = null;
        }
        try {
            h.onData(this, data); // called directly, not through core.invoke: no lambda per read
        } catch (Throwable t) {
            core.reportError(t);
        }
        if (data.isReleased() && core.config().reuseLeases()) {
            spareLease = data;
        }
        core.afterCallback();
        armReadIfIdle();
    }

    private boolean hasStash() {
        return stash != null && !stash.isEmpty();
    }

    private void stash(Buffer data) {
        if (stash == null) {
            stash = new ArrayDeque<>(4);
        }
        stash.addLast(data);
    }

    /** A read began with data stashed: hands it over in order, then an EOF that came after it. */
    private void deliverStash() {
        while (!closing && reading && reader != null && !readHeld() && hasStash()) {
            deliverData(stash.pollFirst(), true);
        }
        if (closing) {
            finishCloseIfIdle();
        } else if (reading && !hasStash() && eof) {
            deliverEof();
        }
    }

    /** A lease on a buffer holding a read's {@code n} bytes: a new object, or the spare one where reuse is on. */
    private Buffer lease(PooledBuffer b, int n) {
        Buffer spare = spareLease;
        if (spare != null) {
            spareLease = null;
            return spare.reissue(b, n);
        }
        return new Buffer(core, b, n);
    }

    private void deliverEof() {
        eof = true;
        if (hasStash() && !closing) {
            return; // told after the stashed data, by the next read
        }
        ReadHandler h = reader;
        reading = false;
        reader = null;
        if (h != null && !closing) {
            core.invoke(() -> h.onEof(this));
        }
        finishCloseIfIdle();
    }

    private void deliverReadError(long result, boolean timedOut) {
        ErrorKind kind = IoErrors.kind(core, result);
        if (kind == ErrorKind.WOULD_BLOCK || kind == ErrorKind.INTERRUPTED) {
            armReadIfIdle();
            return;
        }
        if (kind == ErrorKind.NO_BUFFERS) {
            // The provided-buffer ring ran dry (every ring buffer is out with user code): this read waits for
            // readiness instead and then takes a pool buffer through the gate, so nothing spins.
            ringDry = true;
            armReadIfIdle();
            return;
        }
        if (!timedOut && kind == ErrorKind.CANCELLED && !closing) {
            // The cancel of a stopReading(): a read started since then arms now; nothing else to tell.
            armReadIfIdle();
            return;
        }
        ReadHandler h = reader;
        Throwable error;
        if (timedOut) {
            error = new OperationTimeoutException("read " + format(remoteAddress()), Duration.ofNanos(readTimeout()));
        } else if (kind == ErrorKind.CANCELLED || closing) {
            error = null; // stopped or closed by us: a waiting one-shot read was told at close
        } else {
            error = IoErrors.exception(core, "read " + format(remoteAddress()), result);
        }
        reading = false;
        reader = null;
        if (h != null && error != null) {
            Throwable e = error;
            core.invoke(() -> h.onError(this, e));
        }
        finishCloseIfIdle();
    }

    /** Waits for readability (lends nothing) or, on io_uring, receives into a ring buffer the kernel picks. */
    private final class ReadOp extends CoreOp {
        ReadOp(LoopCore loop) {
            super(loop);
            handle = TcpConnection.this.handle;
            kind = OpKind.POLL_READABLE;
        }

        @Override
        protected void onComplete(long result, int flags) {
            if (kind == OpKind.RECV_SELECT) {
                onSelected(result);
                return;
            }
            if (result < 0) {
                deliverReadError(result, timedOut());
            } else if (reading && !closing) {
                if (core.backend().transfersInline()) {
                    receiveNow();
                } else {
                    if (recvOp == null) {
                        recvOp = new RecvOp(core);
                    }
                    recvOp.submit(readTimeout());
                }
            } else {
                finishCloseIfIdle();
            }
        }

        private void onSelected(long result) {
            if (result > 0) {
                PooledBuffer b = (PooledBuffer) selected;
                selected = null;
                core.pool().ringToLeased(b);
                deliverData(lease(b, (int) result));
            } else if (result == 0) {
                deliverEof();
            } else {
                deliverReadError(result, timedOut());
            }
        }

        @Override
        protected void onDequeued(boolean timedOut) {
            // Lends nothing: never queued at the gate.
        }
    }

    /**
     * The socket is readable and the backend receives inline (epoll): one system call into a pool buffer that
     * goes straight to the handler as its lease. The buffer is lent only for the call, so it does not wait at
     * the gate behind writes that hold lent memory.
     */
    private void receiveNow() {
        PooledBuffer b = core.pool().takeForUser();
        received(b, core.backend().recvNow(handle, b.segment(), 0, b.capacity()), false);
    }

    /** A receive into {@code b} ended: data goes to the handler as a lease ({@code b} is leased then). */
    private void received(PooledBuffer b, long result, boolean timedOut) {
        if (result > 0) {
            deliverData(lease(b, (int) result));
            return;
        }
        core.pool().release(b);
        if (result == 0) {
            deliverEof();
        } else {
            deliverReadError(result, timedOut);
        }
    }

    /** Receives into a pool buffer taken when the op is admitted at the gate. */
    private final class RecvOp extends CoreOp {
        private PooledBuffer lent;

        RecvOp(LoopCore loop) {
            super(loop);
            handle = TcpConnection.this.handle;
            kind = OpKind.RECV;
        }

        @Override
        protected void onAdmit() {
            lent = lendWholeBuffer();
        }

        @Override
        protected void onComplete(long result, int flags) {
            PooledBuffer b = lent;
            lent = null;
            buffer = null;
            if (result > 0) {
                core.pool().lentToLeased(b);
            }
            received(b, result, timedOut());
        }

        @Override
        protected void onDequeued(boolean timedOut) {
            if (timedOut) {
                deliverReadError(-1, true);
            } else {
                finishCloseIfIdle();
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ writing

    /**
     * Writes a lease's bytes without copying; the write owns the lease from now on.
     *
     * @param data the lease (ended by this call)
     * @throws IllegalStateException if the connection is closed or its output shut down (the lease is
     *                               released)
     */
    public void write(Buffer data) {
        write(data, null);
    }

    /**
     * Writes a lease's bytes without copying; the write owns the lease until {@code callback}. (One exception
     * keeps a backlog's memory in proportion to its bytes: when earlier writes still wait and the lease holds a
     * quarter of its buffer or less, its bytes are copied behind them and its buffer is freed at once.)
     *
     * @param data     the lease (ended by this call)
     * @param callback runs once when every byte is written or the write failed
     *                 ({@link NativeIoException} such as {@code EPIPE}/{@code ECONNRESET},
     *                 {@link OperationTimeoutException}, {@link OverloadedException}, {@link ClosedException});
     *                 may be null
     * @throws IllegalStateException if the connection is closed or its output shut down
     */
    public void write(Buffer data, Callback<Void> callback) {
        Objects.requireNonNull(data, "data");
        core.checkThread();
        if (closing || outputShutdown || shutdownPending) {
            data.release();
            throw new IllegalStateException(closing ? "connection is closed" : "output is shut down");
        }
        int len = data.length();
        PooledBuffer b = data.takeForWrite();
        if (!admitWrite(1, callback)) {
            core.pool().release(b);
            return;
        }
        enqueueLease(b, len);
        queueCallback(callback);
        writeQueued();
    }

    /**
     * Writes a copy of {@code data}.
     *
     * @param data the bytes
     */
    public void write(byte[] data) {
        write(data, null);
    }

    /**
     * Writes a copy of {@code data}.
     *
     * @param data     the bytes
     * @param callback runs once when written or failed; may be null
     */
    public void write(byte[] data, Callback<Void> callback) {
        writeCopy(Objects.requireNonNull(data, "data"), data.length, callback);
    }

    /**
     * Writes a copy of the remaining bytes of {@code data} (its position advances to its limit).
     *
     * @param data     the bytes
     * @param callback runs once when written or failed; may be null
     */
    public void write(ByteBuffer data, Callback<Void> callback) {
        Objects.requireNonNull(data, "data");
        int n = data.remaining();
        write(MemorySegment.ofBuffer(data), callback);
        data.position(data.position() + n);
    }

    /**
     * Writes a copy of {@code data}'s bytes. Copies are packed: they go to the end of the last queued copy
     * while it has room and no send has it yet, then to new pool buffers, so many small writes hold few
     * buffers (and count as few toward {@code maxQueued}).
     *
     * @param data     the bytes (heap or native)
     * @param callback runs once when written or failed; may be null
     */
    public void write(MemorySegment data, Callback<Void> callback) {
        writeCopy(Objects.requireNonNull(data, "data"), data.byteSize(), callback);
    }

    /** Writes a copy of {@code total} bytes of {@code data}: a {@code byte[]} (copied without a segment view) or a segment. */
    private void writeCopy(Object data, long total, Callback<Void> callback) {
        core.checkThread();
        if (closing || outputShutdown || shutdownPending) {
            throw new IllegalStateException(closing ? "connection is closed" : "output is shut down");
        }
        int size = core.pool().bufferSize();
        int room = appendRoom();
        int chunks = (int) ((total - Math.min(total, room) + size - 1) / size);
        if (!admitWrite(chunks, callback)) {
            return;
        }
        queueCopy(data, 0, total, room);
        queueCallback(callback);
        writeQueued();
    }

    /**
     * Gather-writes several leases in one system call where the platform allows; takes ownership of all.
     *
     * @param data     the leases (each ended by this call)
     * @param callback runs once when all bytes are written or the write failed; may be null
     */
    public void write(List<Buffer> data, Callback<Void> callback) {
        Objects.requireNonNull(data, "data");
        core.checkThread();
        for (int i = 0; i < data.size(); i++) { // before taking any: a bad list changes nothing
            Buffer d = data.get(i);
            if (d == null) {
                throw new NullPointerException("data holds null at index " + i);
            }
            if (d.isReleased()) {
                throw new IllegalStateException("buffer lease at index " + i + " already released (or handed to a write)");
            }
        }
        if (closing || outputShutdown || shutdownPending) {
            data.forEach(Buffer::release);
            throw new IllegalStateException(closing ? "connection is closed" : "output is shut down");
        }
        if (data.isEmpty()) {
            if (admitWrite(0, callback)) {
                queueCallback(callback);
            }
            return;
        }
        if (!admitWrite(data.size(), callback)) {
            data.forEach(Buffer::release);
            return;
        }
        for (int i = 0; i < data.size(); i++) {
            Buffer d = data.get(i);
            int len = d.length();
            enqueueLease(d.takeForWrite(), len);
        }
        queueCallback(callback);
        writeQueued();
    }

    /** Checks the sticky write error and maxQueued; on refusal the callback gets the reason, later. */
    private boolean admitWrite(int buffers, Callback<Void> callback) {
        Throwable refused = null;
        if (writeError != null) {
            refused = writeError;
        } else if (core.overloaded(buffers)) {
            refused = new OverloadedException("write refused: " + core.opsQueued() + " operations already wait"
                    + " in user space (maxQueued " + core.config().maxQueued() + ")");
        }
        if (refused == null) {
            return true;
        }
        if (callback != null) {
            Throwable e = refused;
            core.defer(() -> callback.complete(null, e));
        } else if (refused instanceof OverloadedException) {
            core.reportError(refused);
        }
        return false;
    }

    /** Bytes the last queued copy can still take (see {@link WriteQueue#room}). */
    private int appendRoom() {
        return queue.room(writeOp.isPending() ? writeOp.inFlight : 0);
    }

    /**
     * Queues a copy of {@code total} bytes of {@code src} from {@code srcOffset}: first at the end of the last
     * queued copy while it has room ({@code room}, from {@link #appendRoom()}), then in new pool buffers, so a
     * run of small writes shares buffers.
     */
    private void queueCopy(Object src, long srcOffset, long total, int room) {
        int first = (int) Math.min(total, room);
        if (first > 0) {
            copy(src, srcOffset, queue.lastBuffer().segment(), queue.lastLength(), first);
            queue.extendLast(first);
            checkHighWatermark();
        }
        int size = core.pool().bufferSize();
        for (long off = first; off < total; off += size) {
            int n = (int) Math.min(size, total - off);
            PooledBuffer b = core.pool().takeForUser();
            copy(src, srcOffset + off, b.segment(), 0, n);
            enqueue(b, n, true);
        }
    }

    /** Copies {@code n} bytes from a {@code byte[]} or a segment. */
    private static void copy(Object src, long srcOffset, MemorySegment dst, long dstOffset, int n) {
        if (src instanceof byte[] array) {
            MemorySegment.copy(array, (int) srcOffset, dst, ValueLayout.JAVA_BYTE, dstOffset, n);
        } else {
            MemorySegment.copy((MemorySegment) src, srcOffset, dst, dstOffset, n);
        }
    }

    /**
     * Queues a lease's buffer as is; or, when writes already wait and it holds a quarter of its capacity or
     * less, copies its bytes to the queue's last copy and frees it at once. So a backlog of small chunks (an
     * echo whose peer does not read) holds memory in proportion to its bytes, not a whole buffer per chunk;
     * with nothing queued, the lease itself goes out (zero copy).
     */
    private void enqueueLease(PooledBuffer b, int len) {
        if (len <= b.capacity() / 4 && !queue.isEmpty()) {
            queueCopy(b.segment(), 0, len, appendRoom());
            core.pool().release(b);
        } else {
            enqueue(b, len, false);
        }
    }

    /** Queues a buffer's first {@code len} bytes; an empty buffer goes straight back to the pool. */
    private void enqueue(PooledBuffer b, int len, boolean copy) {
        if (len == 0) {
            core.pool().release(b);
            return;
        }
        queue.add(b, len, copy);
        core.queuedWrites(1);
        checkHighWatermark();
    }

    /**
     * The callback of a write whose bytes are queued: it runs when they are all written (or the writes fail).
     * Every callback waits in the queue's one ring, so they run in write order; one with nothing to wait for (a
     * zero-length write) runs on the next tick, or with the callbacks of later bytes written before that.
     */
    private void queueCallback(Callback<Void> callback) {
        if (callback == null) {
            return;
        }
        queue.addCallback(callback);
        if (queue.callbackDue()) {
            scheduleDueCallbacks();
        }
    }

    /**
     * A callback has nothing left to wait for (an empty write, or every byte before it is out): it runs on the
     * next tick, or sooner when later bytes are written; either way behind earlier callbacks and ahead of later
     * ones, as they all wait in the queue's one callback ring.
     */
    private void scheduleDueCallbacks() {
        if (!accounting && !dueCallbacksScheduled) {
            dueCallbacksScheduled = true;
            core.defer(this::runDueCallbacks);
        }
    }

    private void runDueCallbacks() {
        dueCallbacksScheduled = false;
        while (queue.callbackDue()) { // (a task of its own: never inside an accounting)
            runWriteCallback(null);
        }
    }

    /** More bytes wait to be written: past the high watermark, the connection is not writable. */
    private void checkHighWatermark() {
        if (writable && queue.pendingBytes() >= options.writeHighWatermark()) {
            writable = false;
            fireWritability();
            if (readBackpressure) {
                holdReads();
            }
        }
    }

    /**
     * Returns whether queued bytes are below the write high watermark (or have fallen below the low one).
     *
     * @return whether queued bytes are below the write high watermark (or have fallen below the low one)
     */
    public boolean isWritable() {
        return writable;
    }

    /**
     * Returns bytes queued for writing and not yet written.
     *
     * @return bytes queued for writing and not yet written
     */
    public long queuedBytes() {
        return queue.pendingBytes();
    }

    /**
     * Sets the handler told when {@link #isWritable()} changes (at the high and low watermarks).
     *
     * @param handler receives this connection; null to remove
     */
    public void onWritabilityChanged(Consumer<TcpConnection> handler) {
        core.checkThread();
        this.writabilityHandler = handler;
    }

    private void fireWritability() {
        Consumer<TcpConnection> h = writabilityHandler;
        if (h != null) {
            core.nextTick(() -> h.accept(this));
        }
    }

    /**
     * A write was queued. Where the backend sends inline (epoll), the queue is sent when the current callback
     * returns, so that a callback's writes leave together, in one (gather) system call; elsewhere the op is
     * submitted now (the backend batches ops into its next kernel entry anyway).
     */
    private void writeQueued() {
        if (!core.backend().transfersInline()) {
            flush();
        } else if (!flushScheduled) {
            flushScheduled = true;
            core.flushAfterCallback(flushTask);
        }
    }

    private void flush() {
        if (writeOp.isPending() || queue.isEmpty() || writeError != null || accounting) {
            return;
        }
        if (core.backend().transfersInline() && sendNow()) {
            return;
        }
        writeOp.prepare();
        writeOp.submit(writeTimeoutNanos);
    }

    /**
     * Where the backend sends inline ({@link dev.panamio.sys.IoBackend#sendNow}, epoll), sends the queue now,
     * as the write op would (one buffer, or a gather of several), with no op: while the socket takes it.
     * Called only where a write op's completion could run (the flush after a callback, a write op's
     * completion), never inside a user's call, so the callbacks of the writes it completes run here like an
     * op's; and only with no send op pending, so bytes keep their order.
     *
     * @return whether the queue is empty now
     */
    private boolean sendNow() {
        while (!queue.isEmpty()) {
            writeOp.prepare();
            long n = core.backend().sendNow(writeOp);
            writeOp.unprepare();
            if (n == 0) {
                return false;
            }
            onWritten(n);
        }
        return true;
    }

    /**
     * {@code n} more bytes of the queue are written: completes the writes they finish. A callback run from
     * here may write again; that write waits (see {@link #flush}) until every byte of {@code n} is accounted
     * for, or it would be sent from a stale offset.
     */
    private void onWritten(long n) {
        accounting = true;
        try {
            account(n);
        } finally {
            accounting = false;
        }
    }

    private void account(long n) {
        while (n > 0 && !queue.isEmpty()) {
            int k = (int) Math.min(n, queue.remaining(0));
            queue.advance(k);
            n -= k;
            if (queue.remaining(0) == 0) {
                removeFirstBuffer();
            }
        }
        while (queue.callbackDue()) {
            runWriteCallback(null);
        }
        if (!writable && queue.pendingBytes() <= options.writeLowWatermark()) {
            writable = true;
            fireWritability();
            releaseReads();
        }
    }

    private void removeFirstBuffer() {
        PooledBuffer b = queue.buffer(0);
        queue.removeFirst();
        core.queuedWrites(-1);
        core.pool().release(b);
    }

    @SuppressWarnings("unchecked")
    private void runWriteCallback(Throwable error) {
        Callback<Void> cb = (Callback<Void>) queue.pollCallback();
        try {
            cb.complete(null, error);
        } catch (Throwable t) {
            core.reportError(t);
        }
        core.afterCallback();
    }

    /**
     * The writes still queued fail with {@code error} (and so does every later one); callbacks whose bytes
     * were all written before still succeed, in order.
     */
    private void failWrites(Throwable error) {
        if (writeError == null) {
            writeError = error;
        }
        while (queue.callbackDue()) {
            runWriteCallback(null); // written before the failure (a callback that fails the writes runs among these)
        }
        while (!queue.isEmpty()) {
            queue.advance(queue.remaining(0)); // given up: no longer waiting to be written
            removeFirstBuffer();
        }
        releaseReads(); // nothing waits to be written now: reading goes on and meets the connection's fate
        while (queue.hasCallback()) {
            runWriteCallback(error);
        }
    }

    private void afterWriteQueueChange() {
        if (!queue.isEmpty() && !aborted) {
            flush();
            if (!queue.isEmpty() || writeOp.isPending()) {
                return;
            }
        }
        if (queue.isEmpty() && shutdownPending && !outputShutdown) {
            shutdownPending = false;
            doShutdownOutput();
        }
        finishCloseIfIdle();
    }

    /** One send or gather-send of the queue's first buffers; resubmitted until the queue is empty. */
    private final class WriteOp extends CoreOp {
        private int inFlight;
        private PooledBuffer iovSlot;

        WriteOp(LoopCore loop) {
            super(loop);
            handle = TcpConnection.this.handle;
        }

        void prepare() {
            int k = Math.min(queue.size(), core.maxBuffersPerOp());
            inFlight = k;
            if (k == 1) {
                kind = OpKind.SEND;
                buffer = queue.buffer(0).segment();
                offset = queue.written(0);
                length = queue.remaining(0);
                return;
            }
            kind = OpKind.SENDV;
            if (iovSlot == null) {
                iovSlot = core.iovSlots().takeForUser();
                iov = iovSlot.segment();
                gatherSegments = new MemorySegment[LoopCore.MAX_GATHER];
                gatherOffsets = new long[LoopCore.MAX_GATHER];
                gatherLengths = new long[LoopCore.MAX_GATHER];
            }
            for (int i = 0; i < k; i++) {
                gatherSegments[i] = queue.buffer(i).segment();
                gatherOffsets[i] = queue.written(i);
                gatherLengths[i] = queue.remaining(i);
            }
            iovCount = k;
        }

        @Override
        protected long lendBytes() {
            return (long) inFlight * core.pool().bufferSize();
        }

        @Override
        protected void onAdmit() {
            for (int i = 0; i < inFlight; i++) {
                core.pool().leasedToLent(queue.buffer(i));
            }
        }

        private void takeBack() {
            for (int i = 0; i < inFlight; i++) {
                core.pool().lentToLeased(queue.buffer(i));
            }
            unprepare();
        }

        /** Forgets what {@link #prepare} pointed at (after an inline send, or with {@link #takeBack}). */
        void unprepare() {
            inFlight = 0;
            buffer = null;
            if (gatherSegments != null) {
                java.util.Arrays.fill(gatherSegments, null);
            }
        }

        @Override
        protected void onComplete(long result, int flags) {
            takeBack();
            if (result >= 0) {
                onWritten(result);
            } else {
                ErrorKind kind = IoErrors.kind(core, result);
                if (kind == ErrorKind.WOULD_BLOCK || kind == ErrorKind.INTERRUPTED) {
                    afterWriteQueueChange();
                    return;
                }
                failWrites(timedOut()
                        ? new OperationTimeoutException("write " + format(remoteAddress()), Duration.ofNanos(writeTimeoutNanos))
                        : closing && kind == ErrorKind.CANCELLED ? new ClosedException("connection closed before the write finished")
                        : IoErrors.exception(core, "write " + format(remoteAddress()), result));
            }
            afterWriteQueueChange();
        }

        @Override
        protected void onDequeued(boolean timedOut) {
            unprepare();
            failWrites(timedOut
                    ? new OperationTimeoutException("write " + format(remoteAddress()), Duration.ofNanos(writeTimeoutNanos))
                    : new ClosedException("connection closed before the write started"));
            afterWriteQueueChange();
        }

        void releaseSlot() {
            if (iovSlot != null) {
                core.iovSlots().release(iovSlot);
                iovSlot = null;
                iov = null;
            }
        }
    }

    /**
     * Half-closes: sends FIN after the queued writes, keeps reading. Idempotent.
     *
     * @throws IllegalStateException if the connection is closed
     */
    public void shutdownOutput() {
        core.checkThread();
        if (closing) {
            throw new IllegalStateException("connection is closed");
        }
        if (outputShutdown || shutdownPending) {
            return;
        }
        if (queue.isEmpty() && !writeOp.isPending()) {
            doShutdownOutput();
        } else {
            shutdownPending = true;
        }
    }

    private void doShutdownOutput() {
        outputShutdown = true;
        int r = core.backend().sockets().shutdownOutput(handle);
        if (r < 0 && IoErrors.kind(core, r) != ErrorKind.OTHER) {
            core.reportError(IoErrors.exception(core, "shutdown " + format(remoteAddress()), r));
        }
    }

    // ------------------------------------------------------------------------------------------------ connect

    private final class ConnectOp extends CoreOp {
        private final InetSocketAddress target;
        private final long timeoutNanos;
        private final Callback<TcpConnection> callback;
        private PooledBuffer slot;

        ConnectOp(LoopCore loop, InetSocketAddress target, long timeoutNanos, Callback<TcpConnection> callback) {
            super(loop);
            this.target = target;
            this.timeoutNanos = timeoutNanos;
            this.callback = callback;
            handle = TcpConnection.this.handle;
            kind = OpKind.CONNECT;
            slot = core.addressSlots().takeForUser();
            addr = slot.segment();
            addrLen = core.backend().sockets().writeAddress(addr, target);
        }

        @Override
        protected void onComplete(long result, int flags) {
            core.addressSlots().release(slot);
            slot = null;
            addr = null;
            Throwable error = null;
            if (result < 0) {
                error = timedOut()
                        ? new OperationTimeoutException("connect " + format(target), Duration.ofNanos(timeoutNanos))
                        : closing ? new ClosedException("connection closed while connecting to " + format(target))
                        : IoErrors.exception(core, "connect " + format(target), result);
            } else if (closing) {
                error = new ClosedException("connection closed while connecting to " + format(target));
            }
            if (error != null) {
                abort();
                Throwable e = error;
                core.invoke(() -> callback.complete(null, e));
            } else {
                remote = target;
                core.invoke(() -> callback.complete(TcpConnection.this, null));
            }
            finishCloseIfIdle();
        }

        @Override
        protected void onDequeued(boolean timedOut) {
            // Connect lends nothing: never queued.
        }
    }

    // ------------------------------------------------------------------------------------------------ closing

    /**
     * Stops this connection from keeping {@link EventLoop#run()} alive.
     *
     * @return this connection
     */
    public TcpConnection unref() {
        core.checkThread();
        if (referenced && !closed) {
            referenced = false;
            core.unref();
        }
        return this;
    }

    /**
     * Runs {@code listener} in the loop's close phase once the connection is fully closed (socket closed,
     * every buffer back). Runs at once (in the next close phase) if already closed.
     *
     * @param listener what to run
     */
    public void onClose(Runnable listener) {
        Objects.requireNonNull(listener, "listener");
        core.checkThread();
        if (closed) {
            core.onClosePhase(listener);
            return;
        }
        if (closeListeners == null) {
            closeListeners = new ArrayList<>(2);
        }
        closeListeners.add(listener);
    }

    /**
     * Closes gracefully: stops reading, lets queued writes finish (each within its deadline), then closes
     * the socket. Idempotent; callable from inside this connection's own callbacks.
     */
    public void close() {
        core.checkThread();
        if (closing) {
            return;
        }
        closing = true;
        endReads();
        cancelReads();
        if (connectOp != null) {
            connectOp.cancel();
        }
        finishCloseIfIdle();
    }

    /**
     * Closes now: queued writes fail with {@link ClosedException}, operations in the kernel are cancelled,
     * and the socket is closed once their completions arrive. Idempotent.
     */
    public void abort() {
        core.checkThread();
        boolean was = closing;
        closing = true;
        aborted = true;
        endReads();
        if (!writeOp.isPending()) {
            failWrites(new ClosedException("connection aborted"));
        }
        cancelReads();
        writeOp.cancel();
        if (connectOp != null) {
            connectOp.cancel();
        }
        if (!was || !closed) {
            finishCloseIfIdle();
        }
    }

    /** Reading stops for good; a one-shot read still waiting is told, once, that the connection closed. */
    private void endReads() {
        ReadHandler h = reader;
        boolean waiting = reading && oneShot && h != null;
        reading = false;
        reader = null;
        if (waiting) {
            core.defer(() -> h.onError(this, new ClosedException("connection closed during read")));
        }
    }

    private void finishCloseIfIdle() {
        if (!closing || closed) {
            return;
        }
        if (readOp.isPending() || recvPending() || writeOp.isPending()
                || (connectOp != null && connectOp.isPending())) {
            return;
        }
        boolean unsent = !queue.isEmpty();
        if (unsent && !aborted && writeError == null) {
            // Sent after the current callback (close() may be a user's call) or by the write op: either
            // comes back here once the queue is empty.
            writeQueued();
            return;
        }
        closed = true;
        while (hasStash()) {
            stash.pollFirst().release();
        }
        writeOp.releaseSlot();
        readOp.dispose();
        if (recvOp != null) {
            recvOp.dispose();
        }
        writeOp.dispose();
        if (connectOp != null) {
            connectOp.dispose();
        }
        core.backend().sockets().close(handle);
        core.handles().remove(this);
        core.connections(-1);
        if (referenced) {
            referenced = false;
            core.unref();
        }
        if (closeListeners != null) {
            for (Runnable r : closeListeners) {
                core.onClosePhase(r);
            }
            closeListeners = null;
        }
        if (unsent) {
            // Last, with the connection already closed: whatever their callbacks do (close again, start
            // tasks that come back here) finds it closed.
            failWrites(new ClosedException("connection closed"));
        }
    }

    @Override
    protected void closeForShutdown() {
        abort();
    }

    @Override
    public String toString() {
        return "TcpConnection[" + format(remote) + (closing ? ", closed" : "") + "]";
    }
}
