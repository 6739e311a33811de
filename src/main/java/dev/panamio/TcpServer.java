package dev.panamio;

import dev.panamio.core.CoreOp;
import dev.panamio.core.Handle;
import dev.panamio.core.LoopCore;
import dev.panamio.sys.Completion;
import dev.panamio.sys.ErrorKind;
import dev.panamio.sys.OpKind;
import dev.panamio.sys.Sockets;

import java.net.InetSocketAddress;
import java.util.function.Consumer;

/**
 * A listening TCP socket ({@link EventLoop#listen}). Accepted connections go to the accept handler on the
 * loop thread, already reading nothing: call {@link TcpConnection#startReading} in the handler.
 *
 * <p>Out of descriptors ({@code EMFILE}/{@code ENFILE}): the server stops accepting for
 * {@value #ACCEPT_BACKOFF_MILLIS} ms and tries again, so the loop does not spin while the kernel keeps the
 * pending connections in its backlog; existing connections are unaffected.
 *
 * <p>Thread-safety: loop thread only, except {@link #localAddress()}.
 */
public final class TcpServer extends Handle {
    /** How long accepting pauses when the process is out of descriptors. */
    static final long ACCEPT_BACKOFF_MILLIS = 100;

    private final EventLoop loop;
    private final LoopCore core;
    private final long handle;
    private final TcpOptions options;
    private final Consumer<TcpConnection> onAccept;
    private final InetSocketAddress localAddress;
    private final AcceptOp accept;
    private boolean closing;
    private boolean closed;
    private boolean referenced = true;
    private long accepted;
    private Timer backoff;

    private TcpServer(EventLoop loop, long handle, TcpOptions options, Consumer<TcpConnection> onAccept,
                      InetSocketAddress localAddress) {
        this.loop = loop;
        this.core = loop.core();
        this.handle = handle;
        this.options = options;
        this.onAccept = onAccept;
        this.localAddress = localAddress;
        this.accept = new AcceptOp(core);
    }

    static TcpServer open(EventLoop loop, InetSocketAddress address, TcpOptions options,
                          Consumer<TcpConnection> onAccept) throws NativeIoException {
        LoopCore core = loop.core();
        Sockets sockets = core.backend().sockets();
        long fd = sockets.openTcp(address.getAddress() instanceof java.net.Inet6Address);
        if (fd < 0) {
            throw IoErrors.exception(core, "socket", fd);
        }
        try {
            check(core, sockets.setOption(fd, Sockets.SocketOption.REUSE_ADDRESS, 1), "setsockopt SO_REUSEADDR");
            if (options.reusePort()) {
                check(core, sockets.setOption(fd, Sockets.SocketOption.REUSE_PORT, 1), "setsockopt SO_REUSEPORT");
            }
            check(core, sockets.bind(fd, address), "bind " + TcpConnection.format(address));
            check(core, sockets.listen(fd, options.backlog()), "listen " + TcpConnection.format(address));
        } catch (NativeIoException e) {
            sockets.close(fd);
            throw e;
        }
        InetSocketAddress local = sockets.localAddress(fd);
        TcpServer server = new TcpServer(loop, fd, options, onAccept, local != null ? local : address);
        core.handles().add(server);
        core.ref();
        server.accept.start();
        return server;
    }

    private static void check(LoopCore core, long result, String call) throws NativeIoException {
        if (result < 0) {
            throw IoErrors.exception(core, call, result);
        }
    }

    /**
     * Returns the address the server is bound to (with the real port when 0 was asked for). Any thread.
     *
     * @return the address the server is bound to (with the real port when 0 was asked for). Any thread.
     */
    public InetSocketAddress localAddress() {
        return localAddress;
    }

    /**
     * Returns the number of connections accepted so far.
     *
     * @return the number of connections accepted so far
     */
    public long acceptedCount() {
        return accepted;
    }

    /**
     * Returns whether the server is closed or closing.
     *
     * @return whether the server is closed or closing
     */
    public boolean isClosed() {
        return closing;
    }

    /**
     * Stops this server from keeping {@link EventLoop#run()} alive.
     *
     * @return this server
     */
    public TcpServer unref() {
        core.checkThread();
        if (referenced && !closing) {
            referenced = false;
            core.unref();
        }
        return this;
    }

    /**
     * Makes this server keep the loop alive again (the default).
     *
     * @return this server
     */
    public TcpServer ref() {
        core.checkThread();
        if (!referenced && !closing) {
            referenced = true;
            core.ref();
        }
        return this;
    }

    /**
     * Stops listening. Connections already accepted stay open. Idempotent. The socket is closed once the
     * pending accept has been cancelled and its completion observed.
     */
    public void close() {
        core.checkThread();
        if (closing) {
            return;
        }
        closing = true;
        if (referenced) {
            referenced = false;
            core.unref();
        }
        if (backoff != null) {
            backoff.cancel();
        }
        accept.cancel();
        finishIfIdle();
    }

    private void finishIfIdle() {
        if (closing && !closed && !accept.isPending()) {
            closed = true;
            accept.dispose();
            core.backend().sockets().close(handle);
            core.handles().remove(this);
        }
    }

    @Override
    protected void closeForShutdown() {
        close();
    }

    @Override
    public String toString() {
        return "TcpServer[" + TcpConnection.format(localAddress) + (closing ? ", closed" : "") + "]";
    }

    /** The accept op, resubmitted after each connection (or kept in the kernel where multishot). */
    private final class AcceptOp extends CoreOp {
        AcceptOp(LoopCore loop) {
            super(loop);
            kind = OpKind.ACCEPT;
            handle = TcpServer.this.handle;
        }

        void start() {
            if (!closing && !isPending()) {
                submit(0); // waiting for connections has no deadline: accepted ones get read timeouts
            }
        }

        @Override
        protected void onComplete(long result, int flags) {
            if (result >= 0) {
                onAccepted(result);
            } else {
                ErrorKind kind = IoErrors.kind(core, result);
                if (closing || kind == ErrorKind.CANCELLED) {
                    finishIfIdle();
                    return;
                }
                if (kind == ErrorKind.TOO_MANY_FILES || kind == ErrorKind.NO_BUFFERS) {
                    if ((flags & Completion.MORE) == 0) {
                        backoff = TcpServer.this.loop.setTimeout(java.time.Duration.ofMillis(ACCEPT_BACKOFF_MILLIS), this::start);
                        backoff.unref();
                    }
                    return;
                }
                core.reportError(IoErrors.exception(core, "accept " + TcpConnection.format(localAddress), result));
            }
            if (closing) {
                finishIfIdle();
            } else if ((flags & Completion.MORE) == 0) {
                start();
            }
        }

        @Override
        protected void onDequeued(boolean timedOut) {
            // Accept lends nothing, so it is never queued at the gate.
        }
    }

    private void onAccepted(long fd) {
        Sockets sockets = core.backend().sockets();
        if (closing) {
            sockets.close(fd);
            return;
        }
        if (sockets.adopt(fd) < 0) {
            sockets.close(fd);
            return;
        }
        accepted++;
        TcpConnection conn = TcpConnection.accepted(loop, fd, options);
        core.invoke(() -> onAccept.accept(conn));
    }
}
