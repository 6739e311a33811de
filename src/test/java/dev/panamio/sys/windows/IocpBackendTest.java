package dev.panamio.sys.windows;

import dev.panamio.core.NativeMemory;
import dev.panamio.sys.ErrorKind;
import dev.panamio.sys.Op;
import dev.panamio.sys.OpKind;
import dev.panamio.sys.OpRegistry;
import dev.panamio.sys.windows.ffi.windows_h;
import dev.panamio.testing.LeakChecked;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The real IOCP backend's completion state machine, driven by a scripted completion port that replays the
 * sequences Windows produces: pending then packet, success at once with and without skip mode, cancel then
 * aborted packet, success after cancel, resets, immediate errors, zero-byte reads, AcceptEx and ConnectEx,
 * wakeups. Runs on any platform; the same class runs against kernel32/ws2_32 on Windows.
 */
@LeakChecked
class IocpBackendTest {
    private NativeMemory memory;
    private OpRegistry registry;
    private ScriptedIocp port;
    private IocpBackend backend;
    private final List<String> completions = new ArrayList<>();
    private long socket;

    @BeforeEach
    void open() {
        memory = new NativeMemory();
        registry = new OpRegistry();
        port = new ScriptedIocp();
        backend = new IocpBackend(port, memory, registry);
        socket = backend.sockets().openTcp(false);
    }

    @AfterEach
    void close() {
        backend.close();
        memory.close();
    }

    private Op op(byte kind) {
        Op op = new Op();
        op.kind = kind;
        op.handle = socket;
        registry.register(op);
        return op;
    }

    private Op recv(int length) {
        Op op = op(OpKind.RECV);
        op.buffer = memory.allocate(length, 8);
        op.offset = 0;
        op.length = length;
        return op;
    }

    private int poll() {
        return backend.poll(0, (op, result, flags) -> completions.add(name(op) + " " + result));
    }

    private static String name(Op op) {
        return OpKind.name(op.kind);
    }

    @Test
    void aPendingReadCompletesOnceFromItsPacketAndLendsTheBufferUntilThen() {
        Op op = recv(4096);
        backend.submit(op);
        ScriptedIocp.Io io = port.only();
        assertThat(io.call()).isEqualTo("WSARecv");
        assertThat(io.wsabufs().get(ValueLayout.JAVA_INT, 0)).isEqualTo(4096);
        assertThat(io.wsabufs().get(ValueLayout.JAVA_LONG, 8)).isEqualTo(op.buffer.address());
        assertThat(io.overlapped()).as("the op block starts with the OVERLAPPED").isEqualTo(IocpBackend.overlappedOf(op));
        assertThat(poll()).isZero();
        port.packet(io.overlapped(), WinErrors.STATUS_SUCCESS, 100);
        assertThat(poll()).isEqualTo(1);
        assertThat(completions).containsExactly("recv 100");
        assertThat(poll()).isZero();
        assertThat(op.backendState).as("the block went back with the completion").isNull();
    }

    @Test
    void successAtOnceInSkipModeCompletesWithoutAPacket() {
        port.nextResult(0, 42);
        Op op = recv(64);
        backend.submit(op);
        assertThat(port.inFlight).as("no packet will come").isEmpty();
        assertThat(poll()).isEqualTo(1);
        assertThat(completions).containsExactly("recv 42");
        assertThat(poll()).isZero();
    }

    @Test
    void successAtOnceWithoutSkipModeWaitsForThePacketAndCompletesOnce() {
        backend.close();
        port = new ScriptedIocp();
        port.skipModeSupported = false; // e.g. a non-IFS layered provider
        backend = new IocpBackend(port, memory, registry);
        socket = backend.sockets().openTcp(false);
        port.nextResult(0, 42);
        backend.submit(recv(64));
        assertThat(poll()).as("the packet is already queued").isEqualTo(1);
        assertThat(completions).containsExactly("recv 42");
        assertThat(poll()).isZero();
    }

    @Test
    void cancelThenAbortedPacket() {
        Op op = recv(64);
        backend.submit(op);
        ScriptedIocp.Io io = port.only();
        backend.cancel(op);
        assertThat(port.calls).contains("CancelIoEx " + socket);
        assertThat(op.backendState).as("memory stays lent until the packet").isNotNull();
        assertThat(poll()).isZero();
        port.packet(io.overlapped(), WinErrors.STATUS_CANCELLED, 0);
        poll();
        assertThat(completions).containsExactly("recv -" + windows_h.ERROR_OPERATION_ABORTED());
        assertThat(backend.errors().kind(windows_h.ERROR_OPERATION_ABORTED())).isEqualTo(ErrorKind.CANCELLED);
        assertThat(backend.errors().name(windows_h.ERROR_OPERATION_ABORTED())).isEqualTo("ERROR_OPERATION_ABORTED");
    }

    @Test
    void successAfterCancelCompletesWithItsResultOnce() {
        Op op = recv(64);
        backend.submit(op);
        ScriptedIocp.Io io = port.only();
        port.packet(io.overlapped(), WinErrors.STATUS_SUCCESS, 7); // it finished before the cancel
        backend.cancel(op); // CancelIoEx says ERROR_NOT_FOUND
        backend.cancel(op);
        poll();
        assertThat(completions).containsExactly("recv 7");
    }

    @Test
    void aResetPacketIsWsaeconnresetByName() {
        Op op = recv(64);
        backend.submit(op);
        port.packet(port.only().overlapped(), WinErrors.STATUS_CONNECTION_RESET, 0);
        poll();
        assertThat(completions).containsExactly("recv -" + windows_h.WSAECONNRESET());
        assertThat(backend.errors().name(windows_h.WSAECONNRESET())).isEqualTo("WSAECONNRESET");
        assertThat(backend.errors().kind(windows_h.WSAECONNRESET())).isEqualTo(ErrorKind.CONNECTION_RESET);
        assertThat(backend.errors().kind(windows_h.ERROR_NETNAME_DELETED())).isEqualTo(ErrorKind.CONNECTION_RESET);
        assertThat(backend.errors().describe(windows_h.WSAECONNREFUSED())).startsWith("WSAECONNREFUSED (10061)");
    }

    @Test
    void anImmediateErrorCompletesWithoutAPacket() {
        port.nextResult(-windows_h.WSAECONNRESET(), 0);
        backend.submit(recv(64));
        assertThat(port.inFlight).isEmpty();
        poll();
        assertThat(completions).containsExactly("recv -" + windows_h.WSAECONNRESET());
    }

    @Test
    void waitingForDataIsAZeroByteReadThatLendsNothing() {
        Op op = op(OpKind.POLL_READABLE);
        backend.submit(op);
        ScriptedIocp.Io io = port.only();
        assertThat(io.call()).isEqualTo("WSARecv");
        assertThat(io.wsabufs().get(ValueLayout.JAVA_INT, 0)).isZero();
        assertThat(io.wsabufs().get(ValueLayout.JAVA_LONG, 8)).isZero();
        port.packet(io.overlapped(), WinErrors.STATUS_SUCCESS, 0);
        poll();
        assertThat(completions).containsExactly("poll 0");
    }

    @Test
    void gatherSendFillsOneWsabufPerBuffer() {
        Op op = op(OpKind.SENDV);
        op.iov = memory.allocate(16 * 3, 8);
        op.iovCount = 3;
        op.gatherSegments = new MemorySegment[] {memory.allocate(10, 8), memory.allocate(20, 8), memory.allocate(30, 8)};
        op.gatherOffsets = new long[] {1, 2, 3};
        op.gatherLengths = new long[] {9, 18, 27};
        backend.submit(op);
        ScriptedIocp.Io io = port.only();
        assertThat(io.call()).isEqualTo("WSASend");
        assertThat(io.count()).isEqualTo(3);
        for (int i = 0; i < 3; i++) {
            assertThat(op.iov.get(ValueLayout.JAVA_INT, 16L * i)).isEqualTo((int) op.gatherLengths[i]);
            assertThat(op.iov.get(ValueLayout.JAVA_LONG, 16L * i + 8)).isEqualTo(op.gatherSegments[i].address() + op.gatherOffsets[i]);
        }
        port.packet(io.overlapped(), WinErrors.STATUS_SUCCESS, 54);
        poll();
        assertThat(completions).containsExactly("writev 54");
    }

    @Test
    void acceptExAcceptsIntoASocketMadeInAdvance() {
        long listener = socket;
        assertThat(backend.sockets().listen(listener, 128)).isZero();
        Op accept = op(OpKind.ACCEPT);
        backend.submit(accept);
        assertThat(port.only().call()).isEqualTo("AcceptEx");
        assertThat(port.calls).anyMatch(c -> c.startsWith("socket " + windows_h.AF_INET6()));
        long accepted = accept.backendProgress;
        port.packet(port.only().overlapped(), WinErrors.STATUS_SUCCESS, 0);
        poll();
        assertThat(completions).containsExactly("accept " + accepted);
        assertThat(port.acceptContexts).containsExactly(accepted);
        assertThat(backend.sockets().adopt(accepted)).isZero();
        assertThat(port.associated).contains(accepted);

        // An accept aborted by close: the socket made in advance is closed, not leaked.
        Op again = op(OpKind.ACCEPT);
        backend.submit(again);
        long premade = again.backendProgress;
        backend.cancel(again);
        port.packet(port.only().overlapped(), WinErrors.STATUS_CANCELLED, 0);
        poll();
        assertThat(port.open).doesNotContain(premade);
        assertThat(completions).last().isEqualTo("accept -" + windows_h.ERROR_OPERATION_ABORTED());
    }

    @Test
    void connectExBindsFirstAndUpdatesTheContext() throws Exception {
        Op connect = op(OpKind.CONNECT);
        connect.addr = memory.allocate(128, 8);
        connect.addrLen = backend.sockets().writeAddress(connect.addr,
                new InetSocketAddress(InetAddress.getByAddress(new byte[] {127, 0, 0, 1}), 8080));
        assertThat(connect.addrLen).isEqualTo(16);
        assertThat(connect.addr.get(ValueLayout.JAVA_SHORT, 0)).isEqualTo((short) windows_h.AF_INET());
        backend.submit(connect);
        assertThat(port.calls).containsSubsequence("bind " + socket + " family " + windows_h.AF_INET(), "ConnectEx " + socket);
        port.packet(port.only().overlapped(), WinErrors.STATUS_SUCCESS, 0);
        poll();
        assertThat(completions).containsExactly("connect 0");
        assertThat(port.connectContexts).containsExactly(socket);

        Op refused = op(OpKind.CONNECT);
        refused.addr = connect.addr;
        refused.addrLen = connect.addrLen;
        backend.submit(refused);
        port.packet(port.only().overlapped(), WinErrors.STATUS_CONNECTION_REFUSED, 0);
        poll();
        assertThat(completions).last().isEqualTo("connect -" + windows_h.WSAECONNREFUSED());
        assertThat(backend.errors().kind(windows_h.WSAECONNREFUSED())).isEqualTo(ErrorKind.CONNECTION_REFUSED);
    }

    @Test
    void wakeupsCoalesceIntoOnePacketUntilItIsSeen() {
        backend.wakeup();
        backend.wakeup();
        assertThat(port.posts).isEqualTo(1);
        assertThat(poll()).as("a wakeup completes no op").isZero();
        backend.wakeup();
        assertThat(port.posts).isEqualTo(2);
        poll();
        assertThat(completions).isEmpty();
    }

    @Test
    void blocksAreReusedOnlyAfterTheirPacket() {
        Op a = recv(64);
        backend.submit(a);
        long blockA = IocpBackend.overlappedOf(a);
        Op b = recv(64);
        backend.submit(b); // the scripted port throws if an OVERLAPPED in use were handed out again
        assertThat(IocpBackend.overlappedOf(b)).isNotEqualTo(blockA);
        port.packet(blockA, WinErrors.STATUS_SUCCESS, 1);
        poll();
        Op c = recv(64);
        backend.submit(c);
        assertThat(IocpBackend.overlappedOf(c)).isEqualTo(blockA);
        assertThat(backend.packetsPending()).isEqualTo(2);
        for (Op op : List.of(b, c)) {
            port.packet(IocpBackend.overlappedOf(op), WinErrors.STATUS_SUCCESS, 1);
        }
        poll();
        assertThat(completions).containsExactly("recv 1", "recv 1", "recv 1");
        assertThat(backend.packetsPending()).isZero();
    }

    @Test
    void closingWithPacketsOutstandingIsRefusedAndAfterwardsClosesThePort() {
        Op op = recv(64);
        backend.submit(op);
        assertThatThrownBy(backend::close).isInstanceOf(IllegalStateException.class).hasMessageContaining("pending");
        port.packet(port.only().overlapped(), WinErrors.STATUS_SUCCESS, 1);
        poll();
        backend = new IocpBackend(port, memory, registry); // the first one refused to close: use a fresh one for @AfterEach
        assertThat(port.portClosed).isFalse();
    }

    @Test
    void theRealApiRefusesToStartOffWindows() {
        if (!System.getProperty("os.name").startsWith("Windows")) {
            assertThatThrownBy(Win32Api::open).isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("Windows");
        }
    }
}
