/**
 * panamio: a pure-Java native-I/O reactor over the Foreign Function and Memory API.
 *
 * <p>Only {@code dev.panamio} and {@code dev.panamio.http} are exported. The kernel-queue backends ({@code dev.panamio.sys.*}) and their
 * generated bindings are internal.
 */
module dev.panamio {
    requires jdk.jfr;
    exports dev.panamio;
    exports dev.panamio.http;
    // JDK Flight Recorder events live in the internal core package.
    exports dev.panamio.core to jdk.jfr;
}
