package dev.panamio.sys;

import java.util.Arrays;

/**
 * Completions a backend produced outside the kernel's own queue (an epoll syscall done at submit, a cancel
 * of an op that was only waiting in user space), held until the next {@link IoBackend#poll} delivers them:
 * an op never completes inside {@code submit}. A ring of parallel arrays: no allocation once grown.
 * Loop thread only.
 */
public final class ReadyQueue {
    private Op[] ops = new Op[256];
    private long[] results = new long[256];
    private int[] flags = new int[256];
    private int head;
    private int size;

    /** Queues a completion. */
    public void add(Op op, long result, int flag) {
        if (size == ops.length) {
            grow();
        }
        int i = (head + size) & (ops.length - 1);
        ops[i] = op;
        results[i] = result;
        flags[i] = flag;
        size++;
    }

    private void grow() {
        int m = ops.length * 2;
        ops = Rings.unwrapped(ops, head, size, m);
        results = Rings.unwrapped(results, head, size, m);
        flags = Rings.unwrapped(flags, head, size, m);
        head = 0;
    }

    public boolean isEmpty() {
        return size == 0;
    }

    public int size() {
        return size;
    }

    /**
     * Delivers up to {@code max} queued completions in order, including ones queued while delivering.
     *
     * @return how many were delivered
     */
    public int drain(CompletionSink sink, int max) {
        int n = 0;
        while (size > 0 && n < max) {
            int i = head;
            Op op = ops[i];
            long r = results[i];
            int f = flags[i];
            ops[i] = null;
            head = (head + 1) & (ops.length - 1);
            size--;
            n++;
            sink.complete(op, r, f);
        }
        return n;
    }

    /** Whether {@code op} has a completion waiting here. */
    public boolean contains(Op op) {
        for (int k = 0; k < size; k++) {
            if (ops[(head + k) & (ops.length - 1)] == op) {
                return true;
            }
        }
        return false;
    }

    public void clear() {
        Arrays.fill(ops, null);
        head = 0;
        size = 0;
    }
}
