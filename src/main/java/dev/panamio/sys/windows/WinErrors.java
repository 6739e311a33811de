package dev.panamio.sys.windows;

import dev.panamio.sys.ErrorKind;
import dev.panamio.sys.PlatformErrors;
import dev.panamio.sys.windows.ffi.windows_h;

import java.util.HashMap;
import java.util.Map;

/**
 * Windows errors by name ({@code WSAECONNRESET}, {@code ERROR_OPERATION_ABORTED}, ...), with the kind the
 * loop acts on. Also maps the NTSTATUS a completion packet carries to the Win32/Winsock error a synchronous
 * call would have reported.
 */
public final class WinErrors implements PlatformErrors {
    /** NTSTATUS values of completion packets (ntstatus.h; not reachable through windows.h). */
    static final int STATUS_SUCCESS = 0;
    static final int STATUS_CANCELLED = 0xC0000120;
    static final int STATUS_CONNECTION_RESET = 0xC000020D;
    static final int STATUS_CONNECTION_REFUSED = 0xC0000236;
    static final int STATUS_CONNECTION_ABORTED = 0xC0000241;
    static final int STATUS_LOCAL_DISCONNECT = 0xC000013B;
    static final int STATUS_REMOTE_DISCONNECT = 0xC000013C;
    static final int STATUS_IO_TIMEOUT = 0xC00000B5;
    static final int STATUS_HOST_UNREACHABLE = 0xC000023D;
    static final int STATUS_NETWORK_UNREACHABLE = 0xC000023C;
    static final int STATUS_PORT_UNREACHABLE = 0xC000023F;
    static final int STATUS_INSUFFICIENT_RESOURCES = 0xC000009A;
    static final int STATUS_TOO_MANY_ADDRESSES = 0xC0000209;
    static final int STATUS_INVALID_HANDLE = 0xC0000008;

    static final WinErrors INSTANCE = new WinErrors();

    private final Map<Integer, String> names = new HashMap<>();

    private WinErrors() {
        for (String n : new String[] {"WSA_IO_PENDING", "ERROR_OPERATION_ABORTED", "ERROR_NETNAME_DELETED",
                "ERROR_CONNECTION_REFUSED", "ERROR_CONNECTION_ABORTED", "ERROR_PORT_UNREACHABLE", "ERROR_NETWORK_UNREACHABLE",
                "ERROR_HOST_UNREACHABLE", "ERROR_SEM_TIMEOUT", "ERROR_NOT_FOUND", "ERROR_INVALID_HANDLE",
                "ERROR_ABANDONED_WAIT_0", "ERROR_HANDLE_EOF", "ERROR_MORE_DATA", "ERROR_TOO_MANY_OPEN_FILES",
                "ERROR_NOT_ENOUGH_MEMORY", "WSAEINTR", "WSAEACCES", "WSAEINVAL", "WSAEMFILE", "WSAEWOULDBLOCK",
                "WSAENOTSOCK", "WSAEOPNOTSUPP", "WSAEADDRINUSE", "WSAEADDRNOTAVAIL", "WSAENETUNREACH", "WSAENETRESET",
                "WSAECONNABORTED", "WSAECONNRESET", "WSAENOBUFS", "WSAENOTCONN", "WSAESHUTDOWN", "WSAETIMEDOUT",
                "WSAECONNREFUSED", "WSAEHOSTUNREACH"}) {
            try {
                names.putIfAbsent((int) windows_h.class.getMethod(n).invoke(null), n);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    @Override
    public String name(int code) {
        String n = names.get(code);
        return n != null ? n : "WINERROR_" + code;
    }

    @Override
    public String describe(int code) {
        return name(code) + " (" + code + "): " + switch (kind(code)) {
            case CANCELLED -> "The I/O operation has been aborted";
            case CONNECTION_RESET -> "An existing connection was forcibly closed by the remote host";
            case CONNECTION_REFUSED -> "No connection could be made because the target machine actively refused it";
            case TIMED_OUT -> "The operation timed out";
            case TOO_MANY_FILES -> "Too many open sockets";
            case NO_BUFFERS -> "No buffer space is available";
            case WOULD_BLOCK -> "A non-blocking socket operation could not be completed immediately";
            case INTERRUPTED -> "A blocking operation was interrupted";
            case BROKEN_PIPE -> "The connection was shut down";
            case OTHER -> "Windows error";
        };
    }

    @Override
    public ErrorKind kind(int code) {
        if (code == windows_h.ERROR_OPERATION_ABORTED()) {
            return ErrorKind.CANCELLED;
        }
        if (code == windows_h.WSAECONNRESET() || code == windows_h.ERROR_NETNAME_DELETED()
                || code == windows_h.WSAECONNABORTED() || code == windows_h.ERROR_CONNECTION_ABORTED()
                || code == windows_h.WSAENETRESET() || code == windows_h.ERROR_PORT_UNREACHABLE()) {
            return ErrorKind.CONNECTION_RESET;
        }
        if (code == windows_h.WSAECONNREFUSED() || code == windows_h.ERROR_CONNECTION_REFUSED()) {
            return ErrorKind.CONNECTION_REFUSED;
        }
        if (code == windows_h.WSAESHUTDOWN() || code == windows_h.WSAENOTCONN()) {
            return ErrorKind.BROKEN_PIPE;
        }
        if (code == windows_h.WSAETIMEDOUT() || code == windows_h.ERROR_SEM_TIMEOUT()) {
            return ErrorKind.TIMED_OUT;
        }
        if (code == windows_h.WSAEMFILE() || code == windows_h.ERROR_TOO_MANY_OPEN_FILES()) {
            return ErrorKind.TOO_MANY_FILES;
        }
        if (code == windows_h.WSAENOBUFS() || code == windows_h.ERROR_NOT_ENOUGH_MEMORY()) {
            return ErrorKind.NO_BUFFERS;
        }
        if (code == windows_h.WSAEWOULDBLOCK()) {
            return ErrorKind.WOULD_BLOCK;
        }
        if (code == windows_h.WSAEINTR()) {
            return ErrorKind.INTERRUPTED;
        }
        return ErrorKind.OTHER;
    }

    /** The Winsock/Win32 error for a completion packet's NTSTATUS (0 for success). */
    static int fromNtStatus(int status) {
        return switch (status) {
            case STATUS_SUCCESS -> 0;
            case STATUS_CANCELLED -> windows_h.ERROR_OPERATION_ABORTED();
            case STATUS_CONNECTION_RESET, STATUS_REMOTE_DISCONNECT, STATUS_PORT_UNREACHABLE -> windows_h.WSAECONNRESET();
            case STATUS_CONNECTION_REFUSED -> windows_h.WSAECONNREFUSED();
            case STATUS_CONNECTION_ABORTED, STATUS_LOCAL_DISCONNECT -> windows_h.WSAECONNABORTED();
            case STATUS_IO_TIMEOUT -> windows_h.WSAETIMEDOUT();
            case STATUS_HOST_UNREACHABLE -> windows_h.WSAEHOSTUNREACH();
            case STATUS_NETWORK_UNREACHABLE -> windows_h.WSAENETUNREACH();
            case STATUS_INSUFFICIENT_RESOURCES -> windows_h.WSAENOBUFS();
            case STATUS_TOO_MANY_ADDRESSES -> windows_h.WSAEADDRINUSE();
            case STATUS_INVALID_HANDLE -> windows_h.ERROR_INVALID_HANDLE();
            default -> status > 0 ? 0 : windows_h.WSAEINVAL(); // informational/warning statuses are successes
        };
    }
}
