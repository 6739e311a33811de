package dev.panamio;

import dev.panamio.testing.LeakChecked;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Files as loop callbacks on real files: natively through io_uring, through the blocking pool on epoll.
 */
@LeakChecked
class FilesTest {
    @TempDir
    Path dir;

    private static EventLoop loop(Backend backend) {
        return EventLoop.builder().backend(backend).bufferSize(16 * 1024).build();
    }

    @ParameterizedTest
    @MethodSource("dev.panamio.testing.TestBackends#available")
    void writeFileThenReadFileRoundTrips(Backend backend) throws Exception {
        byte[] data = new byte[100_000 + 123];
        new Random(7).nextBytes(data);
        Path p = dir.resolve("data.bin");
        try (EventLoop loop = loop(backend)) {
            assertThat(loop.files().isNative()).isEqualTo(backend == Backend.IO_URING);
            AtomicReference<byte[]> read = new AtomicReference<>();
            List<Throwable> errors = new ArrayList<>();
            loop.files().writeFile(p, data, (v, e) -> {
                if (e != null) {
                    errors.add(e);
                    return;
                }
                loop.files().readFile(p, (bytes, e2) -> {
                    if (e2 != null) {
                        errors.add(e2);
                    }
                    read.set(bytes);
                });
            });
            loop.run(); // returns when the file work is done: pending file ops keep the loop alive
            assertThat(errors).isEmpty();
            assertThat(read.get()).isEqualTo(data);
            assertThat(Files.readAllBytes(p)).isEqualTo(data);
            LoopStats s = loop.stats();
            assertThat(s.leasedBytes()).isZero();
            assertThat(s.lentBytes()).isEqualTo(s.ringBytes());
        }
    }

    @ParameterizedTest
    @MethodSource("dev.panamio.testing.TestBackends#available")
    void missingFileIsAnErrorNamingThePath(Backend backend) {
        Path p = dir.resolve("missing.txt");
        try (EventLoop loop = loop(backend)) {
            AtomicReference<Throwable> error = new AtomicReference<>();
            AtomicInteger calls = new AtomicInteger();
            loop.files().readFile(p, (bytes, e) -> {
                calls.incrementAndGet();
                error.set(e);
            });
            loop.run();
            assertThat(calls.get()).isEqualTo(1);
            assertThat(error.get()).isInstanceOf(IOException.class).hasMessageContaining("missing.txt");
            if (backend == Backend.IO_URING) {
                assertThat(((NativeIoException) error.get()).errorName()).isEqualTo("ENOENT");
            }
        }
    }

    @ParameterizedTest
    @MethodSource("dev.panamio.testing.TestBackends#available")
    void positionalReadsAndWrites(Backend backend) throws Exception {
        Path p = dir.resolve("sparse.bin");
        try (EventLoop loop = loop(backend)) {
            List<String> seen = new ArrayList<>();
            loop.files().open(p, LoopFile.Mode.WRITE, (f, e) -> {
                assertThat(e).isNull();
                f.write(0, loop.allocateBuffer().append("head".getBytes(StandardCharsets.US_ASCII)), (v, e1) ->
                        f.write(50_000, loop.allocateBuffer().append("tail".getBytes(StandardCharsets.US_ASCII)), (v2, e2) ->
                                f.close((v3, e3) -> {
                                    seen.add("written " + e1 + " " + e2 + " " + e3);
                                    loop.files().open(p, LoopFile.Mode.READ, (r, e4) -> r.read(50_000, (tail, e5) -> {
                                        seen.add("tail " + tail.toString(StandardCharsets.US_ASCII));
                                        tail.release();
                                        r.read(60_000, (eof, e6) -> {
                                            seen.add("eof length " + eof.length());
                                            eof.release();
                                            r.close((v7, e7) -> seen.add("closed " + r.isClosed()));
                                        });
                                    }));
                                })));
            });
            loop.run();
            assertThat(seen).containsExactly("written null null null", "tail tail", "eof length 0", "closed true");
            assertThat(Files.size(p)).isEqualTo(50_004);
        }
    }

    @ParameterizedTest
    @MethodSource("dev.panamio.testing.TestBackends#available")
    void stagesCompleteOnTheLoopThreadAndClosingTheLoopClosesOpenFiles(Backend backend) throws Exception {
        Path p = dir.resolve("stage.txt");
        Files.writeString(p, "hello from a file");
        EventLoop loop = loop(backend).start();
        try {
            AtomicReference<Thread> thread = new AtomicReference<>();
            var text = new java.util.concurrent.CompletableFuture<String>();
            loop.execute(() -> loop.files().readFile(p).whenComplete((b, e) -> {
                thread.set(Thread.currentThread());
                text.complete(e == null ? new String(b, StandardCharsets.US_ASCII) : e.toString());
            }));
            assertThat(text.get(30, TimeUnit.SECONDS)).isEqualTo("hello from a file");
            assertThat(thread.get().getName()).startsWith("panamio-loop");
            // A file left open, with a read in flight, when the loop closes: the read's callback runs once.
            AtomicInteger calls = new AtomicInteger();
            var opened = new java.util.concurrent.CompletableFuture<LoopFile>();
            loop.execute(() -> loop.files().open(p, LoopFile.Mode.READ).whenComplete((f, e) -> {
                f.read(0, (data, err) -> {
                    calls.incrementAndGet();
                    if (data != null) {
                        data.release();
                    }
                });
                opened.complete(f); // after the read is issued: the test closes the loop as soon as it sees this
            }));
            assertThat(opened.get(30, TimeUnit.SECONDS).isClosed()).isFalse();
            loop.close();
            assertThat(calls.get()).isEqualTo(1);
        } finally {
            loop.close();
        }
    }
}
