package dev.panamio.sys;

/** Portable classes of platform errors, so the core can react without knowing errno or GetLastError. */
public enum ErrorKind {
    /** The op was cancelled (ECANCELED, ERROR_OPERATION_ABORTED). */
    CANCELLED,
    /** Nothing to do now (EAGAIN/EWOULDBLOCK, WSAEWOULDBLOCK); try after readiness. */
    WOULD_BLOCK,
    /** Interrupted system call; retry. */
    INTERRUPTED,
    /** ECONNRESET, WSAECONNRESET, ERROR_NETNAME_DELETED. */
    CONNECTION_RESET,
    /** ECONNREFUSED, WSAECONNREFUSED, ERROR_CONNECTION_REFUSED. */
    CONNECTION_REFUSED,
    /** EPIPE, WSAESHUTDOWN. */
    BROKEN_PIPE,
    /** ETIMEDOUT from the kernel itself. */
    TIMED_OUT,
    /** EMFILE/ENFILE, WSAEMFILE: out of descriptors. */
    TOO_MANY_FILES,
    /** ENOBUFS: the provided-buffer ring ran dry. */
    NO_BUFFERS,
    /** Anything else. */
    OTHER
}
