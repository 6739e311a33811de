package dev.panamio.http;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * The answer to one request: set the status and headers, then {@link #send} once. {@code Content-Length} and
 * {@code Date} are set by the server, and {@code Connection} when the connection closes after this response
 * (or an HTTP/1.0 client asked to keep it). A handler that sets {@code Connection: close} ends the connection
 * after this response. Loop thread only.
 */
public final class HttpResponse {
    private final HttpServer.Connection owner;
    /** The connection closes after this response (the request or the handler said so, or an error). */
    boolean close;
    /** A HEAD request: the body's length is sent, the body is not. */
    private final boolean headRequest;
    /** An HTTP/1.0 request that asked for keep-alive: say that it is kept. */
    private final boolean keepAlive10;
    private int status = 200;
    /** Header fields set by the handler: name, value, name, value, … */
    private String[] fields;
    private int fieldCount;
    private boolean sent;
    /** The encoded response, once sent; written when every response before it is. */
    byte[] bytes;

    HttpResponse(HttpServer.Connection owner, boolean close, boolean headRequest, boolean keepAlive10) {
        this.owner = owner;
        this.close = close;
        this.headRequest = headRequest;
        this.keepAlive10 = keepAlive10;
    }

    /**
     * Sets the status code (200 unless set).
     *
     * @param code from 100 to 999
     * @return this response
     * @throws IllegalArgumentException if out of range
     */
    public HttpResponse status(int code) {
        if (code < 100 || code > 999) {
            throw new IllegalArgumentException("status must be 100..999, was " + code);
        }
        this.status = code;
        return this;
    }

    /**
     * Sets a header field (replacing one of the same name, any case).
     *
     * @param name  the field name (no CR, LF or colon)
     * @param value the value (no CR or LF)
     * @return this response
     * @throws IllegalArgumentException if either would break the header, or the name is one the server
     *                                  sets ({@code Content-Length}, {@code Date})
     */
    public HttpResponse header(String name, String value) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(value, "value");
        if (name.isEmpty() || breaksLine(name, true) || breaksLine(value, false)) {
            throw new IllegalArgumentException("invalid header field " + name);
        }
        if (name.equalsIgnoreCase("content-length") || name.equalsIgnoreCase("date")) {
            throw new IllegalArgumentException(name + " is set by the server");
        }
        int i = find(name);
        if (i >= 0) {
            fields[i + 1] = value;
            return this;
        }
        if (fields == null) {
            fields = new String[8];
        } else if (fieldCount == fields.length) {
            fields = Arrays.copyOf(fields, fieldCount * 2);
        }
        fields[fieldCount++] = name;
        fields[fieldCount++] = value;
        return this;
    }

    private int find(String name) {
        for (int i = 0; i < fieldCount; i += 2) {
            if (fields[i].equalsIgnoreCase(name)) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Sends the response with {@code body}.
     *
     * @param body the body bytes
     * @throws IllegalStateException if already sent
     */
    public void send(byte[] body) {
        Objects.requireNonNull(body, "body");
        if (sent) {
            throw new IllegalStateException("response already sent");
        }
        sent = true;
        String reason = reason(status);
        byte[] date = owner.date();
        int set = find("Connection");
        if (set >= 0 && HttpServer.Connection.hasToken(fields[set + 1], "close")) {
            close = true; // the handler ends the connection with this answer
        }
        String connection = set >= 0 ? null : close ? "close" : keepAlive10 ? "keep-alive" : null;
        int bodyBytes = headRequest ? 0 : body.length;
        int size = 9 + 3 + 1 + reason.length() + 2 + date.length + 16 + decimalLength(body.length) + 2 + 2 + bodyBytes;
        for (int i = 0; i < fieldCount; i += 2) {
            size += fields[i].length() + 2 + fields[i + 1].length() + 2;
        }
        if (connection != null) {
            size += 12 + connection.length() + 2;
        }
        byte[] out = new byte[size];
        int p = put(out, 0, "HTTP/1.1 ");
        p = putDecimal(out, p, status);
        out[p++] = ' ';
        p = crlf(out, put(out, p, reason));
        for (int i = 0; i < fieldCount; i += 2) {
            p = crlf(out, put(out, put(out, put(out, p, fields[i]), ": "), fields[i + 1]));
        }
        if (connection != null) {
            p = crlf(out, put(out, put(out, p, "Connection: "), connection));
        }
        System.arraycopy(date, 0, out, p, date.length);
        p += date.length;
        p = crlf(out, crlf(out, putDecimal(out, put(out, p, "Content-Length: "), body.length)));
        System.arraycopy(body, 0, out, p, bodyBytes);
        bytes = out;
        owner.flush();
    }

    /** Writes {@code n} (not negative) in decimal; returns the position after it. */
    private static int putDecimal(byte[] out, int p, int n) {
        int end = p + decimalLength(n);
        for (int i = end - 1; i >= p; i--, n /= 10) {
            out[i] = (byte) ('0' + n % 10);
        }
        return end;
    }

    private static int decimalLength(int n) {
        int d = 1;
        while (n >= 10) {
            n /= 10;
            d++;
        }
        return d;
    }

    /** Writes {@code s} as ISO-8859-1 (a char beyond it as '?'); returns the position after it. */
    private static int put(byte[] out, int p, String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            out[p++] = c < 256 ? (byte) c : (byte) '?';
        }
        return p;
    }

    private static int crlf(byte[] out, int p) {
        out[p] = '\r';
        out[p + 1] = '\n';
        return p + 2;
    }

    /**
     * Sends the response with a UTF-8 text body.
     *
     * @param body the text
     */
    public void send(String body) {
        if (find("Content-Type") < 0) {
            header("Content-Type", "text/plain; charset=utf-8");
        }
        send(body.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Returns whether {@link #send} has been called.
     *
     * @return whether the response was sent
     */
    public boolean isSent() {
        return sent;
    }

    /** Whether {@code s} holds CR or LF (or, in a name, a colon). */
    private static boolean breaksLine(String s, boolean name) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\r' || c == '\n' || (name && c == ':')) {
                return true;
            }
        }
        return false;
    }

    static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 201 -> "Created";
            case 204 -> "No Content";
            case 400 -> "Bad Request";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 408 -> "Request Timeout";
            case 411 -> "Length Required";
            case 413 -> "Content Too Large";
            case 417 -> "Expectation Failed";
            case 431 -> "Request Header Fields Too Large";
            case 500 -> "Internal Server Error";
            case 501 -> "Not Implemented";
            case 503 -> "Service Unavailable";
            case 505 -> "HTTP Version Not Supported";
            default -> "Status";
        };
    }
}
