package dev.panamio;

import dev.panamio.core.PooledBuffer;

import java.util.Arrays;

/**
 * A connection's queued writes: a ring of (buffer, length, bytes already written, callback) in parallel
 * arrays, so queueing and completing writes allocates nothing once the ring has grown to its working size.
 * The callback of a write that spans several buffers sits on its last buffer. Loop thread only.
 */
final class WriteQueue {
    private PooledBuffer[] buffers = new PooledBuffer[8];
    private int[] lengths = new int[8];
    private int[] written = new int[8];
    private Callback<?>[] callbacks = new Callback<?>[8];
    private int head;
    private int size;

    int size() {
        return size;
    }

    boolean isEmpty() {
        return size == 0;
    }

    void add(PooledBuffer buffer, int length, Callback<?> callback) {
        if (size == buffers.length) {
            grow();
        }
        int i = (head + size) & (buffers.length - 1);
        buffers[i] = buffer;
        lengths[i] = length;
        written[i] = 0;
        callbacks[i] = callback;
        size++;
    }

    private void grow() {
        int n = buffers.length;
        PooledBuffer[] b = new PooledBuffer[n * 2];
        int[] l = new int[n * 2];
        int[] w = new int[n * 2];
        Callback<?>[] c = new Callback<?>[n * 2];
        for (int k = 0; k < size; k++) {
            int i = (head + k) & (n - 1);
            b[k] = buffers[i];
            l[k] = lengths[i];
            w[k] = written[i];
            c[k] = callbacks[i];
        }
        buffers = b;
        lengths = l;
        written = w;
        callbacks = c;
        head = 0;
    }

    private int at(int k) {
        return (head + k) & (buffers.length - 1);
    }

    PooledBuffer buffer(int k) {
        return buffers[at(k)];
    }

    /** Bytes of entry {@code k} not yet written. */
    int remaining(int k) {
        int i = at(k);
        return lengths[i] - written[i];
    }

    /** Offset of the first unwritten byte of entry {@code k}. */
    int written(int k) {
        return written[at(k)];
    }

    /** Marks {@code n} more bytes of the first entry written (less than its remaining bytes). */
    void advance(int n) {
        written[head] += n;
    }

    Callback<?> firstCallback() {
        return callbacks[head];
    }

    /** Removes the first entry. */
    void removeFirst() {
        buffers[head] = null;
        callbacks[head] = null;
        head = (head + 1) & (buffers.length - 1);
        size--;
    }

    void clearArrays() {
        Arrays.fill(buffers, null);
        Arrays.fill(callbacks, null);
        head = 0;
        size = 0;
    }
}
