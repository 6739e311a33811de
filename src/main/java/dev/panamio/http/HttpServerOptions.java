package dev.panamio.http;

import dev.panamio.Timeout;

import java.time.Duration;
import java.util.Objects;

/**
 * Options of an {@link HttpServer}. Immutable; each {@code withX} returns a copy.
 *
 * {@snippet :
 * HttpServerOptions opts = HttpServerOptions.defaults().withRequestTimeout(Duration.ofSeconds(10));
 * }
 */
public final class HttpServerOptions {
    private static final HttpServerOptions DEFAULTS = new HttpServerOptions(Duration.ofSeconds(60), 64L << 20);

    private final Duration requestTimeout;
    private final long maxBufferedBytes;

    private HttpServerOptions(Duration requestTimeout, long maxBufferedBytes) {
        this.requestTimeout = requestTimeout;
        this.maxBufferedBytes = maxBufferedBytes;
    }

    /**
     * A 60-second request deadline and 64 MiB of buffered partial requests per server.
     *
     * @return the defaults
     */
    public static HttpServerOptions defaults() {
        return DEFAULTS;
    }

    /**
     * Returns the request deadline.
     *
     * @return how long a request may take to arrive, from its first byte to its body's last
     */
    public Duration requestTimeout() {
        return requestTimeout;
    }

    /**
     * Returns a copy with another request deadline. A request whose head and body have not all arrived
     * this long after its first byte is answered 408 and its connection closed, however slowly it trickles
     * in (the loop's read timeout alone restarts with every byte, so it cannot stop a client that sends a
     * byte now and then).
     *
     * @param timeout positive, or {@link Timeout#NONE}
     * @return the copy
     */
    public HttpServerOptions withRequestTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (!timeout.equals(Timeout.NONE) && (timeout.isNegative() || timeout.isZero())) {
            throw new IllegalArgumentException("requestTimeout must be positive (or Timeout.NONE), was " + timeout);
        }
        return new HttpServerOptions(timeout, maxBufferedBytes);
    }

    /**
     * Returns the budget of buffered request bytes.
     *
     * @return the most bytes of requests not yet complete that the server's connections hold together
     */
    public long maxBufferedBytes() {
        return maxBufferedBytes;
    }

    /**
     * Returns a copy with another budget for buffered request bytes. A request's head and body are held on the
     * heap until the request is complete; when the server's connections together hold more than this, a
     * connection holding more than a head's worth ({@value HttpServer#MAX_HEAD} bytes) of an incomplete
     * request is answered 503 and closed. Many clients that each start a large body and then stall thus cost
     * a bounded amount of memory.
     *
     * @param bytes at least {@value HttpServer#MAX_HEAD}
     * @return the copy
     */
    public HttpServerOptions withMaxBufferedBytes(long bytes) {
        if (bytes < HttpServer.MAX_HEAD) {
            throw new IllegalArgumentException("maxBufferedBytes must be at least " + HttpServer.MAX_HEAD + ", was " + bytes);
        }
        return new HttpServerOptions(requestTimeout, bytes);
    }

    @Override
    public String toString() {
        return "HttpServerOptions[requestTimeout=" + requestTimeout + ", maxBufferedBytes=" + maxBufferedBytes + "]";
    }
}
