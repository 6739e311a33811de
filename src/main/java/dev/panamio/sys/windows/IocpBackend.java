package dev.panamio.sys.windows;

import dev.panamio.sys.CompletionSink;
import dev.panamio.sys.IoBackend;
import dev.panamio.sys.NativeAllocator;
import dev.panamio.sys.Op;
import dev.panamio.sys.OpKind;
import dev.panamio.sys.OpRegistry;
import dev.panamio.sys.PlatformErrors;
import dev.panamio.sys.ReadyQueue;
import dev.panamio.sys.Sockets;
import dev.panamio.sys.windows.ffi.OVERLAPPED_ENTRY;
import dev.panamio.sys.windows.ffi.SOCKADDR_STORAGE;
import dev.panamio.sys.windows.ffi.windows_h;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The Windows backend: an I/O completion port that is lent the memory of every read and write.
 *
 * <ul>
 *   <li>Each op in the kernel holds a fixed-address <em>op block</em> that starts with its {@code OVERLAPPED};
 *       the op's token follows it, so the {@code OVERLAPPED*} that {@code GetQueuedCompletionStatusEx} returns
 *       finds its op. Blocks come from a free list and go back to it with the op's completion, so memory stays
 *       proportional to the ops in flight, not to the connections ever made.</li>
 *   <li>Sockets are associated with the port once, and put in {@code FILE_SKIP_COMPLETION_PORT_ON_SUCCESS}
 *       mode where Windows allows it: an operation that succeeds at once then posts no packet, and the backend
 *       completes it itself (in the next poll); where the mode could not be set, the packet is awaited, so an
 *       op never completes twice.</li>
 *   <li>Waiting for data lends nothing: {@link OpKind#POLL_READABLE} is a zero-byte {@code WSARecv}, which
 *       completes when data (or EOF) is there; only then does the core lend a buffer to a {@link OpKind#RECV}.</li>
 *   <li>Accept and connect are {@code AcceptEx} (into a socket made in advance) and {@code ConnectEx}.</li>
 *   <li>Cancel is {@code CancelIoEx}: the op's memory stays lent until its packet arrives, aborted
 *       ({@code ERROR_OPERATION_ABORTED}) or, if it finished first, with its normal result.</li>
 *   <li>Wakeups from other threads post a packet without an {@code OVERLAPPED}.</li>
 * </ul>
 *
 * <p>All Windows calls go through {@link IocpApi}, so this class runs unchanged against a scripted completion
 * source in tests on any platform. Loop thread only, except {@link #wakeup()}.
 */
public final class IocpBackend implements IoBackend {
    /** Op block: OVERLAPPED (32) | token (8) | WSABUF (16) | transferred (4) | flags (4). */
    static final int BLOCK = 64;
    static final int TOKEN_OFFSET = 32;
    static final int WSABUF_OFFSET = 40;
    static final int TRANSFERRED_OFFSET = 56;
    static final int FLAGS_OFFSET = 60;
    /** AcceptEx wants room for each address plus 16 bytes. */
    static final int ACCEPT_ADDRESS_ROOM = (int) SOCKADDR_STORAGE.sizeof() + 16;
    static final int ACCEPT_BLOCK = BLOCK + 2 * ACCEPT_ADDRESS_ROOM;
    /** Completion key of wakeup packets. */
    static final long WAKE_KEY = 0x70616e616d696fL;
    static final int MAX_ENTRIES = 256;
    /** All of memory, to read a token behind an OVERLAPPED* the port returns without making a segment for it. */
    private static final MemorySegment ALL_MEMORY = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    private static final int PENDING_PACKET = 1;

    private final IocpApi api;
    private final NativeAllocator memory;
    private final OpRegistry registry;
    private final long port;
    private final MemorySegment entries;
    private final ReadyQueue ready = new ReadyQueue();
    private final ArrayDeque<Block> freeBlocks = new ArrayDeque<>();
    private final ArrayDeque<Block> freeAcceptBlocks = new ArrayDeque<>();
    /**
     * Sockets whose immediate successes still post a packet (skip mode refused, e.g. by a non-IFS layered
     * provider). Usually empty, so the per-op check boxes nothing.
     */
    private final Set<Long> packetOnSuccess = new HashSet<>();
    /** Listening sockets' address families, for the sockets AcceptEx accepts into. */
    private final Map<Long, Integer> listenFamily = new HashMap<>();
    private final AtomicBoolean wakePending = new AtomicBoolean();
    private final WindowsSockets sockets;
    private int packetsPending;
    private boolean closed;
    private CompletionSink outer;
    /** Delivers an at-once completion: its block goes back to the free list first. */
    private final CompletionSink releasing = (op, result, flags) -> {
        releaseBlock(op);
        outer.complete(op, result, flags);
    };

    /**
     * Opens a completion port.
     *
     * @throws IllegalStateException if Windows refuses
     */
    public IocpBackend(IocpApi api, NativeAllocator memory, OpRegistry registry) {
        this.api = api;
        this.memory = memory;
        this.registry = registry;
        long p = api.createPort();
        if (p <= 0) {
            throw new IllegalStateException("CreateIoCompletionPort: " + WinErrors.INSTANCE.describe((int) -p));
        }
        this.port = p;
        this.entries = memory.allocate(OVERLAPPED_ENTRY.sizeof() * MAX_ENTRIES, 8);
        this.sockets = new WindowsSockets(api, this, memory);
    }

    @Override
    public String name() {
        return "iocp";
    }

    @Override
    public Sockets sockets() {
        return sockets;
    }

    @Override
    public PlatformErrors errors() {
        return WinErrors.INSTANCE;
    }

    /**
     * An op block: native memory at a fixed address that starts with the OVERLAPPED, with the views the calls
     * take made once, when the block is first allocated, so that submitting allocates nothing.
     */
    static final class Block {
        final MemorySegment memory;
        final MemorySegment overlapped;
        final MemorySegment wsabuf;
        final MemorySegment transferred;
        final MemorySegment flags;
        final MemorySegment addresses; // AcceptEx blocks only

        Block(MemorySegment memory) {
            this.memory = memory;
            this.overlapped = memory.asSlice(0, 32);
            this.wsabuf = memory.asSlice(WSABUF_OFFSET, 16);
            this.transferred = memory.asSlice(TRANSFERRED_OFFSET, 4);
            this.flags = memory.asSlice(FLAGS_OFFSET, 4);
            this.addresses = memory.byteSize() > BLOCK ? memory.asSlice(BLOCK, 2L * ACCEPT_ADDRESS_ROOM) : null;
        }
    }

    /** The address of the OVERLAPPED an op in the kernel uses (0 when it holds none). */
    static long overlappedOf(Op op) {
        return op.backendState instanceof Block b ? b.overlapped.address() : 0;
    }

    /** Associates a socket with the port, once, and asks for no packet on immediate success. */
    int adopt(long socket) {
        int rc = api.associate(port, socket);
        if (rc < 0) {
            return rc;
        }
        if (!api.skipCompletionPortOnSuccess(socket)) {
            packetOnSuccess.add(socket);
        }
        return 0;
    }

    private boolean postsPacketOnSuccess(long socket) {
        return !packetOnSuccess.isEmpty() && packetOnSuccess.contains(socket);
    }

    /** A socket is closing: forget what is known about it. */
    void forget(long socket) {
        if (!packetOnSuccess.isEmpty()) {
            packetOnSuccess.remove(socket);
        }
        listenFamily.remove(socket);
    }

    void listening(long socket, int family) {
        listenFamily.put(socket, family);
    }

    // ------------------------------------------------------------------------------------------- submit

    @Override
    public void submit(Op op) {
        Block b = takeBlock(op.kind == OpKind.ACCEPT);
        b.memory.set(ValueLayout.JAVA_LONG, TOKEN_OFFSET, op.token);
        op.backendState = b;
        op.backendFlags = 0;
        long h = op.handle;
        int rc;
        switch (op.kind) {
            case OpKind.POLL_READABLE -> {
                setWsabuf(b.wsabuf, 0, 0, 0);
                rc = api.recv(h, b.wsabuf, 1, b.transferred, b.flags, b.overlapped);
            }
            case OpKind.RECV -> {
                setWsabuf(b.wsabuf, 0, op.buffer.address() + op.offset, op.length);
                rc = api.recv(h, b.wsabuf, 1, b.transferred, b.flags, b.overlapped);
            }
            case OpKind.SEND -> {
                setWsabuf(b.wsabuf, 0, op.buffer.address() + op.offset, op.length);
                rc = api.send(h, b.wsabuf, 1, b.transferred, b.overlapped);
            }
            case OpKind.SENDV -> {
                for (int i = 0; i < op.iovCount; i++) {
                    setWsabuf(op.iov, 16L * i, op.gatherSegments[i].address() + op.gatherOffsets[i], op.gatherLengths[i]);
                }
                rc = api.send(h, op.iov, op.iovCount, b.transferred, b.overlapped);
            }
            case OpKind.ACCEPT -> {
                int family = listenFamily.getOrDefault(h, windows_h.AF_INET());
                long accepted = api.socket(family);
                if (accepted < 0) {
                    rc = (int) accepted;
                } else {
                    op.backendProgress = accepted;
                    rc = api.acceptEx(h, accepted, b.addresses, ACCEPT_ADDRESS_ROOM, b.transferred, b.overlapped);
                }
            }
            case OpKind.CONNECT -> {
                rc = sockets.bindAny(h, op.addr.get(ValueLayout.JAVA_SHORT, 0));
                if (rc >= 0) {
                    rc = api.connectEx(h, op.addr, op.addrLen, b.overlapped);
                }
            }
            default -> rc = -windows_h.WSAEOPNOTSUPP();
        }
        if (rc == -windows_h.WSA_IO_PENDING() || (rc >= 0 && postsPacketOnSuccess(h))) {
            // Pending, or done at once on a socket not in skip mode: either way the packet comes; complete from it.
            op.backendFlags = PENDING_PACKET;
            packetsPending++;
        } else if (rc >= 0) {
            ready.add(op, finish(op, b.transferred.get(ValueLayout.JAVA_INT, 0) & 0xFFFF_FFFFL), 0);
        } else {
            failAccept(op);
            ready.add(op, rc, 0);
        }
    }

    /** Fills the WSABUF at {@code at} in {@code array}: {@code { ULONG len; CHAR *buf; }}. */
    private static void setWsabuf(MemorySegment array, long at, long address, long length) {
        array.set(ValueLayout.JAVA_INT, at, (int) length);
        array.set(ValueLayout.JAVA_LONG, at + 8, address);
    }

    /** The result of a successful op: bytes, the accepted socket, or 0 for a connect. */
    private long finish(Op op, long bytes) {
        return switch (op.kind) {
            case OpKind.ACCEPT -> {
                long accepted = op.backendProgress;
                op.backendProgress = 0;
                int rc = api.updateAcceptContext(accepted, op.handle);
                if (rc < 0) {
                    api.closeSocket(accepted);
                    yield rc;
                }
                yield accepted;
            }
            case OpKind.CONNECT -> {
                int rc = api.updateConnectContext(op.handle);
                yield rc < 0 ? rc : 0;
            }
            default -> bytes;
        };
    }

    private void failAccept(Op op) {
        if (op.kind == OpKind.ACCEPT && op.backendProgress > 0) {
            api.closeSocket(op.backendProgress);
            op.backendProgress = 0;
        }
    }

    // ------------------------------------------------------------------------------------------- cancel

    @Override
    public void cancel(Op op) {
        if ((op.backendFlags & PENDING_PACKET) == 0 || !(op.backendState instanceof Block b)) {
            return; // completed at once: its completion is already queued for the next poll
        }
        int rc = api.cancel(op.handle, b.overlapped);
        // -ERROR_NOT_FOUND: it finished meanwhile; its packet (with the normal result) is on its way. Either
        // way the op completes exactly once, from its packet, and its memory stays lent until then.
        if (rc < 0 && rc != -windows_h.ERROR_NOT_FOUND()) {
            // The handle is gone (closed under the op): Windows aborts its I/O and still posts the packet.
            return;
        }
    }

    // ------------------------------------------------------------------------------------------- poll

    @Override
    public int poll(long timeoutNanos, CompletionSink sink) {
        outer = sink;
        int n = ready.drain(releasing, Integer.MAX_VALUE);
        int timeoutMillis = n > 0 || !ready.isEmpty() ? 0 : toMillis(timeoutNanos);
        int got = api.dequeue(port, entries, MAX_ENTRIES, timeoutMillis);
        if (timeoutMillis != 0) {
            sink.waited();
        }
        if (got < 0) {
            if (got == -windows_h.WAIT_TIMEOUT()) {
                return n;
            }
            throw new IllegalStateException("GetQueuedCompletionStatusEx: " + WinErrors.INSTANCE.describe(-got));
        }
        for (int i = 0; i < got; i++) {
            long e = i * OVERLAPPED_ENTRY.sizeof();
            long ovAddress = entries.get(ValueLayout.JAVA_LONG, e + OVERLAPPED_ENTRY.lpOverlapped$offset());
            if (ovAddress == 0) {
                if (entries.get(ValueLayout.JAVA_LONG, e + OVERLAPPED_ENTRY.lpCompletionKey$offset()) == WAKE_KEY) {
                    wakePending.set(false);
                }
                continue;
            }
            // The OVERLAPPED is the start of one of our blocks: its token follows it.
            Op op = registry.get(ALL_MEMORY.get(ValueLayout.JAVA_LONG, ovAddress + TOKEN_OFFSET));
            if (op == null || overlappedOf(op) != ovAddress) {
                continue; // not ours (cannot happen unless the port is shared)
            }
            int status = (int) entries.get(ValueLayout.JAVA_LONG, e + OVERLAPPED_ENTRY.Internal$offset());
            long bytes = entries.get(ValueLayout.JAVA_INT, e + OVERLAPPED_ENTRY.dwNumberOfBytesTransferred$offset()) & 0xFFFF_FFFFL;
            int error = WinErrors.fromNtStatus(status);
            long result;
            if (error != 0) {
                failAccept(op);
                result = -error;
            } else {
                result = finish(op, bytes);
            }
            op.backendFlags = 0;
            packetsPending--;
            complete(op, result, sink);
            n++;
        }
        return n;
    }

    private void complete(Op op, long result, CompletionSink sink) {
        releaseBlock(op);
        sink.complete(op, result, 0);
    }

    private static int toMillis(long nanos) {
        if (nanos <= 0) {
            return 0;
        }
        long ms = (nanos + 999_999) / 1_000_000;
        return ms >= Integer.MAX_VALUE ? -1 : (int) ms;
    }

    @Override
    public void wakeup() {
        if (wakePending.compareAndSet(false, true)) {
            api.post(port, WAKE_KEY);
        }
    }

    // ------------------------------------------------------------------------------------------- blocks

    private Block takeBlock(boolean accept) {
        ArrayDeque<Block> free = accept ? freeAcceptBlocks : freeBlocks;
        Block b = free.poll();
        if (b == null) {
            b = new Block(memory.allocate(accept ? ACCEPT_BLOCK : BLOCK, 16));
        }
        for (long at = 0; at < BLOCK; at += 8) { // a fresh OVERLAPPED, WSABUF and flags
            b.memory.set(ValueLayout.JAVA_LONG, at, 0L);
        }
        return b;
    }

    private void releaseBlock(Op op) {
        if (op.backendState instanceof Block b) {
            (b.addresses != null ? freeAcceptBlocks : freeBlocks).add(b);
            op.backendState = null;
        }
    }

    /** Synchronous completions queue through here too (ReadyQueue delivers them); their blocks go back then. */
    @Override
    public long nativeBytes() {
        return 0; // every block is counted by the loop's allocator
    }

    /** Ops whose packet has not arrived yet. */
    int packetsPending() {
        return packetsPending;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (packetsPending > 0) {
            throw new IllegalStateException(packetsPending + " completion packets still pending at close");
        }
        api.closePort(port);
        api.close();
    }
}
