package dev.panamio.sys;

import java.lang.foreign.MemorySegment;

/**
 * One operation handed to a backend: the submission's arguments and the backend's bookkeeping.
 *
 * <p>The core fills the argument fields, calls {@link IoBackend#submit(Op)}, and receives exactly one
 * {@link CompletionSink#complete} for it (multishot ops: one per result, the last without
 * {@link Completion#MORE}). Between submit and that completion the op and every segment it names belong to
 * the backend and the kernel: the core neither frees nor reuses them. Ops are confined to the loop thread.
 *
 * <p>Fields are public and mutable on purpose: the op is the hot path's only object, and it is reused.
 */
public class Op {
    /** {@link OpKind} constant. */
    public byte kind;
    /** The socket or file: a Linux fd, or a Windows SOCKET/HANDLE value. */
    public long handle;
    /** RECV/SEND/FILE_*: the memory lent to the kernel; {@code null} for kinds that lend nothing. */
    public MemorySegment buffer;
    /** Start of the bytes concerned within {@link #buffer}. */
    public long offset;
    /** Number of bytes concerned (RECV: room to fill; SEND: bytes to write). */
    public long length;
    /**
     * SENDV: room for {@code iovCount} native entries ({@code iovec} on Linux, {@code WSABUF} on Windows, both
     * 16 bytes), which the backend fills from {@link #gatherSegments}/{@link #gatherOffsets}/
     * {@link #gatherLengths} in its platform's format.
     */
    public MemorySegment iov;
    /** SENDV: number of buffers. */
    public int iovCount;
    /** SENDV: the buffers. */
    public MemorySegment[] gatherSegments;
    /** SENDV: start of the bytes in each buffer. */
    public long[] gatherOffsets;
    /** SENDV: number of bytes of each buffer. */
    public long[] gatherLengths;
    /** CONNECT: the target socket address; ACCEPT: room for the peer's address (may be null). */
    public MemorySegment addr;
    /** CONNECT: length of {@link #addr}'s address. */
    public int addrLen;
    /** FILE_READ/FILE_WRITE: position in the file. */
    public long fileOffset;

    /**
     * RECV_SELECT: the core takes every arrival until it cancels the op, so the backend may keep the receive
     * in the kernel (io_uring multishot): each result then carries {@link Completion#MORE}, the last none.
     */
    public boolean multishot;

    /** The op table's token: the backend passes it to the kernel (io_uring user_data, epoll data). */
    public long token;
    /** Set by the backend for RECV_SELECT completions: the buffer the kernel filled. */
    public SelectedBuffer selected;
    /** Backend-private state (for IOCP, the fixed-address op block that starts with the OVERLAPPED). */
    public Object backendState;
    /** Backend-private link for intrusive lists (epoll: the next op waiting on the same fd). */
    public Op backendNext;
    /** Backend-private flags. */
    public int backendFlags;
    /** Backend-private progress (epoll: bytes of a SEND already written while the op waits for more room). */
    public long backendProgress;
}
