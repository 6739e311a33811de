/**
 * panamio: a pure-Java native-I/O reactor over the Foreign Function and Memory API.
 *
 * <p>Only {@code dev.panamio} and {@code dev.panamio.http} are exported. The kernel-queue backends ({@code dev.panamio.sys.*}) and their
 * generated bindings are internal.
 */
module dev.panamio {
    exports dev.panamio;
    exports dev.panamio.http;
}
