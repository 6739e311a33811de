package dev.panamio.http;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The answer to one request: set the status and headers, then {@link #send} once. {@code Content-Length}
 * is set by the server. Loop thread only.
 */
public final class HttpResponse {
    private final HttpServer.Exchange exchange;
    private int status = 200;
    private final Map<String, String> headers = new LinkedHashMap<>();
    private boolean sent;

    HttpResponse(HttpServer.Exchange exchange) {
        this.exchange = exchange;
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
     * Adds a header field.
     *
     * @param name  the field name (no CR, LF or colon)
     * @param value the value (no CR or LF)
     * @return this response
     * @throws IllegalArgumentException if either would break the header
     */
    public HttpResponse header(String name, String value) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(value, "value");
        if (name.isEmpty() || hasAny(name, ":\r\n") || hasAny(value, "\r\n")) {
            throw new IllegalArgumentException("invalid header field " + name);
        }
        if (name.equalsIgnoreCase("content-length")) {
            throw new IllegalArgumentException("Content-Length is set by the server");
        }
        headers.put(name, value);
        return this;
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
        StringBuilder head = new StringBuilder(128);
        head.append("HTTP/1.1 ").append(status).append(' ').append(reason(status)).append("\r\n");
        headers.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
        head.append("Content-Length: ").append(body.length).append("\r\n\r\n");
        byte[] h = head.toString().getBytes(StandardCharsets.US_ASCII);
        byte[] all = new byte[h.length + body.length];
        System.arraycopy(h, 0, all, 0, h.length);
        System.arraycopy(body, 0, all, h.length, body.length);
        exchange.ready(all);
    }

    /**
     * Sends the response with a UTF-8 text body.
     *
     * @param body the text
     */
    public void send(String body) {
        if (!headers.containsKey("Content-Type")) {
            headers.put("Content-Type", "text/plain; charset=utf-8");
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

    private static boolean hasAny(String s, String chars) {
        for (int i = 0; i < s.length(); i++) {
            if (chars.indexOf(s.charAt(i)) >= 0) {
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
            case 411 -> "Length Required";
            case 413 -> "Content Too Large";
            case 431 -> "Request Header Fields Too Large";
            case 500 -> "Internal Server Error";
            case 501 -> "Not Implemented";
            default -> "Status";
        };
    }
}
