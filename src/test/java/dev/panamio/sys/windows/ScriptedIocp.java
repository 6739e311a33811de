package dev.panamio.sys.windows;

import dev.panamio.sys.windows.ffi.OVERLAPPED_ENTRY;
import dev.panamio.sys.windows.ffi.windows_h;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A completion port that replays what Windows does, for driving the real {@link IocpBackend} on any platform:
 * overlapped calls start (pending) or finish at once as scripted, packets are posted by the test, and
 * {@code CancelIoEx} finds the I/O or reports {@code ERROR_NOT_FOUND} once its packet is queued. It also
 * enforces the rules a real port would punish silently: an OVERLAPPED in use is never reused, a packet never
 * arrives twice, and a socket in skip mode gets no packet for an immediate success.
 */
final class ScriptedIocp implements IocpApi {
    static final long PORT = 0x5000;

    /** One overlapped operation Windows holds. */
    record Io(String call, long socket, long overlapped, MemorySegment wsabufs, int count) {}

    boolean skipModeSupported = true;
    final List<String> calls = new ArrayList<>();
    final Map<Long, Io> inFlight = new HashMap<>();       // by OVERLAPPED address
    final Set<Long> packetQueued = new HashSet<>();
    final ArrayDeque<long[]> packets = new ArrayDeque<>(); // {key, overlapped, status, bytes}
    final ArrayDeque<long[]> nextResults = new ArrayDeque<>(); // {result, transferred}
    final Set<Long> associated = new HashSet<>();
    final Set<Long> skipMode = new HashSet<>();
    final Set<Long> open = new HashSet<>();
    final List<Long> acceptContexts = new ArrayList<>();
    final List<Long> connectContexts = new ArrayList<>();
    int posts;
    boolean portClosed;
    private long nextSocket = 100;

    /** The next overlapped call finishes at once with {@code result} (0, or -error), {@code transferred} bytes. */
    void nextResult(long result, long transferred) {
        nextResults.add(new long[] {result, transferred});
    }

    /** Windows finishes the I/O on {@code overlapped}: its packet is queued. */
    void packet(long overlapped, int status, long bytes) {
        if (!inFlight.containsKey(overlapped)) {
            throw new AssertionError("no I/O pending on that OVERLAPPED");
        }
        if (!packetQueued.add(overlapped)) {
            throw new AssertionError("a second packet for one I/O");
        }
        packets.add(new long[] {0, overlapped, status, bytes});
    }

    Io only() {
        if (inFlight.size() != 1) {
            throw new AssertionError("expected exactly one I/O in flight, have " + inFlight.size());
        }
        return inFlight.values().iterator().next();
    }

    private int start(String call, long socket, MemorySegment overlapped, MemorySegment wsabufs, int count,
                      MemorySegment transferred) {
        calls.add(call + " " + socket);
        long ov = overlapped.address();
        if (inFlight.containsKey(ov)) {
            throw new AssertionError("OVERLAPPED reused while Windows holds it");
        }
        if (!associated.contains(socket)) {
            throw new AssertionError("overlapped I/O on a socket not associated with the port: " + socket);
        }
        long[] r = nextResults.poll();
        if (r == null) {
            inFlight.put(ov, new Io(call, socket, ov, wsabufs, count));
            return -windows_h.WSA_IO_PENDING();
        }
        if (transferred != null) {
            transferred.set(ValueLayout.JAVA_INT, 0, (int) r[1]);
        }
        if (r[0] == 0 && !skipMode.contains(socket)) {
            // Immediate success without skip mode: Windows still posts the packet.
            inFlight.put(ov, new Io(call, socket, ov, wsabufs, count));
            packetQueued.add(ov);
            packets.add(new long[] {0, ov, 0, r[1]});
        }
        return (int) r[0];
    }

    @Override
    public long createPort() {
        return PORT;
    }

    @Override
    public int associate(long port, long socket) {
        if (port != PORT || !associated.add(socket)) {
            throw new AssertionError("socket " + socket + " associated twice (or with another port)");
        }
        return 0;
    }

    @Override
    public boolean skipCompletionPortOnSuccess(long socket) {
        if (skipModeSupported) {
            skipMode.add(socket);
        }
        return skipModeSupported;
    }

    @Override
    public int recv(long socket, MemorySegment wsabufs, int count, MemorySegment transferred, MemorySegment flags,
                    MemorySegment overlapped) {
        return start("WSARecv", socket, overlapped, wsabufs, count, transferred);
    }

    @Override
    public int send(long socket, MemorySegment wsabufs, int count, MemorySegment transferred, MemorySegment overlapped) {
        return start("WSASend", socket, overlapped, wsabufs, count, transferred);
    }

    @Override
    public int acceptEx(long listen, long accepted, MemorySegment addresses, int addressRoom, MemorySegment transferred,
                        MemorySegment overlapped) {
        if (addresses.byteSize() < 2L * addressRoom) {
            throw new AssertionError("AcceptEx address room too small");
        }
        return start("AcceptEx", listen, overlapped, null, 0, transferred);
    }

    @Override
    public int connectEx(long socket, MemorySegment address, int addressLength, MemorySegment overlapped) {
        return start("ConnectEx", socket, overlapped, null, 0, null);
    }

    @Override
    public int updateAcceptContext(long accepted, long listen) {
        acceptContexts.add(accepted);
        return 0;
    }

    @Override
    public int updateConnectContext(long socket) {
        connectContexts.add(socket);
        return 0;
    }

    @Override
    public int cancel(long handle, MemorySegment overlapped) {
        calls.add("CancelIoEx " + handle);
        long ov = overlapped.address();
        if (!inFlight.containsKey(ov) || packetQueued.contains(ov)) {
            return -windows_h.ERROR_NOT_FOUND();
        }
        return 0;
    }

    @Override
    public int dequeue(long port, MemorySegment entries, int max, int timeoutMillis) {
        int n = 0;
        long[] p;
        while (n < max && (p = packets.poll()) != null) {
            MemorySegment e = OVERLAPPED_ENTRY.asSlice(entries, n);
            OVERLAPPED_ENTRY.lpCompletionKey(e, p[0]);
            OVERLAPPED_ENTRY.lpOverlapped(e, MemorySegment.ofAddress(p[1]));
            OVERLAPPED_ENTRY.Internal(e, p[2]);
            OVERLAPPED_ENTRY.dwNumberOfBytesTransferred(e, (int) p[3]);
            if (p[1] != 0) {
                inFlight.remove(p[1]);
                packetQueued.remove(p[1]);
            }
            n++;
        }
        return n;
    }

    @Override
    public int post(long port, long key) {
        posts++;
        packets.add(new long[] {key, 0, 0, 0});
        return 0;
    }

    @Override
    public int closePort(long port) {
        portClosed = true;
        return 0;
    }

    @Override
    public long socket(int family) {
        long s = nextSocket++;
        open.add(s);
        calls.add("socket " + family + " -> " + s);
        return s;
    }

    @Override
    public int bind(long socket, MemorySegment address, int length) {
        calls.add("bind " + socket + " family " + address.get(ValueLayout.JAVA_SHORT, 0));
        return 0;
    }

    @Override
    public int listen(long socket, int backlog) {
        return 0;
    }

    @Override
    public int setOption(long socket, int level, int name, int value) {
        return 0;
    }

    @Override
    public int setLinger(long socket, boolean on, int seconds) {
        return 0;
    }

    @Override
    public int localAddress(long socket, MemorySegment address) {
        address.fill((byte) 0);
        address.set(ValueLayout.JAVA_SHORT, 0, (short) windows_h.AF_INET6());
        return 28;
    }

    @Override
    public int remoteAddress(long socket, MemorySegment address) {
        return localAddress(socket, address);
    }

    @Override
    public int shutdown(long socket, int how) {
        return 0;
    }

    @Override
    public int closeSocket(long socket) {
        calls.add("closesocket " + socket);
        open.remove(socket);
        return 0;
    }
}
