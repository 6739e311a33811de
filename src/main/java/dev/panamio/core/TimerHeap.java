package dev.panamio.core;

import java.util.Arrays;

/**
 * A binary min-heap of {@link TimerNode}s ordered by (deadline, insertion sequence): O(log n) insert and
 * cancel (each node knows its index), O(1) peek. Ties fire in insertion order, as Node's timers do.
 * Loop thread only.
 */
public final class TimerHeap {
    private TimerNode[] heap = new TimerNode[64];
    private int size;
    private long nextSeq;

    public int size() {
        return size;
    }

    /** The earliest node, or {@code null}. */
    public TimerNode peek() {
        return size == 0 ? null : heap[0];
    }

    /** Schedules {@code node} at {@code deadline}; reschedules it if it is already in the heap. */
    public void schedule(TimerNode node, long deadline) {
        if (node.heapIndex >= 0) {
            remove(node);
        }
        node.deadline = deadline;
        node.seq = nextSeq++;
        if (size == heap.length) {
            heap = Arrays.copyOf(heap, size * 2);
        }
        node.heapIndex = size;
        heap[size++] = node;
        siftUp(node.heapIndex);
    }

    /** Removes {@code node} if scheduled. */
    public void remove(TimerNode node) {
        int i = node.heapIndex;
        if (i < 0) {
            return;
        }
        node.heapIndex = -1;
        size--;
        if (i == size) {
            heap[size] = null;
            return;
        }
        TimerNode last = heap[size];
        heap[size] = null;
        heap[i] = last;
        last.heapIndex = i;
        siftDown(i);
        if (last.heapIndex == i) {
            siftUp(i);
        }
    }

    /** The sequence number the next scheduled node will get. */
    public long nextSeq() {
        return nextSeq;
    }

    /**
     * Removes and returns the earliest node if its deadline is at or before {@code now} and it was scheduled
     * before {@code seqLimit}, else null. The limit keeps a timer scheduled (or an interval rescheduled)
     * during the timers phase for the next tick, as Node does, so that a zero-delay timer cannot loop the
     * phase forever.
     */
    public TimerNode pollExpired(long now, long seqLimit) {
        if (size == 0 || heap[0].deadline - now > 0 || heap[0].seq >= seqLimit) {
            return null;
        }
        TimerNode first = heap[0];
        remove(first);
        return first;
    }

    private static boolean less(TimerNode a, TimerNode b) {
        long d = a.deadline - b.deadline;
        return d < 0 || (d == 0 && a.seq < b.seq);
    }

    private void siftUp(int i) {
        TimerNode node = heap[i];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            TimerNode p = heap[parent];
            if (!less(node, p)) {
                break;
            }
            heap[i] = p;
            p.heapIndex = i;
            i = parent;
        }
        heap[i] = node;
        node.heapIndex = i;
    }

    private void siftDown(int i) {
        TimerNode node = heap[i];
        int half = size >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            TimerNode c = heap[child];
            int right = child + 1;
            if (right < size && less(heap[right], c)) {
                child = right;
                c = heap[child];
            }
            if (!less(c, node)) {
                break;
            }
            heap[i] = c;
            c.heapIndex = i;
            i = child;
        }
        heap[i] = node;
        node.heapIndex = i;
    }

    /** Removes every node (loop close). */
    public TimerNode[] drain() {
        TimerNode[] all = Arrays.copyOf(heap, size);
        for (TimerNode n : all) {
            n.heapIndex = -1;
        }
        Arrays.fill(heap, 0, size, null);
        size = 0;
        return all;
    }
}
