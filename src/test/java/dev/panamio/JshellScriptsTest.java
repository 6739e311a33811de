package dev.panamio;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Runs each experiment in {@code jshell/} non-interactively, the way {@code scripts/jshell jshell/X.jsh} does
 * (same flags, same startup imports), and checks what it prints.
 */
class JshellScriptsTest {
    private static final Path BASE = Path.of(System.getProperty("panamio.basedir", "."));

    static Stream<Arguments> scripts() {
        return Stream.of(
                Arguments.of("timers.jsh", List.of("immediate", "timeout after 20 ms", "interval ran 3 times, then cancelled itself", "done")),
                Arguments.of("echo.jsh", List.of("echoed: hello, panamio", "native bytes after close: 0")),
                Arguments.of("watermark.jsh", List.of("unwritable after", "lent bytes within the watermark: true")),
                Arguments.of("httpget.jsh", List.of("status 200: Hello from panamio, you asked for /greeting")),
                Arguments.of("files.jsh", List.of(": written and read back by the loop")));
    }

    @ParameterizedTest
    @MethodSource("scripts")
    void experimentRunsAndPrintsWhatItShould(String script, List<String> expected) throws Exception {
        try (Stream<Path> all = Files.list(BASE.resolve("jshell"))) {
            assertThat(all.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".jsh")))
                    .as("every experiment has a case here").containsExactlyInAnyOrderElementsOf(
                            scripts().map(a -> (String) a.get()[0]).toList());
        }
        Path jshell = Path.of(System.getProperty("java.home"), "bin", "jshell");
        Process p = new ProcessBuilder(jshell.toString(), "-R--enable-native-access=ALL-UNNAMED",
                "-J--enable-native-access=ALL-UNNAMED", "-R-XX:+ErrorFileToStdout",
                "--class-path", BASE.resolve("target/classes").toString(),
                "--startup", "DEFAULT", "--startup", BASE.resolve("scripts/jshell-startup.jsh").toString(),
                BASE.resolve("jshell").resolve(script).toString())
                .redirectErrorStream(true).start();
        p.getOutputStream().close();
        boolean exited = p.waitFor(180, TimeUnit.SECONDS);
        if (!exited) {
            p.destroyForcibly();
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        System.out.println("[jshell] " + script + ":\n" + out.strip());
        assertThat(exited).as("jshell finished; output:\n" + out).isTrue();
        assertThat(p.exitValue()).as("exit code; output:\n" + out).isZero();
        for (String line : expected) {
            assertThat(out).contains(line);
        }
        assertThat(out).doesNotContain("Exception", "Error:", "fatal error");
    }
}
