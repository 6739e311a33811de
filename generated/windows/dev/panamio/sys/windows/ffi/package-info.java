/**
 * Windows bindings in jextract's output shape (kernel32 and ws2_32), extracted from
 * {@code native-headers/windows/panamio_windows.h}.
 *
 * <p>Regenerate with {@code scripts/jextract windows}, which runs:
 * <pre>
 * jextract --target-package dev.panamio.sys.windows.ffi --header-class-name windows_h \
 *     --output generated/windows -D _WIN64 -D WIN32_LEAN_AND_MEAN \
 *     @native-headers/windows/includes.args native-headers/windows/panamio_windows.h
 * </pre>
 * where {@code includes.args} is made from {@code functions.txt}, {@code structs.txt} and
 * {@code constants.txt}, then post-processed by {@code scripts/JextractLazyLink.java}. Symbols are looked up through {@code SymbolLookup.loaderLookup()}: the IOCP backend
 * loads {@code kernel32} and {@code ws2_32} with {@code System.loadLibrary} before its first call, so these
 * classes load on any platform and link nothing until a function is called. Do not edit these files by
 * hand: hand-written code lives in {@code dev.panamio.sys.windows}. {@code WindowsBindingsConformanceTest}
 * proves every layout, constant and signature here with the mingw-w64 cross compiler.
 */
package dev.panamio.sys.windows.ffi;
