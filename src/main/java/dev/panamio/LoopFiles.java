package dev.panamio;

import dev.panamio.core.LoopCore;
import dev.panamio.core.Stages;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.CompletionStage;

/**
 * Files as loop callbacks ({@link EventLoop#files()}), like Node's {@code fs}: whole-file
 * {@link #readFile}/{@link #writeFile}, and {@link #open} for positional reads and writes
 * ({@link LoopFile}). On the io_uring backend the kernel's queue does the work, with pool buffers lent to it;
 * elsewhere the loop's blocking pool does ({@link #isNative()} says which). Every callback runs on the loop
 * thread, exactly once. Loop thread only.
 *
 * {@snippet :
 * loop.files().readFile(Path.of("/etc/hostname"), (bytes, err) -> System.out.println(new String(bytes)));
 * }
 */
public final class LoopFiles {
    private final EventLoop loop;
    private final LoopCore core;

    LoopFiles(EventLoop loop) {
        this.loop = loop;
        this.core = loop.core();
    }

    /**
     * Returns whether files go through the kernel's queue (io_uring) rather than the blocking pool.
     *
     * @return whether file operations are native completions
     */
    public boolean isNative() {
        return core.backend().supportsFileOps();
    }

    /**
     * Opens a file.
     *
     * @param path     the file
     * @param mode     {@link LoopFile.Mode#READ}, or {@link LoopFile.Mode#WRITE} (create or truncate)
     * @param callback receives the open file, or the error (e.g. {@link NativeIoException} {@code ENOENT}, or
     *                 {@link java.nio.file.NoSuchFileException} from the blocking pool)
     * @throws IllegalStateException if the loop is closed, or called from another thread
     */
    public void open(Path path, LoopFile.Mode mode, Callback<LoopFile> callback) {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(callback, "callback");
        core.checkUsable();
        LoopFile.open(core, path, mode, callback);
    }

    /**
     * {@link #open(Path, LoopFile.Mode, Callback)} as a stage, completed on the loop thread.
     *
     * @param path the file
     * @param mode how to open it
     * @return the open file
     */
    public CompletionStage<LoopFile> open(Path path, LoopFile.Mode mode) {
        return Stages.of(done -> open(path, mode, done));
    }

    /**
     * Reads a whole file.
     *
     * @param path     the file
     * @param callback receives its bytes, or the error
     * @throws IllegalStateException if the loop is closed, or called from another thread
     */
    public void readFile(Path path, Callback<byte[]> callback) {
        Objects.requireNonNull(callback, "callback");
        open(path, LoopFile.Mode.READ, (file, e) -> {
            if (e != null) {
                callback.complete(null, e);
                return;
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            readFrom(file, 0, out, callback);
        });
    }

    private void readFrom(LoopFile file, long position, ByteArrayOutputStream out, Callback<byte[]> callback) {
        file.read(position, (data, e) -> {
            if (e != null) {
                file.close((v, ignored) -> callback.complete(null, e));
                return;
            }
            int n = data.length();
            if (n > 0) {
                out.writeBytes(data.toArray()); // toArray makes no view, so no arena per chunk
            }
            data.release();
            if (n == 0) {
                file.close((v, closeError) -> callback.complete(closeError == null ? out.toByteArray() : null, closeError));
            } else if (!core.isOpen()) {
                callback.complete(null, new ClosedException("event loop closed while reading " + file.path()));
            } else {
                readFrom(file, position + n, out, callback);
            }
        });
    }

    /**
     * {@link #readFile(Path, Callback)} as a stage, completed on the loop thread.
     *
     * @param path the file
     * @return its bytes
     */
    public CompletionStage<byte[]> readFile(Path path) {
        return Stages.of(done -> readFile(path, done));
    }

    /**
     * Writes a whole file (created, or truncated first).
     *
     * @param path     the file
     * @param data     its new contents (copied at once; the array may be reused on return)
     * @param callback runs once when written and closed, or failed
     * @throws IllegalStateException if the loop is closed, or called from another thread
     */
    public void writeFile(Path path, byte[] data, Callback<Void> callback) {
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(callback, "callback");
        byte[] copy = data.clone();
        open(path, LoopFile.Mode.WRITE, (file, e) -> {
            if (e != null) {
                callback.complete(null, e);
                return;
            }
            writeFrom(file, copy, 0, callback);
        });
    }

    private void writeFrom(LoopFile file, byte[] data, int from, Callback<Void> callback) {
        if (from >= data.length) {
            file.close(callback);
            return;
        }
        if (!core.isOpen()) {
            callback.complete(null, new ClosedException("event loop closed while writing " + file.path()));
            return;
        }
        Buffer b = loop.allocateBuffer();
        int n = Math.min(b.capacity(), data.length - from);
        b.append(MemorySegment.ofArray(data).asSlice(from, n));
        file.write(from, b, (v, e) -> {
            if (e != null) {
                file.close((v2, ignored) -> callback.complete(null, e));
            } else {
                writeFrom(file, data, from + n, callback);
            }
        });
    }

    /**
     * {@link #writeFile(Path, byte[], Callback)} as a stage, completed on the loop thread.
     *
     * @param path the file
     * @param data its new contents
     * @return completes when written and closed
     */
    public CompletionStage<Void> writeFile(Path path, byte[] data) {
        return Stages.of(done -> writeFile(path, data, done));
    }
}
