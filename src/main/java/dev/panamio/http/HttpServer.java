package dev.panamio.http;

import dev.panamio.Buffer;
import dev.panamio.EventLoop;
import dev.panamio.NativeIoException;
import dev.panamio.ReadHandler;
import dev.panamio.TcpConnection;
import dev.panamio.TcpOptions;
import dev.panamio.TcpServer;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A small HTTP/1.1 server: keep-alive (HTTP/1.0 too, when asked for), pipelining (responses in request order),
 * {@code Content-Length} and chunked bodies (decoded as they arrive; trailer fields are dropped),
 * {@code Expect: 100-continue}, {@code HEAD} (the body's length, no body), and a {@code Date} on every response.
 *
 * <p>Refused, each answered and then closed: a transfer coding other than {@code chunked} 501; a head over 8 KiB
 * 431; a body over {@value #MAX_BODY} bytes (decoded, for a chunked one) 413; another expectation 417; an HTTP
 * version other than 1.x 505; a request that has not all arrived {@linkplain HttpServerOptions#requestTimeout()
 * within its deadline} of its first byte 408; an incomplete request holding more than a head's worth while the
 * server's connections together hold more than {@linkplain HttpServerOptions#maxBufferedBytes() their budget} 503;
 * a malformed request 400 — including the ambiguities request smuggling lives on (a space before a field's colon,
 * folded lines, bare CR or LF, a missing or repeated Host, a Content-Length that is not plain digits or that is
 * repeated, a Transfer-Encoding together with a Content-Length or in HTTP/1.0 or whose last coding is not a single
 * {@code chunked}, a chunk size with a sign or more than 8 hex digits, chunk data not followed by CRLF, a control
 * byte in a chunk line). A connection that closes after an answer shuts its output down and drops what the client
 * still sends for up to two seconds, so that the answer is not lost to a reset. A handler that throws gets a 500.
 * Idle connections close at the loop's read timeout.
 *
 * <p>Parsing works on the bytes read, with no per-line strings: a request costs its target, its field values,
 * and the request and response objects.
 *
 * {@snippet :
 * HttpServer.listen(loop, new InetSocketAddress("127.0.0.1", 8080), (req, res) -> res.send("Hello, World!"));
 * }
 */
public final class HttpServer {
    /** The largest request head (request line and header fields) accepted. */
    public static final int MAX_HEAD = 8192;
    /** The largest request body accepted. */
    public static final int MAX_BODY = 1 << 20;
    /** Requests read ahead of their responses before the server stops reading a pipelining client. */
    static final int MAX_PIPELINED = 64;
    /** How long a connection closing after an answer goes on reading (and dropping) what its client still sends. */
    static final java.time.Duration LINGER = java.time.Duration.ofSeconds(2);

    private TcpServer server;
    private final HttpServerOptions options;
    /** The Date line of responses: the wall clock is read once per second, not per response. */
    private final HttpDate.Cache date;
    /** Bytes of incomplete requests the connections hold together. */
    private long buffered;

    private HttpServer(EventLoop loop, HttpServerOptions options) {
        this.options = options;
        this.date = new HttpDate.Cache(loop);
    }

    /**
     * Listens on {@code address}. Loop thread (or before the loop runs).
     *
     * @param loop    the loop
     * @param address where to listen (port 0 for any)
     * @param handler answers each request
     * @return the server
     * @throws NativeIoException if the address cannot be bound
     */
    public static HttpServer listen(EventLoop loop, InetSocketAddress address, HttpHandler handler) throws NativeIoException {
        return listen(loop, address, HttpServerOptions.defaults(), handler);
    }

    /**
     * Listens on {@code address} with {@code options}. Loop thread (or before the loop runs).
     *
     * @param loop    the loop
     * @param address where to listen (port 0 for any)
     * @param options the request deadline and the budget of buffered requests
     * @param handler answers each request
     * @return the server
     * @throws NativeIoException if the address cannot be bound
     */
    public static HttpServer listen(EventLoop loop, InetSocketAddress address, HttpServerOptions options,
                                    HttpHandler handler) throws NativeIoException {
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(handler, "handler");
        HttpServer http = new HttpServer(loop, options);
        http.server = loop.listen(address, TcpOptions.defaults(), conn -> new Connection(http, conn, handler).start());
        return http;
    }

    /**
     * Returns the bytes of incomplete requests the server's connections hold now.
     *
     * @return bytes buffered, counted against {@link HttpServerOptions#maxBufferedBytes()}
     */
    public long bufferedBytes() {
        return buffered;
    }

    /**
     * Returns the bound address.
     *
     * @return the address the server listens on
     */
    public InetSocketAddress localAddress() {
        return server.localAddress();
    }

    /** Stops accepting; open connections finish their exchanges. */
    public void close() {
        server.close();
    }

    /** The head of a request whose body has not all arrived yet. */
    private static final class Head {
        String method;
        String target;
        String version;
        Map<String, String> headers;
        int bodyLength;
        /** The body is chunked: decoded here as it arrives. */
        ChunkedBody chunked;
        boolean keepAlive;
        boolean expectContinue;
    }

    static final class Connection implements ReadHandler {
        private static final byte[] EMPTY = new byte[0];
        private static final byte[] CONTINUE = "HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        private static final String[] METHODS = {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE"};
        /** Field names most requests carry, so that their lower-case names need no new string. */
        private static final String[] KNOWN_FIELDS = {"host", "user-agent", "accept", "accept-encoding",
            "accept-language", "connection", "content-length", "content-type", "transfer-encoding", "expect",
            "cookie", "authorization", "cache-control", "origin", "referer", "upgrade", "te", "pragma",
            "if-none-match", "if-modified-since", "x-forwarded-for"};
        private static final java.util.function.BiFunction<String, String, String> JOIN = (a, b) -> a + ", " + b;

        private final HttpServer server;
        private final TcpConnection conn;
        private final HttpHandler handler;
        /** Bytes of {@link #in} counted in the server's {@code buffered}. */
        private int counted;
        /** The deadline of the incomplete request in {@link #in}, if any. */
        private dev.panamio.Timer requestTimer;
        /** Requests dispatched so far; {@link #timerFor}: how many when the timer was set (which request it is for). */
        private long dispatched;
        private long timerFor;
        /** Responses in request order; each leaves when it and all before it are sent. */
        private final ArrayDeque<HttpResponse> exchanges = new ArrayDeque<>();
        private final Bytes in = new Bytes();
        /** A parsed head waiting for its body. */
        private Head head;
        private boolean closing; // no more requests: answer what is queued, then close
        private boolean paused;
        private boolean eof;
        /** Output shut down after the last answer; reading (and dropping) until the peer's FIN or the linger deadline. */
        private dev.panamio.Timer linger;

        Connection(HttpServer server, TcpConnection conn, HttpHandler handler) {
            this.server = server;
            this.conn = conn;
            this.handler = handler;
        }

        void start() {
            conn.onClose(this::closed);
            conn.startReading(this);
        }

        private void closed() {
            cancelRequestTimer();
            if (linger != null) {
                linger.cancel();
                linger = null;
            }
            server.buffered -= counted;
            counted = 0;
        }

        @Override
        public void onData(TcpConnection c, Buffer data) {
            if (closing) {
                data.release(); // no more requests are read: answers still due go out, then the close
                return;
            }
            in.append(data);
            parse();
            afterParse();
        }

        /** Counts what is left of the read against the server's budget, and keeps the request deadline. */
        private void afterParse() {
            int held = in.length + (head != null && head.chunked != null ? head.chunked.size() : 0);
            server.buffered += held - counted;
            counted = held;
            if (!closing && held > MAX_HEAD && server.buffered > server.options.maxBufferedBytes()) {
                reject(503);
            }
            watchIncompleteRequest();
        }

        /** Answers {@code status} after the answers already due, drops what was read, and closes then. */
        private void reject(int status) {
            head = null;
            in.consume(in.length);
            server.buffered -= counted;
            counted = 0;
            fail(status);
        }

        /** Keeps a deadline on the incomplete request in {@link #in}: from its first byte to its last. */
        private void watchIncompleteRequest() {
            // (While paused the server is the one not reading: no deadline runs against the client then.)
            boolean incomplete = !closing && !paused && (head != null || in.length > 0);
            if (!incomplete) {
                cancelRequestTimer();
                return;
            }
            java.time.Duration timeout = server.options.requestTimeout();
            if (timeout.equals(dev.panamio.Timeout.NONE) || (requestTimer != null && timerFor == dispatched)) {
                return; // none, or already running for this request
            }
            cancelRequestTimer();
            timerFor = dispatched;
            requestTimer = conn.loop().setTimeout(timeout, this::requestTimedOut).unref();
        }

        private void cancelRequestTimer() {
            if (requestTimer != null) {
                requestTimer.cancel();
                requestTimer = null;
            }
        }

        private void requestTimedOut() {
            requestTimer = null;
            if (!closing && !conn.isClosed()) {
                reject(408);
            }
        }

        /** The Date line for a response sent now. */
        byte[] date() {
            return server.date.now();
        }

        @Override
        public void onEof(TcpConnection c) {
            eof = true;
            closing = true;
            if (linger != null) {
                conn.close();
                return;
            }
            flush();
        }

        /**
         * Ends the connection after its last answer without losing that answer: closing a socket with unread
         * input makes the kernel send RST, which can destroy the answer before the client reads it (a client
         * still sending a body the server refused, say). So the output is shut down (FIN after the answer), and
         * what still comes in is read and dropped until the client's FIN, or for {@link #LINGER} at most.
         */
        private void closeAfterAnswers() {
            cancelRequestTimer();
            if (eof) {
                conn.close();
                return;
            }
            if (linger != null) {
                return;
            }
            conn.shutdownOutput();
            if (paused) {
                paused = false;
                conn.startReading(this);
            }
            linger = conn.loop().setTimeout(LINGER, conn::close).unref();
        }

        private void parse() {
            int start = 0;
            byte[] d = in.data;
            while (!closing) {
                if (head == null) {
                    // Empty lines before a request line are ignored (some clients end a body with CRLF).
                    while (in.length - start >= 2 && d[start] == '\r' && d[start + 1] == '\n') {
                        start += 2;
                    }
                    int end = in.headEnd(start);
                    if (end < 0) {
                        if (in.length - start > MAX_HEAD) {
                            fail(431);
                        }
                        break;
                    }
                    if (end - start > MAX_HEAD) {
                        fail(431);
                        break;
                    }
                    Head h = parseHead(d, start, end);
                    if (h == null) {
                        break; // answered with an error
                    }
                    head = h;
                    start = end + 4;
                }
                int next = head.chunked == null ? start : decodeChunked(start);
                if (next < 0) {
                    break; // refused
                }
                start = next;
                if (head.chunked != null ? !head.chunked.done() : in.length - start < head.bodyLength) {
                    if (head.expectContinue && exchanges.isEmpty() && !conn.isClosed()) {
                        head.expectContinue = false; // once; only when no earlier response is still due
                        conn.write(CONTINUE);
                    }
                    break; // the body is still coming
                }
                Head h = head;
                head = null;
                byte[] body = h.chunked != null ? h.chunked.body() : h.bodyLength == 0 ? EMPTY
                        : java.util.Arrays.copyOfRange(d, start, start + h.bodyLength);
                start += h.bodyLength; // (0 for a chunked body: decoding consumed it)
                if (!h.keepAlive) {
                    closing = true;
                }
                dispatch(new HttpRequest(h.method, h.target, h.version, h.headers, body), h);
            }
            in.consume(start);
            if (!paused && exchanges.size() >= MAX_PIPELINED && !conn.isClosed()) {
                paused = true;
                conn.stopReading();
            }
        }

        /** Decodes what has arrived of the head's chunked body from {@code start}: where it stopped, or -1 when refused. */
        private int decodeChunked(int start) {
            try {
                return head.chunked.decode(in, start);
            } catch (ChunkedBody.Malformed e) {
                head = null;
                fail(e.tooLarge ? 413 : 400);
                return -1;
            }
        }

        /**
         * Parses the head in {@code d[from, end)} ({@code end} is where its blank line's CRLF CRLF starts).
         * Strict where leniency lets a request mean two things to two parsers: a field name must be a token
         * (no space before the colon), no line folding, no bare CR or LF or other control bytes, one Host (and
         * one for HTTP/1.1), a Content-Length of digits only. Returns null after answering an error.
         */
        private Head parseHead(byte[] d, int from, int end) {
            int lineEnd = in.indexOf(Bytes.CRLF, from); // at most end: the head's blank line ends every line
            int sp1 = indexOf(d, from, lineEnd, (byte) ' ');
            int sp2 = sp1 < 0 ? -1 : indexOf(d, sp1 + 1, lineEnd, (byte) ' ');
            if (sp2 < 0 || sp1 == from || sp2 == sp1 + 1 || !tokens(d, from, sp1) || !visible(d, sp1 + 1, sp2)) {
                fail(400);
                return null;
            }
            String version = version(d, sp2 + 1, lineEnd);
            boolean http11 = "HTTP/1.1".equals(version);
            if (version == null) {
                fail(lineEnd - sp2 - 1 == 8 && startsWith(d, sp2 + 1, "HTTP/") ? 505 : 400);
                return null;
            }
            Head h = new Head();
            h.method = method(d, from, sp1);
            h.target = new String(d, sp1 + 1, sp2 - sp1 - 1, StandardCharsets.ISO_8859_1);
            h.version = version;
            Map<String, String> headers = new LinkedHashMap<>();
            int hosts = 0;
            for (int p = lineEnd + 2; p < end + 2; p = lineEnd + 2) {
                lineEnd = in.indexOf(Bytes.CRLF, p);
                int colon = indexOf(d, p, lineEnd, (byte) ':');
                if (colon <= p || !tokens(d, p, colon)) {
                    fail(400); // no name, a space before the colon, or a folded line
                    return null;
                }
                int vs = colon + 1;
                int ve = lineEnd;
                while (vs < ve && (d[vs] == ' ' || d[vs] == '\t')) {
                    vs++;
                }
                while (ve > vs && (d[ve - 1] == ' ' || d[ve - 1] == '\t')) {
                    ve--;
                }
                if (Bytes.controlAt(d, vs, ve) >= 0) {
                    fail(400);
                    return null;
                }
                String name = fieldName(d, p, colon);
                if (name.equals("host")) {
                    hosts++;
                }
                headers.merge(name, new String(d, vs, ve - vs, StandardCharsets.ISO_8859_1), JOIN);
            }
            if (hosts > 1 || (hosts == 0 && http11)) {
                fail(400);
                return null;
            }
            String te = headers.get("transfer-encoding");
            String cl = headers.get("content-length");
            if (te != null) {
                int status = transferCoding(te, http11, cl != null);
                if (status != 0) {
                    fail(status);
                    return null;
                }
                h.chunked = new ChunkedBody(MAX_BODY, MAX_HEAD);
            } else if (cl != null) {
                long n = Bytes.digits(cl);
                if (n < 0) {
                    fail(400);
                    return null;
                }
                if (n > MAX_BODY) {
                    fail(413);
                    return null;
                }
                h.bodyLength = (int) n;
            }
            String expect = headers.get("expect");
            if (expect != null) {
                if (!expect.equalsIgnoreCase("100-continue")) {
                    fail(417);
                    return null;
                }
                h.expectContinue = http11 && (h.bodyLength > 0 || h.chunked != null);
            }
            String connection = headers.get("connection");
            h.keepAlive = http11 ? !hasToken(connection, "close") : hasToken(connection, "keep-alive");
            h.headers = headers;
            return h;
        }

        /**
         * Whether a request's {@code Transfer-Encoding} can be read: 0 when it is exactly {@code chunked}, else
         * the status that refuses it. With a Content-Length as well, or in HTTP/1.0, or with chunked not last or
         * not once, where the body ends is not certain (400, RFC 9112 §6.1, §6.3); another coding is not
         * implemented (501).
         */
        private static int transferCoding(String te, boolean http11, boolean contentLength) {
            if (!http11 || contentLength) {
                return 400;
            }
            String[] codings = te.split(",", -1);
            int chunked = 0;
            for (String c : codings) {
                String coding = c.strip();
                if (coding.equalsIgnoreCase("chunked")) {
                    chunked++;
                } else if (!Bytes.isToken(coding)) {
                    return 400;
                }
            }
            if (chunked != 1 || !codings[codings.length - 1].strip().equalsIgnoreCase("chunked")) {
                return 400;
            }
            return codings.length == 1 ? 0 : 501;
        }

        private void dispatch(HttpRequest request, Head h) {
            dispatched++;
            HttpResponse response = new HttpResponse(this, !h.keepAlive, h.method.equals("HEAD"),
                    h.keepAlive && h.version.equals("HTTP/1.0"));
            exchanges.add(response);
            try {
                handler.handle(request, response);
            } catch (RuntimeException e) {
                if (!response.isSent()) {
                    response.status(500).send("internal error\n");
                }
            }
        }

        private void fail(int status) {
            HttpResponse x = new HttpResponse(this, true, false, false);
            exchanges.add(x);
            closing = true;
            x.status(status).send(HttpResponse.reason(status) + "\n");
        }

        void flush() {
            HttpResponse x;
            while ((x = exchanges.peek()) != null && x.bytes != null) {
                exchanges.poll();
                if (conn.isClosed()) {
                    continue;
                }
                conn.write(x.bytes);
                if (x.close) {
                    closing = true;
                    exchanges.clear();
                    closeAfterAnswers();
                    return;
                }
            }
            if (closing && exchanges.isEmpty() && !conn.isClosed()) {
                closeAfterAnswers();
                return;
            }
            if (head != null && head.expectContinue && exchanges.isEmpty() && !closing && !conn.isClosed()) {
                head.expectContinue = false; // the answers before it are out: the body may come now
                conn.write(CONTINUE);
            }
            if (paused && exchanges.size() < MAX_PIPELINED / 2 && !conn.isClosed()) {
                paused = false;
                conn.startReading(this);
                parse(); // requests already buffered
                afterParse();
            }
        }

        private static int indexOf(byte[] d, int from, int to, byte b) {
            for (int i = from; i < to; i++) {
                if (d[i] == b) {
                    return i;
                }
            }
            return -1;
        }

        /** Whether {@code d[from, to)} is all token characters. */
        private static boolean tokens(byte[] d, int from, int to) {
            for (int i = from; i < to; i++) {
                byte b = d[i];
                if (b < 0 || !Bytes.TCHAR[b]) {
                    return false;
                }
            }
            return true;
        }

        /** Whether {@code d[from, to)} is all visible ASCII (a request target). */
        private static boolean visible(byte[] d, int from, int to) {
            for (int i = from; i < to; i++) {
                if (d[i] <= 0x20 || d[i] == 0x7f) { // bytes >= 0x80 are negative
                    return false;
                }
            }
            return true;
        }

        private static boolean startsWith(byte[] d, int from, String s) {
            for (int i = 0; i < s.length(); i++) {
                if (d[from + i] != s.charAt(i)) {
                    return false;
                }
            }
            return true;
        }

        private static String version(byte[] d, int from, int to) {
            if (to - from != 8 || !startsWith(d, from, "HTTP/1.")) {
                return null;
            }
            return switch (d[from + 7]) {
                case '1' -> "HTTP/1.1";
                case '0' -> "HTTP/1.0";
                default -> null;
            };
        }

        private static String method(byte[] d, int from, int to) {
            for (String m : METHODS) {
                if (m.length() == to - from && startsWith(d, from, m)) {
                    return m;
                }
            }
            return new String(d, from, to - from, StandardCharsets.ISO_8859_1);
        }

        /** The field name in lower case: a shared string for common names. */
        private static String fieldName(byte[] d, int from, int to) {
            int n = to - from;
            known:
            for (String k : KNOWN_FIELDS) {
                if (k.length() != n) {
                    continue;
                }
                for (int i = 0; i < n; i++) {
                    if (lower(d[from + i]) != k.charAt(i)) {
                        continue known;
                    }
                }
                return k;
            }
            byte[] name = new byte[n];
            for (int i = 0; i < n; i++) {
                name[i] = lower(d[from + i]);
            }
            return new String(name, StandardCharsets.ISO_8859_1);
        }

        private static byte lower(byte b) {
            return b >= 'A' && b <= 'Z' ? (byte) (b + 32) : b;
        }

        /** Whether the comma-separated {@code list} holds {@code token}, any case. */
        static boolean hasToken(String list, String token) {
            if (list == null) {
                return false;
            }
            int i = 0;
            int n = list.length();
            while (i < n) {
                int comma = list.indexOf(',', i);
                int e = comma < 0 ? n : comma;
                int s = i;
                while (s < e && (list.charAt(s) == ' ' || list.charAt(s) == '\t')) {
                    s++;
                }
                int t = e;
                while (t > s && (list.charAt(t - 1) == ' ' || list.charAt(t - 1) == '\t')) {
                    t--;
                }
                if (t - s == token.length() && list.regionMatches(true, s, token, 0, token.length())) {
                    return true;
                }
                i = e + 1;
            }
            return false;
        }
    }
}
