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

    private static final int PENDING_PACKET = 1;

    private final IocpApi api;
    private final NativeAllocator memory;
    private final OpRegistry registry;
    private final long port;
    private final MemorySegment entries;
    private final ReadyQueue ready = new ReadyQueue();
    private final ArrayDeque<MemorySegment> freeBlocks = new ArrayDeque<>();
    private final ArrayDeque<MemorySegment> freeAcceptBlocks = new ArrayDeque<>();
    /** Sockets whose successful operations post no packet. */
    private final Set<Long> skipOnSuccess = new HashSet<>();
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

    /** Associates a socket with the port, once, and asks for no packet on immediate success. */
    int adopt(long socket) {
        int rc = api.associate(port, socket);
        if (rc < 0) {
            return rc;
        }
        if (api.skipCompletionPortOnSuccess(socket)) {
            skipOnSuccess.add(socket);
        }
        return 0;
    }

    /** A socket is closing: forget what is known about it. */
    void forget(long socket) {
        skipOnSuccess.remove(socket);
        listenFamily.remove(socket);
    }

    void listening(long socket, int family) {
        listenFamily.put(socket, family);
    }

    // ------------------------------------------------------------------------------------------- submit

    @Override
    public void submit(Op op) {
        MemorySegment b = takeBlock(op.kind == OpKind.ACCEPT);
        b.set(ValueLayout.JAVA_LONG, TOKEN_OFFSET, op.token);
        op.backendState = b;
        op.backendFlags = 0;
        MemorySegment wsabuf = b.asSlice(WSABUF_OFFSET, 16);
        MemorySegment transferred = b.asSlice(TRANSFERRED_OFFSET, 4);
        MemorySegment ov = b.asSlice(0, 32);
        long h = op.handle;
        int rc;
        switch (op.kind) {
            case OpKind.POLL_READABLE -> {
                setWsabuf(wsabuf, 0, 0);
                rc = api.recv(h, wsabuf, 1, transferred, b.asSlice(FLAGS_OFFSET, 4), ov);
            }
            case OpKind.RECV -> {
                setWsabuf(wsabuf, op.buffer.address() + op.offset, op.length);
                rc = api.recv(h, wsabuf, 1, transferred, b.asSlice(FLAGS_OFFSET, 4), ov);
            }
            case OpKind.SEND -> {
                setWsabuf(wsabuf, op.buffer.address() + op.offset, op.length);
                rc = api.send(h, wsabuf, 1, transferred, ov);
            }
            case OpKind.SENDV -> {
                for (int i = 0; i < op.iovCount; i++) {
                    setWsabuf(op.iov.asSlice(16L * i, 16), op.gatherSegments[i].address() + op.gatherOffsets[i],
                            op.gatherLengths[i]);
                }
                rc = api.send(h, op.iov, op.iovCount, transferred, ov);
            }
            case OpKind.ACCEPT -> {
                int family = listenFamily.getOrDefault(h, windows_h.AF_INET());
                long accepted = api.socket(family);
                if (accepted < 0) {
                    rc = (int) accepted;
                } else {
                    op.backendProgress = accepted;
                    rc = api.acceptEx(h, accepted, b.asSlice(BLOCK, 2L * ACCEPT_ADDRESS_ROOM), ACCEPT_ADDRESS_ROOM,
                            transferred, ov);
                }
            }
            case OpKind.CONNECT -> {
                rc = sockets.bindAny(h, op.addr.get(ValueLayout.JAVA_SHORT, 0));
                if (rc >= 0) {
                    rc = api.connectEx(h, op.addr, op.addrLen, ov);
                }
            }
            default -> rc = -windows_h.WSAEOPNOTSUPP();
        }
        if (rc == -windows_h.WSA_IO_PENDING()) {
            op.backendFlags = PENDING_PACKET;
            packetsPending++;
        } else if (rc >= 0 && !skipOnSuccess.contains(h)) {
            // Succeeded at once, but the socket is not in skip mode: the packet still comes; complete from it.
            op.backendFlags = PENDING_PACKET;
            packetsPending++;
        } else if (rc >= 0) {
            ready.add(op, finish(op, transferred.get(ValueLayout.JAVA_INT, 0) & 0xFFFF_FFFFL), 0);
        } else {
            failAccept(op);
            ready.add(op, rc, 0);
        }
    }

    private static void setWsabuf(MemorySegment wsabuf, long address, long length) {
        wsabuf.set(ValueLayout.JAVA_INT, 0, (int) length);
        wsabuf.set(ValueLayout.JAVA_LONG, 8, address);
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
        if ((op.backendFlags & PENDING_PACKET) == 0 || !(op.backendState instanceof MemorySegment b)) {
            return; // completed at once: its completion is already queued for the next poll
        }
        int rc = api.cancel(op.handle, b.asSlice(0, 32));
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
        if (got < 0) {
            if (got == -windows_h.WAIT_TIMEOUT()) {
                return n;
            }
            throw new IllegalStateException("GetQueuedCompletionStatusEx: " + WinErrors.INSTANCE.describe(-got));
        }
        for (int i = 0; i < got; i++) {
            MemorySegment e = OVERLAPPED_ENTRY.asSlice(entries, i);
            long ovAddress = OVERLAPPED_ENTRY.lpOverlapped(e).address();
            if (ovAddress == 0) {
                if (OVERLAPPED_ENTRY.lpCompletionKey(e) == WAKE_KEY) {
                    wakePending.set(false);
                }
                continue;
            }
            MemorySegment block = MemorySegment.ofAddress(ovAddress).reinterpret(BLOCK);
            long token = block.get(ValueLayout.JAVA_LONG, TOKEN_OFFSET);
            Op op = registry.get(token);
            if (op == null || op.backendState == null || ((MemorySegment) op.backendState).address() != ovAddress) {
                continue; // not ours (cannot happen unless the port is shared)
            }
            int status = (int) OVERLAPPED_ENTRY.Internal(e);
            long bytes = OVERLAPPED_ENTRY.dwNumberOfBytesTransferred(e) & 0xFFFF_FFFFL;
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

    private MemorySegment takeBlock(boolean accept) {
        ArrayDeque<MemorySegment> free = accept ? freeAcceptBlocks : freeBlocks;
        MemorySegment b = free.poll();
        if (b == null) {
            b = memory.allocate(accept ? ACCEPT_BLOCK : BLOCK, 16);
        }
        b.asSlice(0, BLOCK).fill((byte) 0);
        return b;
    }

    private void releaseBlock(Op op) {
        if (op.backendState instanceof MemorySegment b) {
            (b.byteSize() == ACCEPT_BLOCK ? freeAcceptBlocks : freeBlocks).add(b);
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
