package dev.panamio.http;

import dev.panamio.Buffer;
import dev.panamio.Callback;
import dev.panamio.EventLoop;
import dev.panamio.OperationTimeoutException;
import dev.panamio.ReadHandler;
import dev.panamio.TcpConnection;
import dev.panamio.Timer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A small HTTP/1.1 client: {@link #get} connects without blocking, writes the request, reads the response
 * ({@code Content-Length}, chunked, or until the server closes) and closes. One deadline covers the whole
 * exchange, name lookup included (a host name is resolved on the loop's blocking pool; an address literal
 * is used as is). {@code http} only.
 *
 * <p>A server cannot make it hold more than {@value #MAX_HEAD} bytes of head or {@value #MAX_BODY} bytes of
 * body, nor work more than once on any byte: the end of the head is searched for once however the head
 * arrives, and a chunked body is decoded as it comes. A chunk size or {@code Content-Length} with a sign or
 * other than digits is an error, not a guess.
 */
public final class HttpClient {
    /** The largest response body accepted. */
    public static final int MAX_BODY = 64 << 20;
    /** The largest response head (status line and header fields) accepted. */
    public static final int MAX_HEAD = 64 << 10;

    private HttpClient() {}

    /**
     * Fetches {@code uri}. Loop thread.
     *
     * @param loop     the loop
     * @param uri      an {@code http://} URI
     * @param timeout  the deadline for the whole exchange
     * @param callback receives the response, or the error ({@link OperationTimeoutException},
     *                 {@link dev.panamio.NativeIoException} such as {@code ECONNREFUSED}, {@link IOException}
     *                 for a malformed response or a lookup failure), exactly once
     * @throws IllegalArgumentException if the URI is not {@code http} with a host, or the timeout not positive
     */
    public static void get(EventLoop loop, URI uri, Duration timeout, Callback<HttpClientResponse> callback) {
        Objects.requireNonNull(loop, "loop");
        Objects.requireNonNull(uri, "uri");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(callback, "callback");
        if (!"http".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null) {
            throw new IllegalArgumentException("only http://host[:port]/... URIs are supported, got " + uri);
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, was " + timeout);
        }
        new Exchange(loop, uri, timeout, callback).start();
    }

    /**
     * {@link #get(EventLoop, URI, Duration, Callback)} as a stage, completed on the loop thread.
     *
     * @param loop    the loop
     * @param uri     an {@code http://} URI
     * @param timeout the deadline for the whole exchange
     * @return the response
     */
    public static CompletionStage<HttpClientResponse> get(EventLoop loop, URI uri, Duration timeout) {
        CompletableFuture<HttpClientResponse> f = new CompletableFuture<>();
        get(loop, uri, timeout, (r, e) -> {
            if (e != null) {
                f.completeExceptionally(e);
            } else {
                f.complete(r);
            }
        });
        return f;
    }

    private static final class Exchange implements ReadHandler {
        private final EventLoop loop;
        private final URI uri;
        private final Duration timeout;
        private final Callback<HttpClientResponse> callback;
        private Timer deadline;
        private TcpConnection conn;
        private boolean done;
        private final Bytes in = new Bytes();
        // parsed head
        private int status = -1;
        private Map<String, String> headers;
        // a chunked body, decoded as it arrives (what is decoded leaves the read buffer)
        private ChunkedBody chunks;

        Exchange(EventLoop loop, URI uri, Duration timeout, Callback<HttpClientResponse> callback) {
            this.loop = loop;
            this.uri = uri;
            this.timeout = timeout;
            this.callback = callback;
        }

        void start() {
            deadline = loop.setTimeout(timeout, () -> fail(new OperationTimeoutException("GET " + uri, timeout)));
            String host = uri.getHost();
            int port = uri.getPort() < 0 ? 80 : uri.getPort();
            if (isAddressLiteral(host)) {
                try {
                    connect(new InetSocketAddress(InetAddress.getByName(stripBrackets(host)), port));
                } catch (IOException e) {
                    fail(e);
                }
            } else {
                loop.submitBlocking(() -> InetAddress.getByName(host), (a, e) -> {
                    if (e != null) {
                        fail(e instanceof IOException ? e : new IOException("lookup " + host, e));
                    } else if (!done) {
                        connect(new InetSocketAddress(a, port));
                    }
                });
            }
        }

        private void connect(InetSocketAddress address) {
            loop.connect(address, timeout, (c, e) -> {
                if (e != null) {
                    fail(e);
                    return;
                }
                if (done) {
                    c.close();
                    return;
                }
                conn = c;
                String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
                if (uri.getRawQuery() != null) {
                    path += "?" + uri.getRawQuery();
                }
                String hostHeader = uri.getHost() + (uri.getPort() < 0 ? "" : ":" + uri.getPort());
                String request = "GET " + path + " HTTP/1.1\r\nHost: " + hostHeader
                        + "\r\nUser-Agent: panamio\r\nAccept: */*\r\nConnection: close\r\n\r\n";
                c.write(request.getBytes(StandardCharsets.ISO_8859_1), (v, we) -> {
                    if (we != null) {
                        fail(we);
                    }
                });
                c.startReading(this);
            });
        }

        @Override
        public void onData(TcpConnection c, Buffer data) {
            if (in.length + data.length() > MAX_BODY + 65536) {
                data.release();
                fail(new IOException("GET " + uri + ": response larger than " + MAX_BODY + " bytes"));
                return;
            }
            in.append(data);
            try {
                tryComplete(false);
            } catch (IOException e) {
                fail(e);
            }
        }

        @Override
        public void onEof(TcpConnection c) {
            try {
                if (!tryComplete(true)) {
                    fail(new IOException("GET " + uri + ": connection closed before the response was complete"));
                }
            } catch (IOException e) {
                fail(e);
            }
        }

        @Override
        public void onError(TcpConnection c, Throwable error) {
            fail(error);
        }

        /** Parses what has arrived; completes and returns true once the response is whole. */
        private boolean tryComplete(boolean eof) throws IOException {
            if (done) {
                return true;
            }
            if (status < 0) {
                int end = in.headEnd(0);
                if (end < 0) {
                    if (in.length > MAX_HEAD) {
                        throw new IOException("GET " + uri + ": response head larger than " + MAX_HEAD + " bytes");
                    }
                    return false;
                }
                String[] lines = new String(in.data, 0, end, StandardCharsets.ISO_8859_1).split("\r\n");
                String[] statusLine = lines[0].split(" ", 3);
                if (statusLine.length < 2 || !statusLine[0].startsWith("HTTP/1.") || statusLine[1].length() != 3
                        || Bytes.digits(statusLine[1]) < 0) {
                    throw new IOException("GET " + uri + ": malformed status line '" + lines[0] + "'");
                }
                status = Integer.parseInt(statusLine[1]);
                headers = new LinkedHashMap<>();
                for (int i = 1; i < lines.length; i++) {
                    int colon = lines[i].indexOf(':');
                    if (colon > 0) {
                        headers.merge(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
                                lines[i].substring(colon + 1).trim(), (a, b) -> a + ", " + b);
                    }
                }
                in.consume(end + 4); // the body starts at 0 from here on
            }
            byte[] body;
            String te = headers.get("transfer-encoding");
            String cl = headers.get("content-length");
            if (status == 204 || status == 304 || (status >= 100 && status < 200)) {
                body = new byte[0];
            } else if (te != null && te.toLowerCase(Locale.ROOT).contains("chunked")) {
                body = dechunk();
                if (body == null) {
                    return false;
                }
            } else if (cl != null) {
                long n = Bytes.digits(cl);
                if (n < 0) {
                    throw new IOException("GET " + uri + ": bad Content-Length '" + cl + "'");
                }
                if (n > MAX_BODY) {
                    throw new IOException("GET " + uri + ": Content-Length " + n + " out of range");
                }
                if (in.length < n) {
                    return false;
                }
                body = java.util.Arrays.copyOfRange(in.data, 0, (int) n);
            } else {
                if (!eof) {
                    return false; // the body ends when the server closes
                }
                body = java.util.Arrays.copyOfRange(in.data, 0, in.length);
            }
            succeed(new HttpClientResponse(status, headers, body));
            return true;
        }

        /**
         * Decodes what has arrived of a chunked body, once: decoded bytes leave the read buffer, so a body that
         * comes in many reads costs its length, not its length times the reads. Returns the body once the last
         * chunk and the trailer fields are in, else null.
         */
        private byte[] dechunk() throws IOException {
            if (chunks == null) {
                chunks = new ChunkedBody(MAX_BODY, MAX_HEAD);
            }
            int p = 0;
            try {
                p = chunks.decode(in, 0);
            } catch (ChunkedBody.Malformed e) {
                throw new IOException("GET " + uri + ": " + e.getMessage());
            } finally {
                in.consume(p);
            }
            return chunks.done() ? chunks.body() : null;
        }

        private void succeed(HttpClientResponse r) {
            if (done) {
                return;
            }
            done = true;
            deadline.cancel();
            if (conn != null) {
                conn.close();
            }
            callback.complete(r, null);
        }

        private void fail(Throwable e) {
            if (done) {
                return;
            }
            done = true;
            deadline.cancel();
            if (conn != null) {
                conn.abort();
            }
            callback.complete(null, e);
        }

        private static boolean isAddressLiteral(String host) {
            return host.startsWith("[") || host.chars().allMatch(ch -> ch == '.' || Character.isDigit(ch));
        }

        private static String stripBrackets(String host) {
            return host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
        }
    }
}
