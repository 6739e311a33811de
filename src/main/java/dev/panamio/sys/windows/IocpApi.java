package dev.panamio.sys.windows;

import java.lang.foreign.MemorySegment;

/**
 * The Windows calls the IOCP backend makes, one method each, so that the backend's completion logic runs
 * unchanged against the real kernel32/ws2_32 ({@link Win32Api}) and against a scripted completion source in
 * tests on any platform.
 *
 * <p>Convention: a result {@code >= 0} is success; a negative result is {@code -code} with {@code code} a
 * Windows error ({@code WSAECONNRESET}, {@code ERROR_NOT_FOUND}, ...). For the overlapped calls,
 * {@code -WSA_IO_PENDING} means "started: a completion packet will come".
 */
public interface IocpApi extends AutoCloseable {
    /** {@code CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 1)}: the port handle, or -error. */
    long createPort();

    /** Associates {@code socket} with {@code port} (completion key 0). */
    int associate(long port, long socket);

    /**
     * {@code SetFileCompletionNotificationModes(socket, SKIP_COMPLETION_PORT_ON_SUCCESS | SKIP_SET_EVENT)}.
     *
     * @return whether an operation that succeeds at once will <em>not</em> also post a packet
     */
    boolean skipCompletionPortOnSuccess(long socket);

    /**
     * {@code WSARecv}: 0 when it completed at once ({@code transferred} holds the bytes), {@code -WSA_IO_PENDING}
     * when a packet will come, else -error.
     */
    int recv(long socket, MemorySegment wsabufs, int count, MemorySegment transferred, MemorySegment flags,
             MemorySegment overlapped);

    /** {@code WSASend}, with the same results as {@link #recv}. */
    int send(long socket, MemorySegment wsabufs, int count, MemorySegment transferred, MemorySegment overlapped);

    /**
     * {@code AcceptEx} into the pre-made socket {@code accepted}; {@code addresses} has room for both
     * addresses. Same results as {@link #recv}.
     */
    int acceptEx(long listen, long accepted, MemorySegment addresses, int addressRoom, MemorySegment transferred,
                 MemorySegment overlapped);

    /** {@code ConnectEx} of a bound socket. Same results as {@link #recv}. */
    int connectEx(long socket, MemorySegment address, int addressLength, MemorySegment overlapped);

    /** {@code setsockopt(accepted, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, &listen)}. */
    int updateAcceptContext(long accepted, long listen);

    /** {@code setsockopt(socket, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, NULL, 0)}. */
    int updateConnectContext(long socket);

    /** {@code CancelIoEx}: 0 when requested, {@code -ERROR_NOT_FOUND} when nothing is left to cancel. */
    int cancel(long handle, MemorySegment overlapped);

    /**
     * {@code GetQueuedCompletionStatusEx}: fills up to {@code max} {@code OVERLAPPED_ENTRY}s.
     *
     * @param timeoutMillis 0 to poll, {@code -1} for INFINITE
     * @return entries removed (0 on timeout), or -error
     */
    int dequeue(long port, MemorySegment entries, int max, int timeoutMillis);

    /** {@code PostQueuedCompletionStatus(port, 0, key, NULL)}: a packet with no OVERLAPPED (a wakeup). Any thread. */
    int post(long port, long key);

    /** {@code CloseHandle(port)}. */
    int closePort(long port);

    // ------------------------------------------------------------------------------------------- sockets

    /** An overlapped, non-inheritable TCP socket of {@code family} (AF_INET or AF_INET6), or -error. */
    long socket(int family);

    /** {@code bind}. */
    int bind(long socket, MemorySegment address, int length);

    /** {@code listen}. */
    int listen(long socket, int backlog);

    /** {@code setsockopt} with an int value (SO_LINGER takes {@code struct linger}: see {@link #setLinger}). */
    int setOption(long socket, int level, int name, int value);

    /** {@code setsockopt(SOL_SOCKET, SO_LINGER)}. */
    int setLinger(long socket, boolean on, int seconds);

    /** {@code getsockname} into {@code address} (room: {@code SOCKADDR_STORAGE}); the length, or -error. */
    int localAddress(long socket, MemorySegment address);

    /** {@code getpeername}, as {@link #localAddress}. */
    int remoteAddress(long socket, MemorySegment address);

    /** {@code shutdown}. */
    int shutdown(long socket, int how);

    /** {@code closesocket}. */
    int closeSocket(long socket);

    /** Releases what the API itself holds (Winsock's {@code WSACleanup}). */
    @Override
    default void close() {
    }
}
