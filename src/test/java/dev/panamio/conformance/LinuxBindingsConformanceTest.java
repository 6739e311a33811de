package dev.panamio.conformance;

import dev.panamio.sys.linux.EpollEvents;
import dev.panamio.testing.LeakChecked;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every Linux binding against the C headers: compiled by gcc for x86-64 and by the aarch64 cross compiler
 * (where {@code epoll_event} is not packed), plus the Java-side descriptor check and the symbol lists.
 */
@LeakChecked
@org.junit.jupiter.api.condition.EnabledOnOs(org.junit.jupiter.api.condition.OS.LINUX)
class LinuxBindingsConformanceTest {
    private final CConformance linux = CConformance.linux();

    @Test
    void symbolListsAndGeneratedClassesAgree() throws Exception {
        Set<String> structs = new TreeSet<>(linux.list("structs.txt"));
        Set<String> classes;
        try (Stream<java.nio.file.Path> s = Files.list(CConformance.BASEDIR.resolve("generated/linux/dev/panamio/sys/linux/ffi"))) {
            classes = s.map(p -> p.getFileName().toString().replace(".java", ""))
                    .filter(n -> !n.equals("linux_h") && !n.equals("package-info")).collect(Collectors.toCollection(TreeSet::new));
        }
        assertThat(classes).as("struct classes vs structs.txt").isEqualTo(structs);
        assertThat(new TreeSet<>(linux.prototypes().keySet())).as("functions vs functions.txt")
                .isEqualTo(new TreeSet<>(linux.list("functions.txt")));
        Set<String> constants = Arrays.stream(dev.panamio.sys.linux.ffi.linux_h.class.getDeclaredMethods())
                .filter(m -> Modifier.isStatic(m.getModifiers()) && Modifier.isPublic(m.getModifiers()))
                .filter(m -> m.getParameterCount() == 0 && m.getName().matches("[A-Z][A-Za-z0-9_]*"))
                .map(Method::getName).collect(Collectors.toCollection(TreeSet::new));
        assertThat(constants).as("constant accessors vs constants.txt").isEqualTo(new TreeSet<>(linux.list("constants.txt")));
    }

    @Test
    void descriptorsMatchTheirCPrototypes() throws Exception {
        assertThat(linux.descriptorMismatches()).isEmpty();
    }

    @Test
    void x86_64LayoutsConstantsAndSignaturesCompile() throws Exception {
        String source = linux.withLayout("epoll_event", EpollEvents.layoutFor("amd64")).emit();
        CConformance.Result r = CConformance.compile("gcc", "linux-x86_64", source);
        assertThat(r.ok()).as("gcc rejected %s:%n%s", CConformance.failedAssertions(r), r.output()).isTrue();
        System.out.println("conformance: gcc (x86-64) accepted " + count(source) + " assertions from " + r.source());
    }

    @Test
    void aarch64LayoutsConstantsAndSignaturesCompile() throws Exception {
        String source = linux.withLayout("epoll_event", EpollEvents.layoutFor("aarch64")).emit();
        CConformance.Result r = CConformance.compile("aarch64-linux-gnu-gcc", "linux-aarch64", source);
        assertThat(r.ok()).as("aarch64-linux-gnu-gcc rejected %s:%n%s", CConformance.failedAssertions(r), r.output()).isTrue();
        System.out.println("conformance: aarch64-linux-gnu-gcc accepted " + count(source) + " assertions from " + r.source());
    }

    @Test
    void runtimeEpollEventLayoutIsThePlatformOne() throws Exception {
        String arch = System.getProperty("os.arch");
        long expected = arch.equals("amd64") || arch.equals("x86_64") ? 12 : 16;
        assertThat(EpollEvents.layout().byteSize()).isEqualTo(expected);
        assertThat(EpollEvents.dataOffset()).isEqualTo(expected - 8);
    }

    static long count(String source) {
        return source.lines().filter(l -> l.startsWith("_Static_assert")).count();
    }

}
