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
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * A small HTTP/1.1 server: keep-alive, pipelining (responses in request order), {@code Content-Length}
 * bodies. Requests with a {@code Transfer-Encoding} body are answered 501; a head over 8 KiB 431; a body over
 * {@value #MAX_BODY} bytes 413; a malformed request 400; each of these closes the connection. A handler that
 * throws gets a 500. Idle connections close at the loop's read timeout.
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

    private final TcpServer server;

    private HttpServer(TcpServer server) {
        this.server = server;
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
        Objects.requireNonNull(handler, "handler");
        return new HttpServer(loop.listen(address, TcpOptions.defaults(), conn -> new Connection(conn, handler).start()));
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

    /** One request's place in its connection's response order. */
    static final class Exchange {
        private final Connection conn;
        private final boolean close;
        private byte[] bytes;

        Exchange(Connection conn, boolean close) {
            this.conn = conn;
            this.close = close;
        }

        void ready(byte[] response) {
            bytes = response;
            conn.flush();
        }
    }

    private static final class Connection implements ReadHandler {
        private final TcpConnection conn;
        private final HttpHandler handler;
        private final ArrayDeque<Exchange> exchanges = new ArrayDeque<>();
        private final Bytes in = new Bytes();
        private boolean closing; // no more requests: answer what is queued, then close
        private boolean paused;

        Connection(TcpConnection conn, HttpHandler handler) {
            this.conn = conn;
            this.handler = handler;
        }

        void start() {
            conn.startReading(this);
        }

        @Override
        public void onData(TcpConnection c, Buffer data) {
            in.append(data);
            parse();
        }

        @Override
        public void onEof(TcpConnection c) {
            closing = true;
            flush();
        }

        private void parse() {
            int start = 0;
            while (!closing) {
                int headEnd = in.indexOf("\r\n\r\n", start);
                if (headEnd < 0) {
                    if (in.length - start > MAX_HEAD) {
                        fail(431);
                    }
                    break;
                }
                if (headEnd - start > MAX_HEAD) {
                    fail(431);
                    break;
                }
                String head = new String(in.data, start, headEnd - start, StandardCharsets.ISO_8859_1);
                String[] lines = lines(head);
                String[] requestLine = lines[0].split(" ");
                if (requestLine.length != 3 || !requestLine[2].startsWith("HTTP/1.")) {
                    fail(400);
                    break;
                }
                Map<String, String> headers = new LinkedHashMap<>();
                boolean bad = false;
                for (int i = 1; i < lines.length; i++) {
                    int colon = lines[i].indexOf(':');
                    if (colon <= 0) {
                        bad = true;
                        break;
                    }
                    String name = lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT);
                    String value = lines[i].substring(colon + 1).trim();
                    headers.merge(name, value, (a, b) -> a + ", " + b);
                }
                if (bad) {
                    fail(400);
                    break;
                }
                if (headers.containsKey("transfer-encoding")) {
                    fail(501);
                    break;
                }
                long bodyLength = 0;
                String cl = headers.get("content-length");
                if (cl != null) {
                    try {
                        bodyLength = Long.parseLong(cl);
                    } catch (NumberFormatException e) {
                        bodyLength = -1;
                    }
                    if (bodyLength < 0) {
                        fail(400);
                        break;
                    }
                    if (bodyLength > MAX_BODY) {
                        fail(413);
                        break;
                    }
                }
                int bodyStart = headEnd + 4;
                if (in.length - bodyStart < bodyLength) {
                    break; // the body is still coming
                }
                byte[] body = java.util.Arrays.copyOfRange(in.data, bodyStart, bodyStart + (int) bodyLength);
                start = bodyStart + (int) bodyLength;
                String version = requestLine[2];
                String connection = headers.getOrDefault("connection", "").toLowerCase(Locale.ROOT);
                boolean keepAlive = version.equals("HTTP/1.1") ? !connection.contains("close") : connection.contains("keep-alive");
                dispatch(new HttpRequest(requestLine[0], requestLine[1], version, headers, body), !keepAlive);
                if (!keepAlive) {
                    closing = true;
                }
            }
            in.consume(start);
            if (!paused && exchanges.size() >= MAX_PIPELINED && !conn.isClosed()) {
                paused = true;
                conn.stopReading();
            }
        }

        private void dispatch(HttpRequest request, boolean close) {
            Exchange x = new Exchange(this, close);
            exchanges.add(x);
            HttpResponse response = new HttpResponse(x);
            try {
                handler.handle(request, response);
            } catch (RuntimeException e) {
                if (!response.isSent()) {
                    response.status(500).send("internal error\n");
                }
            }
        }

        private void fail(int status) {
            Exchange x = new Exchange(this, true);
            exchanges.add(x);
            closing = true;
            new HttpResponse(x).status(status).header("Connection", "close").send(HttpResponse.reason(status) + "\n");
        }

        void flush() {
            Exchange x;
            while ((x = exchanges.peek()) != null && x.bytes != null) {
                exchanges.poll();
                if (conn.isClosed()) {
                    continue;
                }
                conn.write(x.bytes);
                if (x.close) {
                    closing = true;
                    exchanges.clear();
                    conn.close();
                    return;
                }
            }
            if (closing && exchanges.isEmpty() && !conn.isClosed()) {
                conn.close();
                return;
            }
            if (paused && exchanges.size() < MAX_PIPELINED / 2 && !conn.isClosed()) {
                paused = false;
                conn.startReading(this);
                parse(); // requests already buffered
            }
        }

        /** The head's lines (split on CRLF without a regular expression: this runs once per request). */
        private static String[] lines(String head) {
            java.util.ArrayList<String> out = new java.util.ArrayList<>(8);
            int from = 0;
            int at;
            while ((at = head.indexOf("\r\n", from)) >= 0) {
                out.add(head.substring(from, at));
                from = at + 2;
            }
            out.add(head.substring(from));
            return out.toArray(new String[0]);
        }
    }
}
