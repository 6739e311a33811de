package dev.panamio.http;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * A response received by {@link HttpClient#get} or {@link HttpClient#request}.
 *
 * @param status  the status code
 * @param headers the header fields, names in lower case
 * @param body    the body, with any chunked transfer coding removed
 */
public record HttpClientResponse(int status, Map<String, String> headers, byte[] body) {
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
