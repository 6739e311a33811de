package dev.panamio;

import dev.panamio.testing.LeakChecked;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static dev.panamio.TcpSuite.ANY_LOCAL;
import static dev.panamio.TcpSuite.client;
import static dev.panamio.TcpSuite.onLoop;
import static org.assertj.core.api.Assertions.assertThat;

/** The loop's JFR events, recorded to a file and read back. */
@LeakChecked
class JfrEventsTest {
    @TempDir
    Path dir;

    @Test
    void aRecordingShowsCompletionsTimeoutsWatermarkOverloadAndPoolGrowth() throws Exception {
        Path file = dir.resolve("panamio.jfr");
        try (Recording recording = new Recording()) {
            for (String e : List.of("OpCompleted", "OpTimeout", "WatermarkReached", "Overload", "BufferPoolGrowth")) {
                recording.enable("dev.panamio." + e).withThreshold(Duration.ZERO);
            }
            recording.start();
            try (EventLoop loop = EventLoop.builder().highWatermark(1).maxQueued(8).bufferSize(256 * 1024)
                    .writeTimeout(Timeout.NONE).build().start()) {
                java.util.concurrent.LinkedBlockingQueue<TcpConnection> accepted = new java.util.concurrent.LinkedBlockingQueue<>();
                TcpServer server = onLoop(loop, () -> loop.listen(ANY_LOCAL,
                        TcpOptions.defaults().withSocketBuffers(4096, 0), accepted::add));
                try (Socket s1 = client(server.localAddress()); Socket s2 = client(server.localAddress())) {
                    TcpConnection c1 = accepted.poll(30, TimeUnit.SECONDS);
                    TcpConnection c2 = accepted.poll(30, TimeUnit.SECONDS);
                    CompletableFuture<Throwable> timedOut = new CompletableFuture<>();
                    CompletableFuture<Throwable> refused = new CompletableFuture<>();
                    onLoop(loop, () -> {
                        // A read that times out (nothing is sent)...
                        c1.read(Duration.ofMillis(100), new ReadHandler() {
                            @Override
                            public void onData(TcpConnection conn, Buffer data) {
                                data.release();
                            }

                            @Override
                            public void onError(TcpConnection conn, Throwable error) {
                                timedOut.complete(error);
                            }
                        });
                        // ...two writers, one op in the kernel at a time (the other waits at the watermark), and a
                        // third write past maxQueued.
                        // (Writes far larger than the peers' socket buffers: on epoll what a socket takes
                        // at once is sent inline, lending nothing; the rest needs an op. 1 MiB is 4 buffers.)
                        c1.write(new byte[1 << 20], (v, e) -> { });
                        c2.write(new byte[1 << 20], (v, e) -> { });
                        for (int i = 0; i < 3; i++) {
                            c2.write(new byte[1 << 20], (v, e) -> {
                                if (e != null) {
                                    refused.complete(e);
                                }
                            });
                        }
                        return null;
                    });
                    assertThat(timedOut.get(30, TimeUnit.SECONDS)).isInstanceOf(OperationTimeoutException.class);
                    assertThat(refused.get(30, TimeUnit.SECONDS)).isInstanceOf(OverloadedException.class);
                    assertThat(s1.getInputStream().readNBytes(64 * 1024)).hasSize(64 * 1024);
                    assertThat(s2.getInputStream().readNBytes(64 * 1024)).hasSize(64 * 1024);
                }
            }
            recording.stop();
            recording.dump(file);
        }
        Map<String, List<RecordedEvent>> byType = RecordingFile.readAllEvents(file).stream()
                .collect(Collectors.groupingBy(e -> e.getEventType().getName()));
        assertThat(byType).containsKeys("dev.panamio.OpCompleted", "dev.panamio.OpTimeout",
                "dev.panamio.WatermarkReached", "dev.panamio.Overload", "dev.panamio.BufferPoolGrowth");
        RecordedEvent send = byType.get("dev.panamio.OpCompleted").stream()
                .filter(e -> e.getString("kind").equals("send") || e.getString("kind").equals("writev"))
                .findFirst().orElseThrow();
        assertThat(send.getLong("result")).isPositive();
        assertThat(send.getDuration("latency")).isPositive();
        assertThat(byType.get("dev.panamio.OpTimeout").getFirst().getString("kind")).isIn("poll", "recv");
        assertThat(byType.get("dev.panamio.Overload").getFirst().getInt("maxQueued")).isEqualTo(8);
        assertThat(byType.get("dev.panamio.BufferPoolGrowth").getFirst().getLong("slabBytes")).isPositive();
        System.out.println("[jfr] events recorded: " + byType.entrySet().stream()
                .map(e -> e.getKey().substring("dev.panamio.".length()) + "=" + e.getValue().size())
                .sorted().collect(Collectors.joining(", ")));
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.MethodSource("dev.panamio.testing.TestBackends#available")
    void withoutARecordingNoEventClassIsLoadedAndFlightRecorderStaysAsleep(Backend backend) throws Exception {
        // Loading an event class registers it, which starts Flight Recorder's metadata repository: ~100 ms at a
        // program's first I/O. A child JVM that does I/O without a recording must load neither; the same child
        // with a recording loads both (so the check can tell).
        List<String> quiet = childClassLoads(backend, false);
        assertThat(quiet).anyMatch(l -> l.startsWith("echo ping"));
        assertThat(quiet).noneMatch(l -> l.contains("dev.panamio.core.LoopEvents$") || l.contains("jdk.jfr.internal.MetadataRepository "));
        List<String> recorded = childClassLoads(backend, true);
        assertThat(recorded).anyMatch(l -> l.startsWith("echo ping"));
        assertThat(recorded).anyMatch(l -> l.contains("dev.panamio.core.LoopEvents$OpCompleted "));
    }

    private List<String> childClassLoads(Backend backend, boolean record) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> cmd = new java.util.ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-Xlog:class+load=info:stdout",
                "-XX:TieredStopAtLevel=1", "-Xmx64m"));
        if (record) {
            cmd.add("-XX:StartFlightRecording:filename=" + dir.resolve("child.jfr"));
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), NoRecordingChild.class.getName(), backend.name()));
        Process child = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        List<String> lines = new java.io.BufferedReader(new java.io.InputStreamReader(child.getInputStream())).lines().toList();
        assertThat(child.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(child.exitValue()).as("child output %s", lines.size() > 50 ? lines.subList(lines.size() - 50, lines.size()) : lines).isZero();
        return lines;
    }
}
