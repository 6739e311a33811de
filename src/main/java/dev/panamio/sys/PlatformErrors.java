package dev.panamio.sys;

/** Names and classifies one platform's error codes (errno on Linux, GetLastError/WSA codes on Windows). */
public interface PlatformErrors {
    /** The symbolic name, e.g. {@code ECONNREFUSED}; {@code "E?"}-style text for unknown codes. */
    String name(int code);

    /** {@code NAME (number): message}, e.g. {@code ECONNREFUSED (111): Connection refused}. */
    String describe(int code);

    /** The portable class of {@code code}. */
    ErrorKind kind(int code);
}
