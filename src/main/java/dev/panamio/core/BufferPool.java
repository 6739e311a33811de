package dev.panamio.core;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;

/**
 * Fixed-size native buffers carved from slabs, with an intrusive free list (so taking and returning a buffer
 * allocates nothing). Grows a slab at a time on demand.
 *
 * <p>A trimming pool gives memory back. The slabs it retains in any case come from the loop's arena; each slab
 * beyond them has an arena of its own, and when more of the pool is free than is in use and than it retains,
 * {@link #trim()} (run by the loop about a second later) frees such slabs whose every buffer is free, down to
 * the most the pool had in use since the last trim. A burst therefore costs its memory for a second or two, not
 * for the loop's life, and a steady load, whose peak repeats every second, keeps its slabs. A buffer is free
 * only when neither the kernel nor user code holds it, so a freed slab is never lent memory; a stale segment
 * of one fails with {@link IllegalStateException}. A non-trimming pool (small scratch slots) carves all its
 * slabs from the loop's arena.
 *
 * <p>Accounting: {@code allocated = free + lent + leased + ring}; {@link #checkInvariant()} verifies it.
 * Loop thread only.
 */
public final class BufferPool implements dev.panamio.sys.BufferSource {
    /** Buffers per slab: one allocation serves this many buffers, and the pool grows by this step. */
    static final int BUFFERS_PER_SLAB = 64;
    private static final long ALIGNMENT = 64; // cache line: no false sharing between neighbouring buffers
    /** Slabs one {@link #trim()} frees at most (each free waits for every thread to acknowledge). */
    static final int MAX_SLABS_PER_TRIM = 8;
    /** How long after a request a trim runs: the window whose peak use the pool keeps. */
    public static final long TRIM_DELAY_NANOS = 1_000_000_000L;
    /** How soon a trim that stopped at {@link #MAX_SLABS_PER_TRIM} goes on. */
    static final long TRIM_AGAIN_NANOS = 20_000_000L;

    private final NativeMemory memory;
    private final int bufferSize;
    private final long slabBytes;
    /** Pool bytes a trim keeps; {@link Long#MAX_VALUE}: never trims. */
    private final long retainBytes;
    /** Called (once until the next trim) when the pool holds more free memory than it should. */
    private Runnable trimRequest;
    private boolean trimRequested;
    /** Slabs with arenas of their own (trimming pools only). */
    private final ArrayList<Slab> slabList = new ArrayList<>();
    private PooledBuffer freeList;
    private long allocatedBytes;
    private long freeBytes;
    private long lentBytes;
    private long leasedBytes;
    private long ringBytes;
    private long peakLentBytes;
    /** The most bytes in use (not free) since the last trim. */
    private long windowPeakInUse;
    private long trimmedSlabs;

    /** A pool that never gives memory back before the loop closes. */
    public BufferPool(NativeMemory memory, int bufferSize) {
        this(memory, bufferSize, Long.MAX_VALUE);
    }

    /**
     * A pool that keeps at least {@code retainBytes} (rounded up to whole slabs) and gives back slabs of
     * free buffers beyond what it needed since the last trim ({@code Long.MAX_VALUE}: never).
     */
    public BufferPool(NativeMemory memory, int bufferSize, long retainBytes) {
        this.memory = memory;
        this.bufferSize = bufferSize;
        this.slabBytes = (long) bufferSize * BUFFERS_PER_SLAB;
        this.retainBytes = retainBytes;
    }

    /** What to call when a trim is due: the loop schedules {@link #trim()} on it. */
    public void onTrimDue(Runnable request) {
        this.trimRequest = request;
    }

    /** One slab of a trimming pool: its memory block and how many of its buffers are free. */
    static final class Slab {
        final NativeMemory.Block block;
        int free;
        boolean freed;

        Slab(NativeMemory.Block block) {
            this.block = block;
        }
    }

    /** Size of every buffer. */
    @Override
    public int bufferSize() {
        return bufferSize;
    }

    private boolean trims() {
        return retainBytes != Long.MAX_VALUE;
    }

    private void grow() {
        MemorySegment segment;
        Slab slab = null;
        if (trims() && allocatedBytes + slabBytes > retainBytes) {
            // Beyond what the pool retains anyway: an arena of its own, so that a trim can free it. (The
            // retained slabs share the loop's arena: an arena of one's own costs a wait for every thread
            // when it closes, which a loop that never grows past them should not pay at close.)
            slab = new Slab(memory.allocateBlock(slabBytes, ALIGNMENT));
            slab.free = BUFFERS_PER_SLAB;
            slabList.add(slab);
            segment = slab.block.segment();
        } else {
            segment = memory.allocate(slabBytes, ALIGNMENT);
        }
        for (int i = BUFFERS_PER_SLAB - 1; i >= 0; i--) {
            PooledBuffer b = new PooledBuffer(segment.asSlice((long) i * bufferSize, bufferSize), this, slab);
            b.nextFree = freeList;
            freeList = b;
        }
        allocatedBytes += slabBytes;
        freeBytes += slabBytes;
        LoopEvents.BufferPoolGrowth e = LoopEvents.recording() ? new LoopEvents.BufferPoolGrowth() : null;
        if (e != null && e.shouldCommit()) {
            e.slabBytes = slabBytes;
            e.poolBytes = allocatedBytes;
            e.commit();
        }
    }

    private PooledBuffer take() {
        if (freeList == null) {
            grow();
        }
        PooledBuffer b = freeList;
        freeList = b.nextFree;
        b.nextFree = null;
        freeBytes -= bufferSize;
        if (b.slab != null) {
            b.slab.free--;
        }
        long inUse = allocatedBytes - freeBytes; // (a retained slab's buffers count too)
        if (inUse > windowPeakInUse) {
            windowPeakInUse = inUse;
        }
        return b;
    }

    private void putFree(PooledBuffer b) {
        b.state = PooledBuffer.FREE;
        b.nextFree = freeList;
        freeList = b;
        freeBytes += bufferSize;
        if (b.slab != null) {
            b.slab.free++;
        }
        if (!trimRequested && trimRequest != null && moreFreeThanNeeded()) {
            trimRequested = true;
            trimRequest.run();
        }
    }

    /** Whether more of the pool is free than is in use and than it retains: what a trim is for. */
    private boolean moreFreeThanNeeded() {
        return freeBytes > retainBytes && freeBytes > allocatedBytes - freeBytes;
    }

    /**
     * Gives back slabs whose buffers are all free, keeping the pool at no less than the retained bytes and
     * than the most it had in use since the last trim; frees at most {@link #MAX_SLABS_PER_TRIM} slabs.
     *
     * @return in how many nanoseconds to trim again, or {@code -1}: not until more buffers come back
     */
    public long trim() {
        trimRequested = false;
        long inUse = allocatedBytes - freeBytes;
        long keep = Math.max(retainBytes, windowPeakInUse);
        windowPeakInUse = inUse;
        if (!trims()) {
            return -1;
        }
        long delay = freeSlabs(keep);
        if (delay < 0 && keep > Math.max(retainBytes, inUse) && moreFreeThanNeeded()) {
            // This window's peak kept memory that the next window may not need: look again then.
            delay = TRIM_DELAY_NANOS;
        }
        trimRequested = delay >= 0;
        return delay;
    }

    private long freeSlabs(long keep) {
        if (allocatedBytes - slabBytes < keep) {
            return -1;
        }
        int freed = 0;
        boolean more = false;
        for (int i = slabList.size() - 1; i >= 0; i--) {
            Slab slab = slabList.get(i);
            if (slab.free != BUFFERS_PER_SLAB) {
                continue;
            }
            if (allocatedBytes - slabBytes < keep) {
                break;
            }
            if (freed == MAX_SLABS_PER_TRIM) {
                more = true;
                break;
            }
            slab.freed = true;
            allocatedBytes -= slabBytes;
            freeBytes -= slabBytes;
            freed++;
        }
        if (freed == 0) {
            return -1;
        }
        // Unlink the freed slabs' buffers from the free list (keeping its order), then free the memory.
        PooledBuffer kept = null;
        PooledBuffer last = null;
        for (PooledBuffer b = freeList; b != null; ) {
            PooledBuffer next = b.nextFree;
            if (b.slab != null && b.slab.freed) {
                b.nextFree = null;
            } else if (last == null) {
                kept = last = b;
            } else {
                last.nextFree = b;
                last = b;
            }
            b = next;
        }
        if (last != null) {
            last.nextFree = null;
        }
        freeList = kept;
        int w = 0;
        for (int i = 0; i < slabList.size(); i++) {
            Slab slab = slabList.get(i);
            if (slab.freed) {
                memory.free(slab.block);
            } else {
                slabList.set(w++, slab);
            }
        }
        while (slabList.size() > w) {
            slabList.removeLast();
        }
        trimmedSlabs += freed;
        LoopEvents.BufferPoolTrim e = LoopEvents.recording() ? new LoopEvents.BufferPoolTrim() : null;
        if (e != null && e.shouldCommit()) {
            e.freedBytes = freed * slabBytes;
            e.poolBytes = allocatedBytes;
            e.commit();
        }
        return more ? TRIM_AGAIN_NANOS : -1;
    }

    /** Slabs given back by {@link #trim()} since the pool was made. */
    public long trimmedSlabs() {
        return trimmedSlabs;
    }

    /** Whether a trim has been asked for and has not run yet. */
    public boolean trimRequested() {
        return trimRequested;
    }

    /** Takes a buffer to lend to the kernel. */
    public PooledBuffer takeForKernel() {
        PooledBuffer b = take();
        b.state = PooledBuffer.LENT;
        lentBytes += bufferSize;
        notePeak();
        return b;
    }

    /** Takes a buffer for user code (an empty write buffer). */
    public PooledBuffer takeForUser() {
        PooledBuffer b = take();
        b.state = PooledBuffer.LEASED;
        leasedBytes += bufferSize;
        return b;
    }

    /** Takes a buffer for a backend's provided-buffer ring; {@code recycler} gives it back to the ring. */
    @Override
    public PooledBuffer takeForRing(Runnable recycler) {
        PooledBuffer b = take();
        b.state = PooledBuffer.RING;
        b.ringRecycler = recycler;
        ringBytes += bufferSize;
        notePeak();
        return b;
    }

    /** The kernel gave a lent buffer back with data: it now belongs to a user lease. */
    public void lentToLeased(PooledBuffer b) {
        expect(b, PooledBuffer.LENT);
        b.state = PooledBuffer.LEASED;
        lentBytes -= bufferSize;
        leasedBytes += bufferSize;
    }

    /** A leased buffer is handed to a write: it is lent to the kernel again. */
    public void leasedToLent(PooledBuffer b) {
        expect(b, PooledBuffer.LEASED);
        b.state = PooledBuffer.LENT;
        leasedBytes -= bufferSize;
        lentBytes += bufferSize;
        notePeak();
    }

    private void notePeak() {
        long now = lentBytes + ringBytes;
        if (now > peakLentBytes) {
            peakLentBytes = now;
        }
    }

    /** @return the most bytes lent to the kernel (ops and rings) at once since the pool was made */
    public long peakLentBytes() {
        return peakLentBytes;
    }

    /** A ring buffer the kernel filled is now behind a user lease (it stays counted as ring memory). */
    public void ringToLeased(PooledBuffer b) {
        expect(b, PooledBuffer.RING);
        b.state = PooledBuffer.LEASED;
        ringBytes -= bufferSize;
        leasedBytes += bufferSize;
    }

    /** Returns a buffer (lent or leased) to the free list, or a ring buffer to its ring. */
    public void release(PooledBuffer b) {
        switch (b.state) {
            case PooledBuffer.LENT -> lentBytes -= bufferSize;
            case PooledBuffer.LEASED -> leasedBytes -= bufferSize;
            case PooledBuffer.RING -> ringBytes -= bufferSize;
            default -> throw new IllegalStateException("buffer released twice");
        }
        if (b.ringRecycler != null) {
            b.state = PooledBuffer.RING;
            ringBytes += bufferSize;
            b.ringRecycler.run();
            return;
        }
        putFree(b);
    }

    /** A ring is torn down: its buffer goes back to the free list for good. */
    @Override
    public void returnFromRing(dev.panamio.sys.SelectedBuffer selected) {
        PooledBuffer b = (PooledBuffer) selected;
        expect(b, PooledBuffer.RING);
        b.ringRecycler = null;
        ringBytes -= bufferSize;
        putFree(b);
    }

    private static void expect(PooledBuffer b, byte state) {
        if (b.state != state) {
            throw new IllegalStateException("buffer in state " + b.state + ", expected " + state);
        }
    }

    public long allocatedBytes() {
        return allocatedBytes;
    }

    public long freeBytes() {
        return freeBytes;
    }

    public long lentBytes() {
        return lentBytes;
    }

    public long leasedBytes() {
        return leasedBytes;
    }

    public long ringBytes() {
        return ringBytes;
    }


    /** Throws if the four owners do not add up to what was allocated. */
    public void checkInvariant() {
        if (freeBytes + lentBytes + leasedBytes + ringBytes != allocatedBytes) {
            throw new IllegalStateException("buffer accounting broken: free " + freeBytes + " + lent " + lentBytes
                    + " + leased " + leasedBytes + " + ring " + ringBytes + " != allocated " + allocatedBytes);
        }
    }
}
