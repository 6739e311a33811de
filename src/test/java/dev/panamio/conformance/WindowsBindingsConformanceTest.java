package dev.panamio.conformance;

import dev.panamio.sys.windows.ffi.OVERLAPPED;
import dev.panamio.sys.windows.ffi.windows_h;
import dev.panamio.testing.LeakChecked;
import org.junit.jupiter.api.Test;

import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.ValueLayout;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every Windows binding against the Windows headers, compiled by the mingw-w64 cross compiler
 * ({@code x86_64-w64-mingw32-gcc}), plus the Java-side descriptor check and the symbol lists. Also: the
 * classes load here, on Linux, without linking kernel32 or ws2_32.
 */
@LeakChecked
@org.junit.jupiter.api.condition.EnabledOnOs(org.junit.jupiter.api.condition.OS.LINUX)
class WindowsBindingsConformanceTest {
    private final CConformance windows = CConformance.windows();

    @Test
    void symbolListsAndGeneratedClassesAgree() throws Exception {
        Set<String> classes;
        try (Stream<java.nio.file.Path> s = Files.list(CConformance.BASEDIR.resolve("generated/windows/dev/panamio/sys/windows/ffi"))) {
            classes = s.map(p -> p.getFileName().toString().replace(".java", ""))
                    .filter(n -> !n.equals("windows_h") && !n.equals("package-info")).collect(Collectors.toCollection(TreeSet::new));
        }
        assertThat(classes).as("struct classes vs structs.txt").isEqualTo(new TreeSet<>(windows.list("structs.txt")));
        assertThat(new TreeSet<>(windows.prototypes().keySet())).as("functions vs functions.txt")
                .isEqualTo(new TreeSet<>(windows.list("functions.txt")));
        Set<String> constants = Arrays.stream(windows_h.class.getDeclaredMethods())
                .filter(m -> Modifier.isStatic(m.getModifiers()) && Modifier.isPublic(m.getModifiers()))
                .filter(m -> m.getParameterCount() == 0 && m.getName().matches("[A-Z][A-Za-z0-9_]*"))
                .map(Method::getName).collect(Collectors.toCollection(TreeSet::new));
        constants.removeAll(windows.list("functions.txt")); // GetLastError(), WSACleanup(): functions, not constants
        assertThat(constants).as("constant accessors vs constants.txt").isEqualTo(new TreeSet<>(windows.list("constants.txt")));
    }

    @Test
    void descriptorsMatchTheirCPrototypes() throws Exception {
        assertThat(windows.descriptorMismatches()).isEmpty();
    }

    @Test
    void layoutsConstantsAndSignaturesCompileWithMingw() throws Exception {
        String source = windows.emit();
        CConformance.Result r = CConformance.compile("x86_64-w64-mingw32-gcc", "windows-x86_64", source);
        assertThat(r.ok()).as("x86_64-w64-mingw32-gcc rejected %s:%n%s", CConformance.failedAssertions(r), r.output()).isTrue();
        System.out.println("conformance: x86_64-w64-mingw32-gcc accepted " + LinuxBindingsConformanceTest.count(source)
                + " assertions from " + r.source());
    }

    @Test
    void theExtensionFunctionsTheBackendCallsThroughPointersMatchMswsock() throws Exception {
        // The descriptors Win32Api uses for AcceptEx/ConnectEx (looked up at run time, so not in windows_h)...
        assertThat(carriers(dev.panamio.sys.windows.Win32ApiDescriptors.acceptEx())).containsExactly(
                "JAVA_INT", "JAVA_LONG", "JAVA_LONG", "ADDRESS", "JAVA_INT", "JAVA_INT", "JAVA_INT", "ADDRESS", "ADDRESS");
        assertThat(carriers(dev.panamio.sys.windows.Win32ApiDescriptors.connectEx())).containsExactly(
                "JAVA_INT", "JAVA_LONG", "ADDRESS", "JAVA_INT", "ADDRESS", "JAVA_INT", "ADDRESS", "ADDRESS");
        // ...are those prototypes in mswsock.h, and the GUIDs that find them are mswsock.h's.
        String source = "#include \"" + CConformance.BASEDIR.resolve("native-headers/windows/panamio_windows.h").toAbsolutePath() + "\"\n"
                + "_Static_assert(__builtin_types_compatible_p(LPFN_ACCEPTEX, BOOL (*)(SOCKET, SOCKET, PVOID, DWORD, DWORD, DWORD, LPDWORD, LPOVERLAPPED)), \"AcceptEx\");\n"
                + "_Static_assert(__builtin_types_compatible_p(LPFN_CONNECTEX, BOOL (*)(SOCKET, const struct sockaddr *, int, PVOID, DWORD, LPDWORD, LPOVERLAPPED)), \"ConnectEx\");\n"
                + "const GUID panamio_acceptex = WSAID_ACCEPTEX;\nconst GUID panamio_connectex = WSAID_CONNECTEX;\n";
        java.nio.file.Path dir = CConformance.BASEDIR.resolve("target/conformance");
        Files.createDirectories(dir);
        java.nio.file.Path c = dir.resolve("windows-extensions.c");
        java.nio.file.Path asm = dir.resolve("windows-extensions.s");
        Files.writeString(c, source);
        Process p = new ProcessBuilder("x86_64-w64-mingw32-gcc", "-std=gnu11", "-Werror", "-S", "-o", asm.toString(), c.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as("mingw rejected the extension prototypes:%n%s", out).isZero();
        String s = Files.readString(asm);
        assertThat(guidBytes(s, "panamio_acceptex")).isEqualTo(dev.panamio.sys.windows.Win32ApiDescriptors.acceptExGuid());
        assertThat(guidBytes(s, "panamio_connectex")).isEqualTo(dev.panamio.sys.windows.Win32ApiDescriptors.connectExGuid());
    }

    private static java.util.List<String> carriers(java.lang.foreign.FunctionDescriptor d) {
        java.util.List<String> out = new java.util.ArrayList<>();
        out.add(carrier(d.returnLayout().orElseThrow()));
        d.argumentLayouts().forEach(l -> out.add(carrier(l)));
        return out;
    }

    private static String carrier(java.lang.foreign.MemoryLayout l) {
        if (l instanceof java.lang.foreign.AddressLayout) {
            return "ADDRESS";
        }
        Class<?> k = ((ValueLayout) l).carrier();
        return k == int.class ? "JAVA_INT" : k == long.class ? "JAVA_LONG" : k.getSimpleName();
    }

    /** The 16 bytes the assembler emits for a GUID initializer (.long, .word, .word, 8 × .byte). */
    private static byte[] guidBytes(String asm, String label) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(16).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        java.util.Iterator<String> lines = asm.lines().map(String::strip).iterator();
        while (lines.hasNext() && !lines.next().equals(label + ":")) {
            // skip to the label
        }
        while (b.hasRemaining() && lines.hasNext()) {
            String[] f = lines.next().split("\\s+");
            switch (f[0]) {
                case ".long" -> b.putInt((int) Long.parseLong(f[1]));
                case ".word" -> b.putShort((short) Long.parseLong(f[1]));
                case ".byte" -> b.put((byte) Long.parseLong(f[1]));
                case ".ascii" -> {
                    String q = String.join(" ", f);
                    q = q.substring(q.indexOf('"') + 1, q.lastIndexOf('"'));
                    for (int i = 0; i < q.length(); i++) {
                        char ch = q.charAt(i);
                        if (ch != '\\') {
                            b.put((byte) ch);
                            continue;
                        }
                        int j = i + 1;
                        int v = 0;
                        while (j < q.length() && j < i + 4 && q.charAt(j) >= '0' && q.charAt(j) <= '7') {
                            v = v * 8 + (q.charAt(j++) - '0');
                        }
                        if (j > i + 1) {
                            b.put((byte) v);
                            i = j - 1;
                        } else {
                            b.put((byte) q.charAt(++i)); // \\ or \"
                        }
                    }
                }
                default -> throw new AssertionError("unexpected line in " + label + ": " + String.join(" ", f));
            }
        }
        return b.array();
    }

    @Test
    void aWrongWindowsLayoutIsRejected() throws Exception {
        // hEvent one pointer later, as if the union were 16 bytes: the check must name it.
        GroupLayout wrong = MemoryLayout.structLayout(
                ValueLayout.JAVA_LONG.withName("Internal"), ValueLayout.JAVA_LONG.withName("InternalHigh"),
                MemoryLayout.sequenceLayout(16, ValueLayout.JAVA_BYTE).withName("Pointer"),
                ValueLayout.ADDRESS.withName("hEvent")).withName("OVERLAPPED");
        String source = CConformance.windows().withLayout("OVERLAPPED", wrong)
                .withExtraAssert(CConformance.constantAssertion("WSAECONNRESET", 10053)).emit();
        CConformance.Result r = CConformance.compile("x86_64-w64-mingw32-gcc", "windows-wrong", source);
        assertThat(r.ok()).isFalse();
        assertThat(CConformance.failedAssertions(r)).contains("OVERLAPPED size 40", "OVERLAPPED.hEvent offset 32",
                "OVERLAPPED.Pointer size 16", "constant WSAECONNRESET = 10053");
    }

    @Test
    void theClassesLoadWithoutLinkingWindows() {
        assertThat(OVERLAPPED.sizeof()).isEqualTo(32);
        assertThat(windows_h.WSAECONNRESET()).isEqualTo(10054);
        assertThat(windows_h.C_LONG.byteSize()).as("LLP64: long is 32 bits").isEqualTo(4);
        if (!System.getProperty("os.name").startsWith("Windows")) {
            // Calling a function links it: on Linux that fails cleanly instead of crashing.
            org.assertj.core.api.Assertions.assertThatThrownBy(windows_h::GetLastError)
                    .isInstanceOfAny(UnsatisfiedLinkError.class, ExceptionInInitializerError.class, NoClassDefFoundError.class);
        }
    }
}
