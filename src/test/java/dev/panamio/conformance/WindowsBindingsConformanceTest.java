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
