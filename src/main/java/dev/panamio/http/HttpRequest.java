package dev.panamio.http;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * A request received by an {@link HttpServer}.
 *
 * @param method  the method, e.g. {@code GET}
 * @param target  the request target, e.g. {@code /index.html?x=1}
 * @param version {@code HTTP/1.1} or {@code HTTP/1.0}
 * @param headers the header fields, names in lower case (a repeated field keeps its values joined by ", ")
 * @param body    the body ({@code Content-Length} bytes; empty when there is none)
 */
public record HttpRequest(String method, String target, String version, Map<String, String> headers, byte[] body) {
    /**
     * Returns a header field's value.
     *
     * @param name the field name, any case
     * @return its value, or null when absent
     */
    public String header(String name) {
        return headers.get(name.toLowerCase(java.util.Locale.ROOT));
    }

    /**
     * Returns the body as text.
     *
     * @return the body decoded as UTF-8
     */
    public String bodyText() {
        return new String(body, StandardCharsets.UTF_8);
    }
}
