package dev.panamio.sys.windows;

import dev.panamio.sys.windows.ffi.GUID;
import dev.panamio.sys.windows.ffi.WSADATA;
import dev.panamio.sys.windows.ffi.windows_h;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * {@link IocpApi} on kernel32 and ws2_32 through the generated bindings. Errors come from
 * {@code GetLastError}/{@code WSAGetLastError} captured right after each call
 * ({@code Linker.Option.captureCallState}), never from a later call that could have overwritten them.
 * {@code AcceptEx} and {@code ConnectEx} are looked up with {@code WSAIoctl(SIO_GET_EXTENSION_FUNCTION_POINTER)}.
 * Windows only: creating one elsewhere fails with {@link UnsupportedOperationException}.
 */
public final class Win32Api implements IocpApi {
    /** {@code WSAID_ACCEPTEX} (mswsock.h). */
    static final byte[] WSAID_ACCEPTEX = guid(0xb5367df1, (short) 0xcbac, (short) 0x11cf,
            new byte[] {(byte) 0x95, (byte) 0xca, 0x00, (byte) 0x80, 0x5f, 0x48, (byte) 0xa1, (byte) 0x92});
    /** {@code WSAID_CONNECTEX} (mswsock.h). */
    static final byte[] WSAID_CONNECTEX = guid(0x25a207b9, (short) 0xddf3, (short) 0x4660,
            new byte[] {(byte) 0x8e, (byte) 0xe9, 0x76, (byte) 0xe5, (byte) 0x8c, 0x74, 0x06, 0x3e});

    /** {@code LPFN_ACCEPTEX}: BOOL (SOCKET, SOCKET, PVOID, DWORD, DWORD, DWORD, LPDWORD, LPOVERLAPPED). */
    static final FunctionDescriptor ACCEPTEX = FunctionDescriptor.of(windows_h.C_INT, windows_h.C_LONG_LONG,
            windows_h.C_LONG_LONG, windows_h.C_POINTER, windows_h.C_LONG, windows_h.C_LONG, windows_h.C_LONG,
            windows_h.C_POINTER, windows_h.C_POINTER);
    /** {@code LPFN_CONNECTEX}: BOOL (SOCKET, const struct sockaddr *, int, PVOID, DWORD, LPDWORD, LPOVERLAPPED). */
    static final FunctionDescriptor CONNECTEX = FunctionDescriptor.of(windows_h.C_INT, windows_h.C_LONG_LONG,
            windows_h.C_POINTER, windows_h.C_INT, windows_h.C_POINTER, windows_h.C_LONG, windows_h.C_POINTER,
            windows_h.C_POINTER);

    private static final long INVALID = -1L;

    private final Arena arena = Arena.ofShared();
    private final StructLayout captureLayout = Linker.Option.captureStateLayout();
    private final VarHandle lastError = captureLayout.varHandle(MemoryLayout.PathElement.groupElement("GetLastError"));
    private final VarHandle wsaError = captureLayout.varHandle(MemoryLayout.PathElement.groupElement("WSAGetLastError"));
    /** In an automatic arena: passing it to a call then costs no session acquire/release (see LinuxSys). */
    private final MemorySegment state = Arena.ofAuto().allocate(captureLayout);
    private final MemorySegment scratch = arena.allocate(64, 8);

    private final MethodHandle createIoCompletionPort = k("CreateIoCompletionPort");
    private final MethodHandle getQueuedCompletionStatusEx = k("GetQueuedCompletionStatusEx");
    private final MethodHandle cancelIoEx = k("CancelIoEx");
    private final MethodHandle closeHandle = k("CloseHandle");
    private final MethodHandle wsaRecv = w("WSARecv");
    private final MethodHandle wsaSend = w("WSASend");
    private final MethodHandle wsaSocketW = w("WSASocketW");
    private final MethodHandle wsaIoctl = w("WSAIoctl");
    private final MethodHandle bind = w("bind");
    private final MethodHandle listen = w("listen");
    private final MethodHandle setsockopt = w("setsockopt");
    private final MethodHandle getsockname = w("getsockname");
    private final MethodHandle getpeername = w("getpeername");
    private final MethodHandle shutdown = w("shutdown");
    private final MethodHandle closesocket = w("closesocket");
    private final MethodHandle acceptEx;
    private final MethodHandle connectEx;
    private boolean closed;

    /**
     * Loads ws2_32 and kernel32, starts Winsock 2.2 and looks up the extension functions.
     *
     * @return the API
     * @throws UnsupportedOperationException when not on Windows
     * @throws IllegalStateException if Winsock refuses
     */
    public static Win32Api open() {
        if (!System.getProperty("os.name", "").startsWith("Windows")) {
            throw new UnsupportedOperationException("the IOCP backend needs Windows; this is " + System.getProperty("os.name"));
        }
        // The generated bindings look symbols up in the libraries this class loader has loaded.
        System.loadLibrary("kernel32");
        System.loadLibrary("ws2_32");
        return new Win32Api();
    }

    private Win32Api() {
        MemorySegment data = arena.allocate(WSADATA.layout());
        int rc = windows_h.WSAStartup((short) 0x0202, data);
        if (rc != 0) {
            throw new IllegalStateException("WSAStartup: " + WinErrors.INSTANCE.describe(rc));
        }
        long probe = socket(windows_h.AF_INET());
        if (probe < 0) {
            throw new IllegalStateException("WSASocketW: " + WinErrors.INSTANCE.describe((int) -probe));
        }
        try {
            acceptEx = extension(probe, WSAID_ACCEPTEX, ACCEPTEX);
            connectEx = extension(probe, WSAID_CONNECTEX, CONNECTEX);
        } finally {
            closeSocket(probe);
        }
    }

    private static MethodHandle handle(MemorySegment address, FunctionDescriptor d, String errorSource) {
        return Linker.nativeLinker().downcallHandle(address, d, Linker.Option.captureCallState(errorSource));
    }

    /** kernel32 functions report through GetLastError. */
    private static MethodHandle k(String name) {
        return generated(name, "GetLastError");
    }

    /** ws2_32 functions report through WSAGetLastError. */
    private static MethodHandle w(String name) {
        return generated(name, "WSAGetLastError");
    }

    /** The generated binding's address and descriptor, with its error captured right after the call. */
    private static MethodHandle generated(String name, String errorSource) {
        try {
            var h = windows_h.class;
            MemorySegment addr = (MemorySegment) h.getMethod(name + "$address").invoke(null);
            FunctionDescriptor d = (FunctionDescriptor) h.getMethod(name + "$descriptor").invoke(null);
            return handle(addr, d, errorSource);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private MethodHandle extension(long socket, byte[] guid, FunctionDescriptor d) {
        MemorySegment g = arena.allocate(GUID.layout());
        MemorySegment.copy(MemorySegment.ofArray(guid), 0, g, 0, 16);
        MemorySegment fn = arena.allocate(ValueLayout.ADDRESS);
        MemorySegment bytes = arena.allocate(ValueLayout.JAVA_INT);
        int rc;
        try {
            rc = (int) wsaIoctl.invokeExact(state, socket, windows_h.SIO_GET_EXTENSION_FUNCTION_POINTER(), g,
                    (int) g.byteSize(), fn, (int) ValueLayout.ADDRESS.byteSize(), bytes, MemorySegment.NULL, MemorySegment.NULL);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        if (rc != 0) {
            throw new IllegalStateException("WSAIoctl(SIO_GET_EXTENSION_FUNCTION_POINTER): "
                    + WinErrors.INSTANCE.describe(wsaError()));
        }
        return handle(fn.get(ValueLayout.ADDRESS, 0), d, "WSAGetLastError");
    }

    private int lastError() {
        return (int) lastError.get(state, 0L);
    }

    private int wsaError() {
        return (int) wsaError.get(state, 0L);
    }

    private static MemorySegment h(long handle) {
        return MemorySegment.ofAddress(handle);
    }

    static byte[] guid(int data1, short data2, short data3, byte[] data4) {
        MemorySegment g = MemorySegment.ofArray(new byte[16]);
        g.set(ValueLayout.JAVA_INT_UNALIGNED, 0, data1);
        g.set(ValueLayout.JAVA_SHORT_UNALIGNED, 4, data2);
        g.set(ValueLayout.JAVA_SHORT_UNALIGNED, 6, data3);
        MemorySegment.copy(MemorySegment.ofArray(data4), 0, g, 8, 8);
        return g.toArray(ValueLayout.JAVA_BYTE);
    }

    // ------------------------------------------------------------------------------------------- ports

    @Override
    public long createPort() {
        try {
            MemorySegment p = (MemorySegment) createIoCompletionPort.invokeExact(state, h(INVALID), MemorySegment.NULL, 0L, 1);
            return p.address() == 0 ? -lastError() : p.address();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    @Override
    public int associate(long port, long socket) {
        try {
            MemorySegment p = (MemorySegment) createIoCompletionPort.invokeExact(state, h(socket), h(port), 0L, 0);
            return p.address() == 0 ? -lastError() : 0;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    @Override
    public boolean skipCompletionPortOnSuccess(long socket) {
        int modes = windows_h.FILE_SKIP_COMPLETION_PORT_ON_SUCCESS() | windows_h.FILE_SKIP_SET_EVENT_ON_HANDLE();
        return windows_h.SetFileCompletionNotificationModes(h(socket), (byte) modes) != 0;
    }

    @Override
    public int recv(long socket, MemorySegment wsabufs, int count, MemorySegment transferred, MemorySegment flags,
                    MemorySegment overlapped) {
        try {
            int rc = (int) wsaRecv.invokeExact(state, socket, wsabufs, count, transferred, flags, overlapped, MemorySegment.NULL);
            return rc == 0 ? 0 : -wsaError();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    @Override
    public int send(long socket, MemorySegment wsabufs, int count, MemorySegment transferred, MemorySegment overlapped) {
        try {
            int rc = (int) wsaSend.invokeExact(state, socket, wsabufs, count, transferred, 0, overlapped, MemorySegment.NULL);
            return rc == 0 ? 0 : -wsaError();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    @Override
    public int acceptEx(long listen, long accepted, MemorySegment addresses, int addressRoom, MemorySegment transferred,
                        MemorySegment overlapped) {
        try {
            int ok = (int) acceptEx.invokeExact(state, listen, accepted, addresses, 0, addressRoom, addressRoom, transferred, overlapped);
            return ok != 0 ? 0 : -wsaError();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    @Override
    public int connectEx(long socket, MemorySegment address, int addressLength, MemorySegment overlapped) {
        try {
            int ok = (int) connectEx.invokeExact(state, socket, address, addressLength, MemorySegment.NULL, 0,
                    MemorySegment.NULL, overlapped);
            return ok != 0 ? 0 : -wsaError();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    @Override
    public int updateAcceptContext(long accepted, long listen) {
        scratch.set(ValueLayout.JAVA_LONG, 0, listen);
        return setsockopt(accepted, windows_h.SOL_SOCKET(), windows_h.SO_UPDATE_ACCEPT_CONTEXT(), scratch, 8);
    }

    @Override
    public int updateConnectContext(long socket) {
        return setsockopt(socket, windows_h.SOL_SOCKET(), windows_h.SO_UPDATE_CONNECT_CONTEXT(), MemorySegment.NULL, 0);
    }

    @Override
    public int cancel(long handle, MemorySegment overlapped) {
        try {
            int ok = (int) cancelIoEx.invokeExact(state, h(handle), overlapped);
            return ok != 0 ? 0 : -lastError();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    @Override
    public int dequeue(long port, MemorySegment entries, int max, int timeoutMillis) {
        MemorySegment removed = scratch.asSlice(8, 4);
        try {
            int ok = (int) getQueuedCompletionStatusEx.invokeExact(state, h(port), entries, max, removed, timeoutMillis, 0);
            if (ok != 0) {
                return removed.get(ValueLayout.JAVA_INT, 0);
            }
            int e = lastError();
            return e == windows_h.WAIT_TIMEOUT() ? 0 : -e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    @Override
    public int post(long port, long key) {
        // Any thread: no error capture into the shared state segment.
        return windows_h.PostQueuedCompletionStatus(h(port), 0, key, MemorySegment.NULL) != 0 ? 0 : -1;
    }

    @Override
    public int closePort(long port) {
        try {
            int ok = (int) closeHandle.invokeExact(state, h(port));
            return ok != 0 ? 0 : -lastError();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    // ------------------------------------------------------------------------------------------- sockets

    @Override
    public long socket(int family) {
        try {
            long s = (long) wsaSocketW.invokeExact(state, family, windows_h.SOCK_STREAM(), windows_h.IPPROTO_TCP(),
                    MemorySegment.NULL, 0, windows_h.WSA_FLAG_OVERLAPPED() | windows_h.WSA_FLAG_NO_HANDLE_INHERIT());
            return s == INVALID ? -wsaError() : s;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    @Override
    public int bind(long socket, MemorySegment address, int length) {
        try {
            return (int) bind.invokeExact(state, socket, address, length) == 0 ? 0 : -wsaError();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    @Override
    public int listen(long socket, int backlog) {
        try {
            return (int) listen.invokeExact(state, socket, backlog) == 0 ? 0 : -wsaError();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private int setsockopt(long socket, int level, int name, MemorySegment value, int length) {
        try {
            return (int) setsockopt.invokeExact(state, socket, level, name, value, length) == 0 ? 0 : -wsaError();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    @Override
    public int setOption(long socket, int level, int name, int value) {
        scratch.set(ValueLayout.JAVA_INT, 16, value);
        return setsockopt(socket, level, name, scratch.asSlice(16, 4), 4);
    }

    @Override
    public int setLinger(long socket, boolean on, int seconds) {
        MemorySegment linger = scratch.asSlice(16, 4); // struct linger { u_short l_onoff; u_short l_linger; }
        linger.set(ValueLayout.JAVA_SHORT, 0, (short) (on ? 1 : 0));
        linger.set(ValueLayout.JAVA_SHORT, 2, (short) seconds);
        return setsockopt(socket, windows_h.SOL_SOCKET(), windows_h.SO_LINGER(), linger, 4);
    }

    private int name(MethodHandle call, long socket, MemorySegment address) {
        MemorySegment len = scratch.asSlice(24, 4);
        len.set(ValueLayout.JAVA_INT, 0, (int) address.byteSize());
        try {
            int rc = (int) call.invokeExact(state, socket, address, len);
            return rc == 0 ? len.get(ValueLayout.JAVA_INT, 0) : -wsaError();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    @Override
    public int localAddress(long socket, MemorySegment address) {
        return name(getsockname, socket, address);
    }

    @Override
    public int remoteAddress(long socket, MemorySegment address) {
        return name(getpeername, socket, address);
    }

    @Override
    public int shutdown(long socket, int how) {
        try {
            return (int) shutdown.invokeExact(state, socket, how) == 0 ? 0 : -wsaError();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    @Override
    public int closeSocket(long socket) {
        try {
            return (int) closesocket.invokeExact(state, socket) == 0 ? 0 : -wsaError();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            windows_h.WSACleanup();
            arena.close();
        }
    }
}
