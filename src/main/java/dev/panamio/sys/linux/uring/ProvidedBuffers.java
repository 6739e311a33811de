package dev.panamio.sys.linux.uring;

import dev.panamio.sys.BufferSource;
import dev.panamio.sys.SelectedBuffer;
import dev.panamio.sys.linux.Errno;
import dev.panamio.sys.linux.ffi.io_uring_buf_reg;
import dev.panamio.sys.linux.ffi.linux_h;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * The provided-buffer ring ({@code IORING_REGISTER_PBUF_RING}): pool buffers lent to the kernel ahead of
 * time, from which it picks one when data arrives for a {@code RECV} with {@code IOSQE_BUFFER_SELECT}.
 *
 * <p>The ring is an array of {@code struct io_uring_buf} whose 16-bit tail shares the first entry's
 * {@code resv} field; the kernel owns the head. A buffer the kernel filled is taken out by its id and goes to
 * user code as a lease; when the lease ends, the pool runs this buffer's recycler, which appends it at the
 * tail again (a release store, so the kernel sees the entry before the tail). Loop thread only.
 */
final class ProvidedBuffers {
    private static final VarHandle SHORT = ValueLayout.JAVA_SHORT.varHandle();
    private static final long TAIL_OFFSET = 14; // io_uring_buf_ring.tail overlays bufs[0].resv

    private final IoUringBackend backend;
    private final BufferSource source;
    private final MemorySegment ring;
    private final int entries;
    private final SelectedBuffer[] buffers;
    private final boolean[] inRing;
    private int tail;
    private boolean registered;

    private ProvidedBuffers(IoUringBackend backend, int entries) {
        this.backend = backend;
        this.source = backend.bufferSource();
        this.entries = entries;
        this.ring = backend.memory().allocate(16L * entries, 4096);
        this.buffers = new SelectedBuffer[entries];
        this.inRing = new boolean[entries];
    }

    /** Registers a ring of {@code entries} buffers, or returns null when the kernel refuses (older than 5.19). */
    static ProvidedBuffers register(IoUringBackend backend, int entries) {
        ProvidedBuffers p = new ProvidedBuffers(backend, entries);
        MemorySegment reg = backend.memory().allocate(io_uring_buf_reg.sizeof(), 8);
        io_uring_buf_reg.ring_addr(reg, p.ring.address());
        io_uring_buf_reg.ring_entries(reg, entries);
        io_uring_buf_reg.bgid(reg, (short) IoUringBackend.BUFFER_GROUP);
        int r = backend.sys().ioUringRegister(backend.ringFd(), linux_h.IORING_REGISTER_PBUF_RING(), reg.address(), 1);
        if (r < 0) {
            System.getLogger("dev.panamio").log(System.Logger.Level.DEBUG,
                    "io_uring provided-buffer ring refused ({0}); reads poll first", Errno.message(-r));
            return null;
        }
        p.registered = true;
        for (int bid = 0; bid < entries; bid++) {
            int id = bid;
            p.buffers[bid] = p.source.takeForRing(() -> p.recycle(id));
            p.add(bid);
        }
        return p;
    }

    long nativeBytes() {
        return 16L * entries;
    }

    private void add(int bid) {
        long e = (long) (tail & (entries - 1)) * 16;
        MemorySegment b = buffers[bid].segment();
        ring.set(ValueLayout.JAVA_LONG, e, b.address());
        ring.set(ValueLayout.JAVA_INT, e + 8, (int) b.byteSize());
        ring.set(ValueLayout.JAVA_SHORT, e + 12, (short) bid);
        tail++;
        inRing[bid] = true;
        SHORT.setRelease(ring, TAIL_OFFSET, (short) tail);
    }

    /** The kernel filled buffer {@code bid}: it leaves the ring until recycled. */
    SelectedBuffer take(int bid) {
        inRing[bid] = false;
        return buffers[bid];
    }

    /** The lease on {@code bid} ended (or its CQE found no owner): give it back to the kernel. */
    void recycle(int bid) {
        if (backend.isClosed() || !registered) {
            source.returnFromRing(buffers[bid]);
            return;
        }
        add(bid);
    }

    /** Loop close: unregister, and return every buffer still in the ring to the pool. */
    void unregister() {
        if (registered) {
            MemorySegment reg = backend.memory().allocate(io_uring_buf_reg.sizeof(), 8);
            io_uring_buf_reg.bgid(reg, (short) IoUringBackend.BUFFER_GROUP);
            backend.sys().ioUringRegister(backend.ringFd(), linux_h.IORING_UNREGISTER_PBUF_RING(), reg.address(), 1);
            registered = false;
        }
        for (int bid = 0; bid < entries; bid++) {
            if (inRing[bid]) {
                inRing[bid] = false;
                source.returnFromRing(buffers[bid]);
            }
        }
    }
}
