package dev.panamio;

import java.time.Duration;
import java.util.Objects;

/**
 * Options of a TCP server or connection. Immutable; each {@code withX} returns a copy.
 *
 * {@snippet :
 * TcpOptions opts = TcpOptions.defaults().withBacklog(4096).withReusePort(true);
 * }
 *
 * @see EventLoop#listen(java.net.InetSocketAddress, TcpOptions, java.util.function.Consumer)
 */
public final class TcpOptions {
    private static final TcpOptions DEFAULTS = new TcpOptions(1024, false, true, false, null, null, 64 * 1024, 32 * 1024, 0, 0, true);

    private final int backlog;
    private final boolean reusePort;
    private final boolean noDelay;
    private final boolean keepAlive;
    private final Duration readTimeout;
    private final Duration writeTimeout;
    private final int writeHighWatermark;
    private final int writeLowWatermark;
    private final int sendBufferSize;
    private final int receiveBufferSize;
    private final boolean readBackpressure;

    private TcpOptions(int backlog, boolean reusePort, boolean noDelay, boolean keepAlive, Duration readTimeout,
                       Duration writeTimeout, int writeHighWatermark, int writeLowWatermark, int sendBufferSize,
                       int receiveBufferSize, boolean readBackpressure) {
        this.backlog = backlog;
        this.reusePort = reusePort;
        this.noDelay = noDelay;
        this.keepAlive = keepAlive;
        this.readTimeout = readTimeout;
        this.writeTimeout = writeTimeout;
        this.writeHighWatermark = writeHighWatermark;
        this.writeLowWatermark = writeLowWatermark;
        this.sendBufferSize = sendBufferSize;
        this.receiveBufferSize = receiveBufferSize;
        this.readBackpressure = readBackpressure;
    }

    /**
     * Backlog 1024, SO_REUSEADDR on (always), SO_REUSEPORT off, TCP_NODELAY on, keep-alive off, the loop's
     * read and write timeouts, write watermarks 64 KiB high / 32 KiB low, read backpressure on.
     *
     * @return the defaults
     */
    public static TcpOptions defaults() {
        return DEFAULTS;
    }

    /**
     * Returns the listen backlog.
     *
     * @return the listen backlog
     */
    public int backlog() {
        return backlog;
    }

    /**
     * Returns whether SO_REUSEPORT is set (several loops can then share a port; Linux only).
     *
     * @return whether SO_REUSEPORT is set (several loops can then share a port; Linux only)
     */
    public boolean reusePort() {
        return reusePort;
    }

    /**
     * Returns whether TCP_NODELAY is set.
     *
     * @return whether TCP_NODELAY is set
     */
    public boolean noDelay() {
        return noDelay;
    }

    /**
     * Returns whether SO_KEEPALIVE is set.
     *
     * @return whether SO_KEEPALIVE is set
     */
    public boolean keepAlive() {
        return keepAlive;
    }

    /**
     * Returns the read timeout, or {@code null} for the loop's default.
     *
     * @return the read timeout, or {@code null} for the loop's default
     */
    public Duration readTimeout() {
        return readTimeout;
    }

    /**
     * Returns the write timeout, or {@code null} for the loop's default.
     *
     * @return the write timeout, or {@code null} for the loop's default
     */
    public Duration writeTimeout() {
        return writeTimeout;
    }

    /**
     * Returns bytes queued for writing at which a connection becomes unwritable.
     *
     * @return bytes queued for writing at which a connection becomes unwritable
     */
    public int writeHighWatermark() {
        return writeHighWatermark;
    }

    /**
     * Returns bytes queued at which an unwritable connection becomes writable again.
     *
     * @return bytes queued at which an unwritable connection becomes writable again
     */
    public int writeLowWatermark() {
        return writeLowWatermark;
    }

    /**
     * Returns a copy with that backlog.
     *
     * @param backlog pending connections the kernel keeps, at least 1
     * @return a copy with that backlog
     */
    public TcpOptions withBacklog(int backlog) {
        if (backlog < 1) {
            throw new IllegalArgumentException("backlog must be at least 1, was " + backlog);
        }
        return new TcpOptions(backlog, reusePort, noDelay, keepAlive, readTimeout, writeTimeout, writeHighWatermark, writeLowWatermark, sendBufferSize, receiveBufferSize, readBackpressure);
    }

    /**
     * Returns a copy.
     *
     * @param on whether to set SO_REUSEPORT
     * @return a copy
     */
    public TcpOptions withReusePort(boolean on) {
        return new TcpOptions(backlog, on, noDelay, keepAlive, readTimeout, writeTimeout, writeHighWatermark, writeLowWatermark, sendBufferSize, receiveBufferSize, readBackpressure);
    }

    /**
     * Returns a copy.
     *
     * @param on whether to set TCP_NODELAY
     * @return a copy
     */
    public TcpOptions withNoDelay(boolean on) {
        return new TcpOptions(backlog, reusePort, on, keepAlive, readTimeout, writeTimeout, writeHighWatermark, writeLowWatermark, sendBufferSize, receiveBufferSize, readBackpressure);
    }

    /**
     * Returns a copy.
     *
     * @param on whether to set SO_KEEPALIVE
     * @return a copy
     */
    public TcpOptions withKeepAlive(boolean on) {
        return new TcpOptions(backlog, reusePort, noDelay, on, readTimeout, writeTimeout, writeHighWatermark, writeLowWatermark, sendBufferSize, receiveBufferSize, readBackpressure);
    }

    /**
     * Returns a copy.
     *
     * @param timeout how long a read may wait for data, or {@link Timeout#NONE}
     * @return a copy
     */
    public TcpOptions withReadTimeout(Duration timeout) {
        Timeout.toNanos(timeout, "read");
        return new TcpOptions(backlog, reusePort, noDelay, keepAlive, timeout, writeTimeout, writeHighWatermark, writeLowWatermark, sendBufferSize, receiveBufferSize, readBackpressure);
    }

    /**
     * Returns a copy.
     *
     * @param timeout how long a write may take, or {@link Timeout#NONE}
     * @return a copy
     */
    public TcpOptions withWriteTimeout(Duration timeout) {
        Timeout.toNanos(timeout, "write");
        return new TcpOptions(backlog, reusePort, noDelay, keepAlive, readTimeout, timeout, writeHighWatermark, writeLowWatermark, sendBufferSize, receiveBufferSize, readBackpressure);
    }

    /**
     * Returns a copy.
     *
     * @param high bytes queued at which the connection becomes unwritable
     * @param low  bytes queued at which it becomes writable again ({@code 0 <= low < high})
     * @return a copy
     */
    public TcpOptions withWriteWatermarks(int high, int low) {
        if (high < 1 || low < 0 || low >= high) {
            throw new IllegalArgumentException("need 0 <= low < high, was low " + low + ", high " + high);
        }
        return new TcpOptions(backlog, reusePort, noDelay, keepAlive, readTimeout, writeTimeout, high, low, sendBufferSize, receiveBufferSize, readBackpressure);
    }

    /**
     * Returns SO_SNDBUF for connections, or 0 for the system's default (auto-tuned).
     *
     * @return SO_SNDBUF for connections, or 0 for the system's default (auto-tuned)
     */
    public int sendBufferSize() {
        return sendBufferSize;
    }

    /**
     * Returns SO_RCVBUF for connections, or 0 for the system's default (auto-tuned).
     *
     * @return SO_RCVBUF for connections, or 0 for the system's default (auto-tuned)
     */
    public int receiveBufferSize() {
        return receiveBufferSize;
    }

    /**
     * Returns a copy.
     *
     * @param sendBytes    SO_SNDBUF for connections (0: system default, auto-tuned)
     * @param receiveBytes SO_RCVBUF for connections (0: system default, auto-tuned)
     * @return a copy
     */
    public TcpOptions withSocketBuffers(int sendBytes, int receiveBytes) {
        if (sendBytes < 0 || receiveBytes < 0) {
            throw new IllegalArgumentException("socket buffer sizes must not be negative");
        }
        return new TcpOptions(backlog, reusePort, noDelay, keepAlive, readTimeout, writeTimeout, writeHighWatermark,
                writeLowWatermark, sendBytes, receiveBytes, readBackpressure);
    }

    /**
     * Returns whether an accepted connection's continuous read pauses while its writes are backed up: from the
     * moment its queued bytes reach the write high watermark until they fall to the low one. The kernel's
     * receive buffer then fills and TCP slows the peer, so a peer that sends without reading what it is sent
     * (to an echo, or pipelined requests) makes the connection hold at most about the high watermark, not
     * every answer to everything it sent. A peer that first writes everything and only then reads waits, as
     * with any server whose memory is bounded. Connections opened by {@code connect} never pause on their own:
     * a client that writes a large request and reads the reply as it comes would otherwise wait on a server
     * that waits on it. One-shot reads are not paused. While paused, the read's idle deadline is
     * off and the write deadline governs: writes that time out fail, and the read goes on. The pause is per
     * connection: a proxy that writes what it reads on A to B pauses A itself
     * ({@link TcpConnection#onWritabilityChanged} of B).
     *
     * @return whether read backpressure is on (the default)
     */
    public boolean readBackpressure() {
        return readBackpressure;
    }

    /**
     * Returns a copy.
     *
     * @param on whether a continuous read pauses while the connection is not writable (see {@link #readBackpressure()})
     * @return a copy
     */
    public TcpOptions withReadBackpressure(boolean on) {
        return new TcpOptions(backlog, reusePort, noDelay, keepAlive, readTimeout, writeTimeout, writeHighWatermark,
                writeLowWatermark, sendBufferSize, receiveBufferSize, on);
    }

    long readTimeoutNanos(long loopDefault) {
        return readTimeout == null ? loopDefault : Timeout.toNanos(readTimeout, "read");
    }

    long writeTimeoutNanos(long loopDefault) {
        return writeTimeout == null ? loopDefault : Timeout.toNanos(writeTimeout, "write");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TcpOptions t && t.backlog == backlog && t.reusePort == reusePort && t.noDelay == noDelay
                && t.keepAlive == keepAlive && Objects.equals(t.readTimeout, readTimeout)
                && Objects.equals(t.writeTimeout, writeTimeout) && t.writeHighWatermark == writeHighWatermark
                && t.writeLowWatermark == writeLowWatermark && t.sendBufferSize == sendBufferSize
                && t.receiveBufferSize == receiveBufferSize && t.readBackpressure == readBackpressure;
    }

    @Override
    public int hashCode() {
        return Objects.hash(backlog, reusePort, noDelay, keepAlive, readTimeout, writeTimeout, writeHighWatermark,
                writeLowWatermark, sendBufferSize, receiveBufferSize, readBackpressure);
    }

    @Override
    public String toString() {
        return "TcpOptions[backlog=" + backlog + ", reusePort=" + reusePort + ", noDelay=" + noDelay
                + ", keepAlive=" + keepAlive + ", readTimeout=" + readTimeout + ", writeTimeout=" + writeTimeout
                + ", writeWatermarks=" + writeHighWatermark + "/" + writeLowWatermark
                + ", socketBuffers=" + sendBufferSize + "/" + receiveBufferSize + ", readBackpressure=" + readBackpressure + "]";
    }
}
