package dev.panamio;

import dev.panamio.core.CoreOp;
import dev.panamio.core.Handle;
import dev.panamio.core.LoopCore;
import dev.panamio.core.PooledBuffer;
import dev.panamio.core.Stages;
import dev.panamio.sys.OpKind;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Objects;
import java.util.concurrent.CompletionStage;

/**
 * An open file of a loop ({@link LoopFiles#open}): positional reads into pooled buffers and positional writes
 * of leases, each delivered as a callback on the loop thread. On the io_uring backend the kernel's queue does
 * the work ({@code IORING_OP_OPENAT}, {@code READ}, {@code WRITE}, {@code CLOSE}), lending the pool buffer
 * to the kernel exactly like a socket read; on other backends the loop's blocking pool does it.
 *
 * <p>Pending operations keep {@link EventLoop#run()} alive; an open file that is idle does not. Closing the
 * loop closes its open files. Loop thread only.
 */
public final class LoopFile extends Handle {
    /** How a file is opened. */
    public enum Mode {
        /** Read only; the file must exist. */
        READ,
        /** Write only; created if missing, truncated if present. */
        WRITE
    }

    private final LoopCore core;
    private final Path path;
    private final long fd;               // native: the descriptor
    private final FileChannel channel;   // blocking pool: the channel
    private final java.util.ArrayList<FileOp> inflight = new java.util.ArrayList<>();
    private boolean closed;

    private LoopFile(LoopCore core, Path path, long fd, FileChannel channel) {
        this.core = core;
        this.path = path;
        this.fd = fd;
        this.channel = channel;
        core.handles().add(this);
    }

    /** Opens {@code path}; natively where the backend can, else on the blocking pool. */
    static void open(LoopCore core, Path path, Mode mode, Callback<LoopFile> callback) {
        if (core.backend().supportsFileOps()) {
            new OpenOp(core, path, mode, callback).start();
            return;
        }
        core.submitBlocking(() -> mode == Mode.READ
                ? FileChannel.open(path, StandardOpenOption.READ)
                : FileChannel.open(path, StandardOpenOption.WRITE, StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING), (ch, e) -> {
            if (e != null) {
                callback.complete(null, e);
            } else if (!core.isOpen()) {
                closeQuietly(ch);
                callback.complete(null, new ClosedException("event loop closed while opening " + path));
            } else {
                callback.complete(new LoopFile(core, path, -1, ch), null);
            }
        });
    }

    /**
     * Returns the file's path.
     *
     * @return the path it was opened with
     */
    public Path path() {
        return path;
    }

    /**
     * Returns whether {@link #close} has been called.
     *
     * @return whether the file is closed (or closing)
     */
    public boolean isClosed() {
        return closed;
    }

    /**
     * Reads up to one pool buffer of bytes at {@code position}. The callback gets a lease on the bytes read:
     * empty (length 0) at end of file; release it when done.
     *
     * @param position where to read, from 0
     * @param callback receives the lease, or the error ({@link NativeIoException}, {@link ClosedException})
     * @throws IllegalArgumentException if {@code position} is negative
     * @throws IllegalStateException    if the file is closed, or called from another thread
     */
    public void read(long position, Callback<Buffer> callback) {
        Objects.requireNonNull(callback, "callback");
        checkUsable(position);
        if (channel == null) {
            new ReadOp(this, position, callback).start();
            return;
        }
        // The blocking thread reads into heap memory, never into the loop's native memory: a loop closing
        // meanwhile frees its arena without waiting for blocking work.
        int size = core.pool().bufferSize();
        core.submitBlocking(() -> {
            var bb = java.nio.ByteBuffer.allocate(size);
            int n = channel.read(bb, position);
            return n <= 0 ? new byte[0] : java.util.Arrays.copyOf(bb.array(), n);
        }, (bytes, e) -> {
            if (e != null) {
                callback.complete(null, e);
                return;
            }
            PooledBuffer b = core.pool().takeForUser();
            MemorySegment.copy(MemorySegment.ofArray(bytes), 0, b.segment(), 0, bytes.length);
            callback.complete(new Buffer(core, b, bytes.length), null);
        });
    }

    /**
     * {@link #read(long, Callback)} as a stage, completed on the loop thread.
     *
     * @param position where to read
     * @return the lease on the bytes read (empty at end of file)
     */
    public CompletionStage<Buffer> read(long position) {
        return Stages.of(done -> read(position, done));
    }

    /**
     * Writes all of {@code data} at {@code position}; the write owns the lease until the callback.
     *
     * @param position where to write, from 0
     * @param data     the lease (ended by this call)
     * @param callback runs once when every byte is written or the write failed
     * @throws IllegalArgumentException if {@code position} is negative
     * @throws IllegalStateException    if the file is closed, the lease released, or called from another thread
     */
    public void write(long position, Buffer data, Callback<Void> callback) {
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(callback, "callback");
        checkUsable(position);
        int len = data.length();
        PooledBuffer b = data.takeForWrite();
        if (channel == null) {
            new WriteOp(this, position, b, len, callback).start();
            return;
        }
        byte[] bytes = b.segment().asSlice(0, len).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        core.pool().release(b);
        core.submitBlocking(() -> {
            var bb = java.nio.ByteBuffer.wrap(bytes);
            long at = position;
            while (bb.hasRemaining()) {
                at += channel.write(bb, at);
            }
            return null;
        }, (v, e) -> callback.complete(null, e));
    }

    /**
     * {@link #write(long, Buffer, Callback)} as a stage, completed on the loop thread.
     *
     * @param position where to write
     * @param data     the lease (ended by this call)
     * @return completes when written
     */
    public CompletionStage<Void> write(long position, Buffer data) {
        return Stages.of(done -> write(position, data, done));
    }

    /**
     * Closes the file. Idempotent: a second call completes at once.
     *
     * @param callback runs once the descriptor is closed
     */
    public void close(Callback<Void> callback) {
        Objects.requireNonNull(callback, "callback");
        core.checkThread();
        if (closed) {
            core.defer(() -> callback.complete(null, null));
            return;
        }
        closed = true;
        core.handles().remove(this);
        if (channel == null) {
            new CloseOp(core, fd, callback).start();
        } else {
            core.submitBlocking(() -> {
                channel.close();
                return null;
            }, (v, e) -> callback.complete(null, e));
        }
    }

    /**
     * {@link #close(Callback)} as a stage, completed on the loop thread.
     *
     * @return completes when closed
     */
    public CompletionStage<Void> close() {
        return Stages.<Void>of(done -> close(done));
    }

    /** The loop is closing: cancel the file's ops, and once they have all come back, close it. */
    @Override
    protected void closeForShutdown() {
        closed = true;
        if (!inflight.isEmpty()) {
            for (FileOp op : java.util.List.copyOf(inflight)) {
                op.cancel(); // the outcome arrives as the op's completion; this is called again until empty
            }
            return;
        }
        core.handles().remove(this);
        if (channel != null) {
            closeQuietly(channel);
        } else {
            new CloseOp(core, fd, (v, e) -> { }).start();
        }
    }

    private void checkUsable(long position) {
        core.checkUsable();
        if (closed) {
            throw new IllegalStateException("file " + path + " is closed");
        }
        if (position < 0) {
            throw new IllegalArgumentException("position must not be negative, was " + position);
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // closing is best effort here: the loop is going away
        }
    }

    @Override
    public String toString() {
        return "LoopFile[" + path + (closed ? ", closed" : "") + (channel == null ? ", native" : ", blocking pool") + "]";
    }

    // ------------------------------------------------------------------------------------------- native ops

    /** A one-time native file op: keeps the loop alive while pending, and frees its token when done. */
    private abstract static class FileOp extends CoreOp {
        /** The open file the op works on; null for open and close. */
        final LoopFile file;

        FileOp(LoopCore core, LoopFile file, byte kind, long handle) {
            super(core);
            this.file = file;
            this.kind = kind;
            this.handle = handle;
        }

        void start() {
            loop.ref();
            if (file != null) {
                file.inflight.add(this);
            }
            submit(0);
        }

        /** Call exactly once, from the final completion (or the dequeue). */
        final void done() {
            loop.unref();
            if (file != null) {
                file.inflight.remove(this);
            }
            dispose();
        }

        /** Dequeued before reaching the kernel: only the loop's close does that (file ops have no deadline). */
        @Override
        protected void onDequeued(boolean timedOut) {
            done();
            failed(new ClosedException("file operation cancelled: the loop is closing"));
        }

        /** Gives back what the op holds and tells its callback {@code error}. */
        abstract void failed(Throwable error);

        Throwable error(String call, long result) {
            if (!loop.isOpen()) {
                return new ClosedException(call + ": the event loop closed");
            }
            return IoErrors.exception(loop, call, result);
        }
    }

    private static final class OpenOp extends FileOp {
        private final Path path;
        private final Callback<LoopFile> callback;
        private Arena arena; // holds the path the kernel reads, until the open completes

        OpenOp(LoopCore core, Path path, Mode mode, Callback<LoopFile> callback) {
            super(core, null, OpKind.FILE_OPEN, -1);
            this.path = path;
            this.callback = callback;
            arena = Arena.ofShared();
            addr = arena.allocateFrom(path.toString(), StandardCharsets.UTF_8);
            length = mode == Mode.READ ? OpKind.OPEN_READ : OpKind.OPEN_WRITE;
        }

        private void freePath() {
            addr = null;
            arena.close();
        }

        @Override
        protected void onComplete(long result, int flags) {
            freePath();
            done();
            if (result < 0) {
                callback.complete(null, error("open " + path, result));
            } else if (!loop.isOpen()) {
                new CloseOp(loop, result, (v, e) -> { }).start();
                callback.complete(null, new ClosedException("event loop closed while opening " + path));
            } else {
                callback.complete(new LoopFile(loop, path, result, null), null);
            }
        }

        @Override
        void failed(Throwable error) {
            freePath();
            callback.complete(null, error);
        }
    }

    private static final class ReadOp extends FileOp {
        private final Callback<Buffer> callback;
        private PooledBuffer lent;

        ReadOp(LoopFile file, long position, Callback<Buffer> callback) {
            super(file.core, file, OpKind.FILE_READ, file.fd);
            this.callback = callback;
            this.fileOffset = position;
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
            done();
            if (result >= 0) {
                loop.pool().lentToLeased(b);
                callback.complete(new Buffer(loop, b, (int) result), null);
            } else {
                loop.pool().release(b);
                callback.complete(null, error("read " + file.path, result));
            }
        }

        @Override
        void failed(Throwable error) {
            callback.complete(null, error); // never admitted: it holds no buffer
        }
    }

    private static final class WriteOp extends FileOp {
        private final Callback<Void> callback;
        private final PooledBuffer data;
        private final int total;
        private int written;

        WriteOp(LoopFile file, long position, PooledBuffer data, int total, Callback<Void> callback) {
            super(file.core, file, OpKind.FILE_WRITE, file.fd);
            this.callback = callback;
            this.data = data;
            this.total = total;
            this.fileOffset = position;
        }

        @Override
        protected void onAdmit() {
            loop.pool().leasedToLent(data);
            buffer = data.segment();
            offset = written;
            length = total - written;
        }

        @Override
        protected long lendBytes() {
            return data.capacity();
        }

        @Override
        protected void onComplete(long result, int flags) {
            loop.pool().lentToLeased(data);
            buffer = null;
            if (result > 0 && written + result < total && loop.isOpen()) {
                written += (int) result; // a short write: the rest goes at the next position
                fileOffset += result;
                submit(0);
                return;
            }
            done();
            if (result < 0) {
                failed(error("write " + file.path, result));
            } else if (written + result < total) {
                failed(loop.isOpen() ? new IOException("write " + file.path + ": no progress at " + fileOffset)
                        : new ClosedException("event loop closed while writing " + file.path));
            } else {
                loop.pool().release(data);
                callback.complete(null, null);
            }
        }

        @Override
        void failed(Throwable error) {
            loop.pool().release(data);
            callback.complete(null, error);
        }
    }

    private static final class CloseOp extends FileOp {
        private final Callback<Void> callback;

        CloseOp(LoopCore core, long fd, Callback<Void> callback) {
            super(core, null, OpKind.FILE_CLOSE, fd);
            this.callback = callback;
        }

        @Override
        protected void onComplete(long result, int flags) {
            done();
            callback.complete(null, result < 0 ? error("close", result) : null);
        }

        @Override
        void failed(Throwable error) {
            callback.complete(null, error);
        }
    }
}
