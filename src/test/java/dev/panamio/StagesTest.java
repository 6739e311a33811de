package dev.panamio;

import dev.panamio.testing.LeakChecked;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static dev.panamio.TcpSuite.ANY_LOCAL;
import static dev.panamio.TcpSuite.onLoop;
import static org.assertj.core.api.Assertions.assertThat;

/** The CompletionStage twins of the callback APIs, chained, each completing on the loop thread. */
@LeakChecked
class StagesTest {
    @ParameterizedTest
    @MethodSource("dev.panamio.testing.TestBackends#available")
    void aConversationWrittenAsAChainOfStages(Backend backend) throws Exception {
        try (EventLoop loop = EventLoop.builder().backend(backend).build().start()) {
            TcpServer server = onLoop(loop, () -> loop.listen(ANY_LOCAL, c -> c.startReading((cc, data) -> cc.write(data))));
            List<String> steps = new CopyOnWriteArrayList<>();
            CompletableFuture<String> done = new CompletableFuture<>();
            loop.execute(() -> loop.connect(server.localAddress(), Duration.ofSeconds(30))
                    .thenCompose(conn -> {
                        steps.add("connected on loop thread " + loop.inEventLoop());
                        return conn.writeAsync("one ".getBytes(StandardCharsets.US_ASCII))
                                .thenCompose(v -> conn.writeAsync(java.nio.ByteBuffer.wrap("two".getBytes(StandardCharsets.US_ASCII))))
                                .thenCompose(v -> loop.delay(Duration.ofMillis(20)))
                                .thenCompose(v -> conn.read(Duration.ofSeconds(30)))
                                .thenCompose(data -> {
                                    steps.add("read '" + data.toString(StandardCharsets.US_ASCII).substring(0, 4) + "' on loop thread " + loop.inEventLoop());
                                    data.release();
                                    return loop.submitBlocking(() -> "blocking result");
                                })
                                .thenCompose(r -> {
                                    steps.add(r + " on loop thread " + loop.inEventLoop());
                                    conn.close();
                                    return conn.closed();
                                });
                    })
                    .whenComplete((v, e) -> done.complete(e == null ? "closed" : e.toString())));
            assertThat(done.get(30, TimeUnit.SECONDS)).isEqualTo("closed");
            assertThat(steps).containsExactly("connected on loop thread true", "read 'one ' on loop thread true",
                    "blocking result on loop thread true");
            onLoop(loop, () -> {
                server.close();
                return null;
            });
        }
    }
}
