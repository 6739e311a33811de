/**
 * Linux bindings in jextract's output shape, extracted from {@code native-headers/linux/panamio_linux.h}.
 *
 * <p>Regenerate with {@code scripts/jextract linux}, which runs:
 * <pre>
 * jextract --target-package dev.panamio.sys.linux.ffi --header-class-name linux_h \
 *     --output generated/linux -D _GNU_SOURCE \
 *     @native-headers/linux/includes.args native-headers/linux/panamio_linux.h
 * </pre>
 * where {@code includes.args} is made from {@code functions.txt}, {@code structs.txt} and
 * {@code constants.txt} ({@code --include-function}, {@code --include-struct}/{@code --include-union},
 * {@code --include-constant}), and then {@code java scripts/JextractLazyLink.java} on {@code linux_h.java}, so
 * that each function links on first use rather than when the header class is first touched (this halves
 * {@code EventLoop.create()}'s cold start). Do not edit these files by hand: hand-written code lives in
 * {@code dev.panamio.sys.linux}. {@code LinuxBindingsConformanceTest} proves every layout, constant and
 * signature here against the platform's C compiler.
 */
package dev.panamio.sys.linux.ffi;
