package dev.panamio.http;

import dev.panamio.Buffer;
import dev.panamio.Callback;
import dev.panamio.EventLoop;
import dev.panamio.OperationTimeoutException;
import dev.panamio.ReadHandler;
import dev.panamio.TcpConnection;
import dev.panamio.Timer;
import dev.panamio.core.Stages;

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
import java.util.concurrent.CompletionStage;

/**
 * A small HTTP/1.1 client: {@link #get} and {@link #request} connect without blocking, write the request (a
 * body goes with its {@code Content-Length}), read the response ({@code Content-Length}, chunked, or until
 * the server closes; interim 1xx responses such as 103 Early Hints are skipped; a response to {@code HEAD} has
 * no body) and close. One deadline covers the whole exchange, name lookup included (a host name is resolved on
 * the loop's blocking pool; an address literal is used as is). {@code http} only.
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
        request(loop, "GET", uri, Map.of(), null, timeout, callback);
    }

    /**
     * Sends a request with any method, header fields and body. Loop thread.
     *
     * @param loop     the loop
     * @param method   the method, a token such as {@code POST}, {@code PUT}, {@code DELETE} or {@code HEAD}
     * @param uri      an {@code http://} URI
     * @param headers  header fields to send (names are tokens; values hold no CR, LF or NUL). {@code Host},
     *                 {@code Content-Length}, {@code Transfer-Encoding} and {@code Connection} are the client's
     *                 own; {@code User-Agent} and {@code Accept} replace the client's defaults
     * @param body     the body, sent with its {@code Content-Length}; null for none
     * @param timeout  the deadline for the whole exchange
     * @param callback receives the response, or the error, exactly once (as for {@link #get})
     * @throws IllegalArgumentException if the method, a header field, the URI or the timeout is not acceptable
     */
    public static void request(EventLoop loop, String method, URI uri, Map<String, String> headers, byte[] body,
                               Duration timeout, Callback<HttpClientResponse> callback) {
        Objects.requireNonNull(loop, "loop");
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(uri, "uri");
        Objects.requireNonNull(headers, "headers");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(callback, "callback");
        if (!"http".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null) {
            throw new IllegalArgumentException("only http://host[:port]/... URIs are supported, got " + uri);
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive, was " + timeout);
        }
        if (!Bytes.isToken(method)) {
            throw new IllegalArgumentException("method must be a token, was '" + method + "'");
        }
        byte[] request = encodeRequest(method, uri, headers, body);
        new Exchange(loop, method, uri, request, timeout, callback).start();
    }

    /**
     * {@link #request(EventLoop, String, URI, Map, byte[], Duration, Callback)} as a stage, completed on the loop
     * thread.
     *
     * @param loop    the loop
     * @param method  the method
     * @param uri     an {@code http://} URI
     * @param headers header fields to send
     * @param body    the body; null for none
     * @param timeout the deadline for the whole exchange
     * @return the response
     */
    public static CompletionStage<HttpClientResponse> request(EventLoop loop, String method, URI uri,
                                                              Map<String, String> headers, byte[] body, Duration timeout) {
        return Stages.of(done -> request(loop, method, uri, headers, body, timeout, done));
    }

    /** Fields the client writes itself: a caller's would frame the message differently or name another host. */
    private static final java.util.Set<String> OWN_FIELDS = java.util.Set.of("host", "content-length", "transfer-encoding", "connection");

    /** The request's bytes: its head, then its body. */
    private static byte[] encodeRequest(String method, URI uri, Map<String, String> headers, byte[] body) {
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        if (uri.getRawQuery() != null) {
            path += "?" + uri.getRawQuery();
        }
        StringBuilder head = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: ")
                .append(uri.getHost()).append(uri.getPort() < 0 ? "" : ":" + uri.getPort()).append("\r\n");
        boolean userAgent = false;
        boolean accept = false;
        for (Map.Entry<String, String> field : headers.entrySet()) {
            String name = field.getKey();
            String value = Objects.requireNonNull(field.getValue(), "value of header " + name);
            String lower = name.toLowerCase(Locale.ROOT);
            if (!Bytes.isToken(name) || OWN_FIELDS.contains(lower)) {
                throw new IllegalArgumentException("header name '" + name + "' is not a token, or is the client's own");
            }
            if (value.chars().anyMatch(ch -> ch == '\r' || ch == '\n' || ch == 0 || ch > 0xff)) {
                throw new IllegalArgumentException("header " + name + ": the value holds CR, LF, NUL or a non-Latin-1 character");
            }
            userAgent |= lower.equals("user-agent");
            accept |= lower.equals("accept");
            head.append(name).append(": ").append(value).append("\r\n");
        }
        if (!userAgent) {
            head.append("User-Agent: panamio\r\n");
        }
        if (!accept) {
            head.append("Accept: */*\r\n");
        }
        if (body != null) {
            head.append("Content-Length: ").append(body.length).append("\r\n");
        }
        head.append("Connection: close\r\n\r\n");
        byte[] h = head.toString().getBytes(StandardCharsets.ISO_8859_1);
        if (body == null || body.length == 0) {
            return h;
        }
        byte[] all = java.util.Arrays.copyOf(h, h.length + body.length);
        System.arraycopy(body, 0, all, h.length, body.length);
        return all;
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
        return Stages.of(done -> get(loop, uri, timeout, done));
    }

    /** Interim responses accepted before the final one. */
    private static final int MAX_INTERIM = 16;

    private static final class Exchange implements ReadHandler {
        private final EventLoop loop;
        private final String method;
        private final URI uri;
        /** "METHOD uri", the start of every error's message. */
        private final String what;
        private final byte[] request;
        private final Duration timeout;
        private final Callback<HttpClientResponse> callback;
        private Timer deadline;
        private TcpConnection conn;
        private boolean done;
        private final Bytes in = new Bytes();
        // parsed head
        private int status = -1;
        /** Interim (1xx) responses skipped so far. */
        private int interim;
        private Map<String, String> headers;
        // a chunked body, decoded as it arrives (what is decoded leaves the read buffer)
        private ChunkedBody chunks;

        Exchange(EventLoop loop, String method, URI uri, byte[] request, Duration timeout, Callback<HttpClientResponse> callback) {
            this.loop = loop;
            this.method = method;
            this.uri = uri;
            this.what = method + " " + uri;
            this.request = request;
            this.timeout = timeout;
            this.callback = callback;
        }

        void start() {
            deadline = loop.setTimeout(timeout, () -> fail(new OperationTimeoutException(what, timeout)));
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
                c.write(request, (v, we) -> {
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
                fail(new IOException(what + ": response larger than " + MAX_BODY + " bytes"));
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
                    fail(new IOException(what + ": connection closed before the response was complete"));
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
            while (status < 0) {
                int end = in.headEnd(0);
                if (end < 0) {
                    if (in.length > MAX_HEAD) {
                        throw new IOException(what + ": response head larger than " + MAX_HEAD + " bytes");
                    }
                    return false;
                }
                String[] lines = new String(in.data, 0, end, StandardCharsets.ISO_8859_1).split("\r\n");
                String[] statusLine = lines[0].split(" ", 3);
                if (statusLine.length < 2 || !statusLine[0].startsWith("HTTP/1.") || statusLine[1].length() != 3
                        || Bytes.digits(statusLine[1]) < 0) {
                    throw new IOException(what + ": malformed status line '" + lines[0] + "'");
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
                if (status >= 100 && status < 200 && status != 101) {
                    // An interim response (100 Continue, 103 Early Hints): the final one follows.
                    if (++interim > MAX_INTERIM) {
                        throw new IOException(what + ": more than " + MAX_INTERIM + " interim responses");
                    }
                    status = -1;
                    headers = null;
                }
            }
            byte[] body;
            String te = headers.get("transfer-encoding");
            String cl = headers.get("content-length");
            if (status == 204 || status == 304 || status == 101 || method.equals("HEAD")) {
                body = new byte[0];
            } else if (te != null && te.toLowerCase(Locale.ROOT).contains("chunked")) {
                body = dechunk();
                if (body == null) {
                    return false;
                }
            } else if (cl != null) {
                long n = Bytes.digits(cl);
                if (n < 0) {
                    throw new IOException(what + ": bad Content-Length '" + cl + "'");
                }
                if (n > MAX_BODY) {
                    throw new IOException(what + ": Content-Length " + n + " out of range");
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
                throw new IOException(what + ": " + e.getMessage());
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
