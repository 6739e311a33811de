package dev.panamio.sys.linux;

import dev.panamio.sys.ErrorKind;
import dev.panamio.sys.PlatformErrors;
import dev.panamio.sys.linux.ffi.linux_h;

/**
 * Linux errno values by name and message, built once from the generated constants (so the numbers are the
 * ones the conformance check proved). Aliases ({@code EWOULDBLOCK} = {@code EAGAIN}, {@code ENOTSUP} =
 * {@code EOPNOTSUPP}) show under their primary name.
 */
public final class Errno implements PlatformErrors {
    /** The Linux table. */
    public static final Errno LINUX = new Errno();

    private static final int MAX = 256;
    private static final String[] NAMES = new String[MAX];
    private static final String[] MESSAGES = new String[MAX];

    static {
        put(linux_h.EPERM(), "EPERM", "Operation not permitted");
        put(linux_h.ENOENT(), "ENOENT", "No such file or directory");
        put(linux_h.EINTR(), "EINTR", "Interrupted system call");
        put(linux_h.EIO(), "EIO", "Input/output error");
        put(linux_h.EBADF(), "EBADF", "Bad file descriptor");
        put(linux_h.EAGAIN(), "EAGAIN", "Resource temporarily unavailable");
        put(linux_h.ENOMEM(), "ENOMEM", "Cannot allocate memory");
        put(linux_h.EACCES(), "EACCES", "Permission denied");
        put(linux_h.EFAULT(), "EFAULT", "Bad address");
        put(linux_h.EBUSY(), "EBUSY", "Device or resource busy");
        put(linux_h.EEXIST(), "EEXIST", "File exists");
        put(linux_h.EINVAL(), "EINVAL", "Invalid argument");
        put(linux_h.ENFILE(), "ENFILE", "Too many open files in system");
        put(linux_h.EMFILE(), "EMFILE", "Too many open files");
        put(linux_h.ENOSPC(), "ENOSPC", "No space left on device");
        put(linux_h.EPIPE(), "EPIPE", "Broken pipe");
        put(linux_h.ERANGE(), "ERANGE", "Numerical result out of range");
        put(linux_h.ENOSYS(), "ENOSYS", "Function not implemented");
        put(linux_h.ENOTSOCK(), "ENOTSOCK", "Socket operation on non-socket");
        put(linux_h.EDESTADDRREQ(), "EDESTADDRREQ", "Destination address required");
        put(linux_h.EMSGSIZE(), "EMSGSIZE", "Message too long");
        put(linux_h.EPROTOTYPE(), "EPROTOTYPE", "Protocol wrong type for socket");
        put(linux_h.ENOPROTOOPT(), "ENOPROTOOPT", "Protocol not available");
        put(linux_h.EPROTONOSUPPORT(), "EPROTONOSUPPORT", "Protocol not supported");
        put(linux_h.EOPNOTSUPP(), "EOPNOTSUPP", "Operation not supported");
        put(linux_h.EAFNOSUPPORT(), "EAFNOSUPPORT", "Address family not supported by protocol");
        put(linux_h.EADDRINUSE(), "EADDRINUSE", "Address already in use");
        put(linux_h.EADDRNOTAVAIL(), "EADDRNOTAVAIL", "Cannot assign requested address");
        put(linux_h.ENETDOWN(), "ENETDOWN", "Network is down");
        put(linux_h.ENETUNREACH(), "ENETUNREACH", "Network is unreachable");
        put(linux_h.ENETRESET(), "ENETRESET", "Network dropped connection on reset");
        put(linux_h.ECONNABORTED(), "ECONNABORTED", "Software caused connection abort");
        put(linux_h.ECONNRESET(), "ECONNRESET", "Connection reset by peer");
        put(linux_h.ENOBUFS(), "ENOBUFS", "No buffer space available");
        put(linux_h.EISCONN(), "EISCONN", "Transport endpoint is already connected");
        put(linux_h.ENOTCONN(), "ENOTCONN", "Transport endpoint is not connected");
        put(linux_h.ESHUTDOWN(), "ESHUTDOWN", "Cannot send after transport endpoint shutdown");
        put(linux_h.ETIMEDOUT(), "ETIMEDOUT", "Connection timed out");
        put(linux_h.ECONNREFUSED(), "ECONNREFUSED", "Connection refused");
        put(linux_h.EHOSTDOWN(), "EHOSTDOWN", "Host is down");
        put(linux_h.EHOSTUNREACH(), "EHOSTUNREACH", "No route to host");
        put(linux_h.EALREADY(), "EALREADY", "Operation already in progress");
        put(linux_h.EINPROGRESS(), "EINPROGRESS", "Operation now in progress");
        put(linux_h.ECANCELED(), "ECANCELED", "Operation canceled");
        put(linux_h.ETIME(), "ETIME", "Timer expired");
    }

    private static void put(int errno, String name, String message) {
        if (NAMES[errno] == null) {
            NAMES[errno] = name;
            MESSAGES[errno] = message;
        }
    }

    private Errno() {}

    /** The name of {@code errno}, e.g. {@code ECONNREFUSED}; {@code errno 200} for unknown values. */
    public static String nameOf(int errno) {
        return errno > 0 && errno < MAX && NAMES[errno] != null ? NAMES[errno] : "errno " + errno;
    }

    /** {@code NAME (number): message}, e.g. {@code ECONNREFUSED (111): Connection refused}. */
    public static String message(int errno) {
        if (errno > 0 && errno < MAX && NAMES[errno] != null) {
            return NAMES[errno] + " (" + errno + "): " + MESSAGES[errno];
        }
        return "errno " + errno;
    }

    @Override
    public String name(int code) {
        return nameOf(code);
    }

    @Override
    public String describe(int code) {
        return message(code);
    }

    @Override
    public ErrorKind kind(int code) {
        if (code == linux_h.ECANCELED()) {
            return ErrorKind.CANCELLED;
        } else if (code == linux_h.EAGAIN()) {
            return ErrorKind.WOULD_BLOCK;
        } else if (code == linux_h.EINTR()) {
            return ErrorKind.INTERRUPTED;
        } else if (code == linux_h.ECONNRESET()) {
            return ErrorKind.CONNECTION_RESET;
        } else if (code == linux_h.ECONNREFUSED()) {
            return ErrorKind.CONNECTION_REFUSED;
        } else if (code == linux_h.EPIPE()) {
            return ErrorKind.BROKEN_PIPE;
        } else if (code == linux_h.ETIMEDOUT()) {
            return ErrorKind.TIMED_OUT;
        } else if (code == linux_h.EMFILE() || code == linux_h.ENFILE()) {
            return ErrorKind.TOO_MANY_FILES;
        } else if (code == linux_h.ENOBUFS()) {
            return ErrorKind.NO_BUFFERS;
        }
        return ErrorKind.OTHER;
    }
}
