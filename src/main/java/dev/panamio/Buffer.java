package dev.panamio;

import dev.panamio.core.LoopCore;
import dev.panamio.core.PooledBuffer;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.Objects;
import java.nio.charset.Charset;

/**
 * A lease on one pooled native buffer: the bytes a read delivered, or an empty buffer to fill and write
 * ({@link EventLoop#allocateBuffer()}). Zero copy: the memory is the very memory the kernel wrote into.
 *
 * <p>A lease ends exactly once, by {@link #release()} or by handing it to
 * {@link TcpConnection#write(Buffer)} (the write owns it until its callback). After that every method throws
 * {@link IllegalStateException}, and so does every access through a segment obtained from
 * {@link #segment()}: it never reads recycled memory and never crashes the JVM.
 *
 * {@snippet :
 * conn.startReading((c, data) -> {
 *     int end = data.indexOf((byte) '\n', 0);   // look at the bytes in place
 *     c.write(data);                            // echo: the write takes the lease
 * });
 * }
 *
 * <p>Thread-safety: confined to the loop thread, and so are the views from {@link #segment()}; copy
 * ({@link #toArray()}) to hand data to other threads.
 */
public final class Buffer {
    private final LoopCore loop;
    private PooledBuffer pooled;
    private int length;
    private Arena views;

    Buffer(LoopCore loop, PooledBuffer pooled, int length) {
        this.loop = loop;
        this.pooled = pooled;
        this.length = length;
    }

    /** This ended lease's object starts a new lease (loops built with {@code reuseLeases}). */
    Buffer reissue(PooledBuffer pooled, int length) {
        if (this.pooled != null) {
            throw new IllegalStateException("lease still held");
        }
        this.pooled = pooled;
        this.length = length;
        return this;
    }

    private PooledBuffer live() {
        PooledBuffer p = pooled;
        if (p == null) {
            throw new IllegalStateException("buffer lease already released (or handed to a write)");
        }
        return p;
    }

    /**
     * Returns the number of bytes in the buffer.
     *
     * @return the number of bytes in the buffer
     */
    public int length() {
        live();
        return length;
    }

    /**
     * Returns the buffer's capacity in bytes (the loop's buffer size).
     *
     * @return the buffer's capacity in bytes (the loop's buffer size)
     */
    public int capacity() {
        return live().capacity();
    }

    /**
     * Returns whether the lease has ended.
     *
     * @return whether the lease has ended
     */
    public boolean isReleased() {
        return pooled == null;
    }

    /**
     * Sets the number of valid bytes, after filling {@link #writableSegment()} in place.
     *
     * @param length from 0 to {@link #capacity()}
     * @return this buffer
     * @throws IllegalArgumentException if out of range
     */
    public Buffer setLength(int length) {
        int cap = live().capacity();
        if (length < 0 || length > cap) {
            throw new IllegalArgumentException("length " + length + " outside 0.." + cap);
        }
        this.length = length;
        return this;
    }

    /**
     * A view of exactly the buffer's bytes. The view's scope ends with the lease: using it afterwards throws
     * {@link IllegalStateException}.
     *
     * @return a read-write segment of {@link #length()} bytes
     */
    public MemorySegment segment() {
        return view(length);
    }

    /**
     * A view of the whole capacity, for filling in place; then call {@link #setLength(int)}.
     *
     * @return a read-write segment of {@link #capacity()} bytes
     */
    public MemorySegment writableSegment() {
        return view(live().capacity());
    }

    private MemorySegment view(int size) {
        PooledBuffer p = live();
        loop.checkThread();
        if (views == null) {
            views = Arena.ofConfined();
        }
        return p.segment().asSlice(0, size).reinterpret(views, null);
    }

    /**
     * Returns the byte at {@code index}.
     *
     * @param index from 0 to {@code length() - 1}
     * @return the byte at {@code index}
     * @throws IndexOutOfBoundsException if out of range
     */
    public byte get(int index) {
        PooledBuffer p = live();
        if (index < 0 || index >= length) {
            throw new IndexOutOfBoundsException("index " + index + " outside 0.." + (length - 1));
        }
        return p.segment().get(ValueLayout.JAVA_BYTE, index);
    }

    /**
     * Returns the first index {@code >= from} holding {@code b}, or {@code -1}.
     *
     * @param b    the byte to find
     * @param from where to start
     * @return the first index {@code >= from} holding {@code b}, or {@code -1}
     */
    public int indexOf(byte b, int from) {
        MemorySegment s = live().segment();
        for (int i = Math.max(0, from); i < length; i++) {
            if (s.get(ValueLayout.JAVA_BYTE, i) == b) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Returns the first index {@code >= from} where {@code pattern} starts, or {@code -1}.
     *
     * @param pattern the bytes to find (not empty)
     * @param from    where to start
     * @return the first index {@code >= from} where {@code pattern} starts, or {@code -1}
     */
    public int indexOf(byte[] pattern, int from) {
        MemorySegment s = live().segment();
        if (pattern.length == 0) {
            throw new IllegalArgumentException("empty pattern");
        }
        byte first = pattern[0];
        int last = length - pattern.length;
        outer:
        for (int i = Math.max(0, from); i <= last; i++) {
            if (s.get(ValueLayout.JAVA_BYTE, i) != first) {
                continue;
            }
            for (int j = 1; j < pattern.length; j++) {
                if (s.get(ValueLayout.JAVA_BYTE, i + j) != pattern[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /**
     * Returns a copy of the bytes on the Java heap.
     *
     * @return a copy of the bytes on the Java heap
     */
    public byte[] toArray() {
        PooledBuffer p = live();
        return p.segment().asSlice(0, length).toArray(ValueLayout.JAVA_BYTE);
    }

    /**
     * Copies {@code count} bytes from {@code offset} into {@code dst}.
     *
     * @param offset    where to start in this buffer
     * @param dst       destination
     * @param dstOffset where to start in {@code dst}
     * @param count     how many bytes
     */
    public void copyTo(int offset, byte[] dst, int dstOffset, int count) {
        PooledBuffer p = live();
        if (offset < 0 || count < 0 || offset + count > length) {
            throw new IndexOutOfBoundsException("range " + offset + "+" + count + " outside 0.." + length);
        }
        MemorySegment.copy(p.segment(), ValueLayout.JAVA_BYTE, offset, dst, dstOffset, count);
    }

    /**
     * Returns the bytes decoded as text.
     *
     * @param charset how to decode
     * @return the bytes decoded as text
     */
    public String toString(Charset charset) {
        return new String(toArray(), charset);
    }

    /**
     * Appends bytes after {@link #length()}.
     *
     * @param src the bytes
     * @return this buffer
     * @throws IllegalArgumentException if they do not fit in the remaining capacity
     */
    public Buffer append(byte[] src) {
        return append(MemorySegment.ofArray(Objects.requireNonNull(src, "src")));
    }

    /**
     * Appends the remaining bytes of {@code src} (its position advances).
     *
     * @param src the bytes
     * @return this buffer
     */
    public Buffer append(ByteBuffer src) {
        int n = src.remaining();
        append(MemorySegment.ofBuffer(src));
        src.position(src.position() + n);
        return this;
    }

    /**
     * Appends the bytes of {@code src}.
     *
     * @param src the bytes
     * @return this buffer
     */
    public Buffer append(MemorySegment src) {
        PooledBuffer p = live();
        long n = src.byteSize();
        if (n > p.capacity() - length) {
            throw new IllegalArgumentException(n + " bytes do not fit: " + (p.capacity() - length) + " left of the capacity of "
                    + p.capacity());
        }
        MemorySegment.copy(src, 0, p.segment(), length, n);
        length += (int) n;
        return this;
    }

    /** Ends the lease: the buffer goes back to the pool. Idempotent. Loop thread only. */
    public void release() {
        PooledBuffer p = pooled;
        if (p == null) {
            return;
        }
        loop.checkThread();
        endViews();
        pooled = null;
        loop.pool().release(p);
    }

    /** The write takes the buffer: the lease ends without returning it to the pool. */
    PooledBuffer takeForWrite() {
        PooledBuffer p = live();
        loop.checkThread();
        endViews();
        pooled = null;
        return p;
    }

    private void endViews() {
        if (views != null) {
            views.close();
            views = null;
        }
    }

    @Override
    public String toString() {
        return pooled == null ? "Buffer[released]" : "Buffer[length=" + length + ", capacity=" + pooled.capacity() + "]";
    }
}
