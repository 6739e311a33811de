package dev.panamio;

import dev.panamio.testing.LeakChecked;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.panamio.TcpSuite.ANY_LOCAL;
import static dev.panamio.TcpSuite.onLoop;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Reliability scenario 7: every public method called with null, zero or negative durations and sizes, on a
 * closed loop, on a closed connection, on a released lease, and from the wrong thread. Each call must throw
 * the documented exception with a message that says what was wrong; none may crash, hang or corrupt the loop
 * (which keeps serving afterwards).
 */
@LeakChecked
class ApiMisuseTest {
    interface Call {
        void run() throws Exception;
    }

    record Case(String what, Call call, Class<? extends Throwable> expected, String messagePart) {}

    private static EventLoop loop;
    private static TcpServer server;
    private static TcpConnection conn;
    private final List<String> failures = new ArrayList<>();

    @BeforeAll
    static void open() throws Exception {
        loop = EventLoop.create().start();
        server = onLoop(loop, () -> loop.listen(ANY_LOCAL, c -> c.startReading((cc, data) -> cc.write(data))));
        CompletableFuture<TcpConnection> f = new CompletableFuture<>();
        loop.execute(() -> loop.connect(server.localAddress(), (c, e) -> {
            if (e != null) {
                f.completeExceptionally(e);
            } else {
                f.complete(c);
            }
        }));
        conn = f.get(30, TimeUnit.SECONDS);
    }

    @AfterAll
    static void close() {
        loop.close();
    }

    private void check(List<Case> cases, boolean onLoopThread) throws Exception {
        for (Case c : cases) {
            Throwable thrown = null;
            try {
                if (onLoopThread) {
                    onLoop(loop, () -> {
                        c.call().run();
                        return null;
                    });
                } else {
                    c.call().run();
                }
            } catch (java.util.concurrent.ExecutionException e) {
                thrown = e.getCause();
            } catch (Throwable e) {
                thrown = e;
            }
            if (thrown == null) {
                failures.add(c.what() + ": nothing thrown, expected " + c.expected().getSimpleName());
            } else if (!c.expected().isInstance(thrown)) {
                failures.add(c.what() + ": " + thrown + ", expected " + c.expected().getSimpleName());
            } else if (thrown.getMessage() == null || !thrown.getMessage().contains(c.messagePart())) {
                failures.add(c.what() + ": message '" + thrown.getMessage() + "' does not say '" + c.messagePart() + "'");
            }
        }
        assertThat(failures).isEmpty();
        // The loop is still healthy: an echo round trip on the same connection works.
        CompletableFuture<String> echo = new CompletableFuture<>();
        loop.execute(() -> {
            conn.read(Duration.ofSeconds(30), (c, data) -> {
                echo.complete(data.toString(java.nio.charset.StandardCharsets.US_ASCII));
                data.release();
            });
            conn.write("ok".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        });
        assertThat(echo.get(30, TimeUnit.SECONDS)).isEqualTo("ok");
    }

    private static Case npe(String what, Call call, String part) {
        return new Case(what, call, NullPointerException.class, part);
    }

    private static Case iae(String what, Call call, String part) {
        return new Case(what, call, IllegalArgumentException.class, part);
    }

    private static Case ise(String what, Call call, String part) {
        return new Case(what, call, IllegalStateException.class, part);
    }

    private static final Runnable NOOP = () -> { };
    private static final Duration NEGATIVE = Duration.ofMillis(-1);

    @Test
    void nullsAndBadValuesOnTheLoop() throws Exception {
        InetSocketAddress a = server.localAddress();
        check(List.of(
                npe("setTimeout(null delay)", () -> loop.setTimeout(null, NOOP), "delay"),
                npe("setTimeout(null task)", () -> loop.setTimeout(Duration.ZERO, null), "task"),
                iae("setTimeout(negative)", () -> loop.setTimeout(NEGATIVE, NOOP), "negative"),
                iae("setInterval(zero)", () -> loop.setInterval(Duration.ZERO, NOOP), "positive"),
                npe("setImmediate(null)", () -> loop.setImmediate(null), "task"),
                npe("nextTick(null)", () -> loop.nextTick(null), "task"),
                npe("execute(null)", () -> loop.execute(null), "task"),
                npe("submitBlocking(null work)", () -> loop.submitBlocking(null, (v, e) -> { }), "work"),
                npe("submitBlocking(null callback)", () -> loop.submitBlocking(() -> 1, null), "callback"),
                npe("listen(null address)", () -> loop.listen(null, c -> { }), "address"),
                npe("listen(null options)", () -> loop.listen(ANY_LOCAL, null, c -> { }), "options"),
                npe("listen(null handler)", () -> loop.listen(ANY_LOCAL, null), "onAccept"),
                npe("connect(null address)", () -> loop.connect(null, (c, e) -> { }), "address"),
                npe("connect(null timeout)", () -> loop.connect(a, null, (c, e) -> { }), "timeout"),
                iae("connect(zero timeout)", () -> loop.connect(a, Duration.ZERO, (c, e) -> { }), "positive"),
                iae("connect(negative timeout)", () -> loop.connect(a, NEGATIVE, (c, e) -> { }), "positive"),
                npe("connect(null callback)", () -> loop.connect(a, Duration.ofSeconds(1), null), "callback"),
                npe("connect(null options)", () -> loop.connect(a, Duration.ofSeconds(1), null, (c, e) -> { }), "options"),
                ise("run() inside a callback", () -> loop.run(), "inside the loop"),
                ise("runOnce() inside a callback", () -> loop.runOnce(), "inside the loop"),
                ise("start() twice", () -> loop.start(), "already started")), true);
    }

    @Test
    void builderRejectsBadLimits() throws Exception {
        check(List.of(
                iae("highWatermark(0)", () -> EventLoop.builder().highWatermark(0), "highWatermark"),
                iae("maxLentBytes(0)", () -> EventLoop.builder().maxLentBytes(0), "maxLentBytes"),
                iae("maxQueued(-1)", () -> EventLoop.builder().maxQueued(-1), "maxQueued"),
                iae("bufferSize(0)", () -> EventLoop.builder().bufferSize(0), "bufferSize"),
                iae("blockingThreads(0)", () -> EventLoop.builder().blockingThreads(0), "blockingThreads"),
                npe("backend(null)", () -> EventLoop.builder().backend(null), "backend"),
                npe("readTimeout(null)", () -> EventLoop.builder().readTimeout(null), "read"),
                iae("readTimeout(zero)", () -> EventLoop.builder().readTimeout(Duration.ZERO), "positive"),
                iae("writeTimeout(negative)", () -> EventLoop.builder().writeTimeout(NEGATIVE), "positive"),
                iae("connectTimeout(zero)", () -> EventLoop.builder().connectTimeout(Duration.ZERO), "positive"),
                npe("errorHandler(null)", () -> EventLoop.builder().errorHandler(null), "handler"),
                iae("TcpOptions.withBacklog(0)", () -> TcpOptions.defaults().withBacklog(0), "backlog"),
                iae("TcpOptions.withWriteWatermarks(low > high)", () -> TcpOptions.defaults().withWriteWatermarks(10, 20), "low"),
                iae("TcpOptions.withSocketBuffers(-1, 0)", () -> TcpOptions.defaults().withSocketBuffers(-1, 0), "buffer")), false);
    }

    @Test
    void connectionMisuse() throws Exception {
        check(List.of(
                npe("startReading(null)", () -> conn.startReading(null), "handler"),
                npe("read(null timeout)", () -> conn.read(null, (c, d) -> { }), "timeout"),
                iae("read(zero timeout)", () -> conn.read(Duration.ZERO, (c, d) -> { }), "positive"),
                npe("write((byte[]) null)", () -> conn.write((byte[]) null), "data"),
                npe("write((Buffer) null)", () -> conn.write((Buffer) null), "data"),
                npe("write((ByteBuffer) null)", () -> conn.write((ByteBuffer) null, null), "data"),
                npe("write((MemorySegment) null)", () -> conn.write((MemorySegment) null, null), "data"),
                npe("write((List) null)", () -> conn.write((List<Buffer>) null, null), "data"),
                npe("write(list holding null)", () -> {
                    Buffer first = loop.allocateBuffer();
                    try {
                        conn.write(Arrays.asList(first, null), null);
                    } finally {
                        assertThat(first.isReleased()).as("a rejected list is left untouched").isFalse();
                        first.release();
                    }
                }, "index 1"),
                npe("onClose(null)", () -> conn.onClose(null), "listener"),
                ise("read() while another read is active", () -> {
                    conn.startReading((c, d) -> d.release());
                    try {
                        conn.read(Duration.ofSeconds(1), (c, d) -> d.release());
                    } finally {
                        conn.stopReading();
                    }
                }, "already active")), true);
    }

    @Test
    void wrongThread() throws Exception {
        Buffer[] leased = new Buffer[1];
        onLoop(loop, () -> leased[0] = loop.allocateBuffer());
        try {
            check(List.of(
                    ise("nextTick from another thread", () -> loop.nextTick(NOOP), "thread"),
                    ise("allocateBuffer from another thread", () -> loop.allocateBuffer(), "thread"),
                    ise("listen from another thread", () -> loop.listen(ANY_LOCAL, c -> { }), "thread"),
                    ise("runOnce() while running elsewhere", () -> loop.runOnce(), "already running"),
                    ise("run() while running elsewhere", () -> loop.run(), "already running"),
                    ise("write from another thread", () -> conn.write(new byte[1]), "thread"),
                    ise("startReading from another thread", () -> conn.startReading((c, d) -> { }), "thread"),
                    ise("close from another thread", () -> conn.close(), "thread"),
                    ise("Buffer.segment() from another thread", () -> leased[0].segment(), "thread"),
                    ise("Buffer.release() from another thread", () -> leased[0].release(), "thread")), false);
        } finally {
            onLoop(loop, () -> {
                leased[0].release();
                return null;
            });
        }
    }

    @Test
    void releasedLeases() throws Exception {
        Buffer[] b = new Buffer[1];
        MemorySegment[] view = new MemorySegment[1];
        onLoop(loop, () -> {
            b[0] = loop.allocateBuffer().append(new byte[] {1, 2, 3});
            view[0] = b[0].segment();
            b[0].release();
            b[0].release(); // idempotent
            return null;
        });
        check(List.of(
                ise("length() after release", () -> b[0].length(), "released"),
                ise("get() after release", () -> b[0].get(0), "released"),
                ise("segment() after release", () -> b[0].segment(), "released"),
                ise("toArray() after release", () -> b[0].toArray(), "released"),
                ise("append() after release", () -> b[0].append(new byte[1]), "released"),
                ise("setLength() after release", () -> b[0].setLength(0), "released"),
                ise("a view taken before release", () -> view[0].get(ValueLayout.JAVA_BYTE, 0), "closed"),
                ise("write(released lease)", () -> conn.write(b[0]), "released")), true);
    }

    @Test
    void bufferBounds() throws Exception {
        Buffer[] b = new Buffer[1];
        onLoop(loop, () -> b[0] = loop.allocateBuffer().append(new byte[] {1, 2, 3}));
        try {
            check(List.of(
                    new Case("get(-1)", () -> b[0].get(-1), IndexOutOfBoundsException.class, "-1"),
                    new Case("get(length)", () -> b[0].get(3), IndexOutOfBoundsException.class, "3"),
                    iae("setLength(-1)", () -> b[0].setLength(-1), "-1"),
                    iae("setLength(capacity + 1)", () -> b[0].setLength(b[0].capacity() + 1), "outside"),
                    npe("append((byte[]) null)", () -> b[0].append((byte[]) null), "src"),
                    new Case("append beyond capacity", () -> b[0].append(new byte[b[0].capacity()]), IllegalArgumentException.class, "capacity"),
                    new Case("copyTo out of range", () -> b[0].copyTo(0, new byte[2], 0, 3), IndexOutOfBoundsException.class, "")), true);
        } finally {
            onLoop(loop, () -> {
                b[0].release();
                return null;
            });
        }
    }

    @Test
    void closedConnectionAndClosedLoop() throws Exception {
        CompletableFuture<TcpConnection> f = new CompletableFuture<>();
        loop.execute(() -> loop.connect(server.localAddress(), (c, e) -> f.complete(c)));
        TcpConnection closed = f.get(30, TimeUnit.SECONDS);
        onLoop(loop, () -> {
            closed.close();
            closed.close(); // idempotent
            closed.abort(); // and so is abort after close
            return null;
        });
        check(List.of(
                ise("write on a closed connection", () -> closed.write(new byte[1]), "closed"),
                ise("startReading on a closed connection", () -> closed.startReading((c, d) -> { }), "closed"),
                ise("read on a closed connection", () -> closed.read(Duration.ofSeconds(1), (c, d) -> { }), "closed"),
                ise("shutdownOutput on a closed connection", () -> closed.shutdownOutput(), "closed")), true);

        EventLoop dead = EventLoop.create();
        dead.close();
        dead.close(); // idempotent
        assertThat(dead.isClosed()).isTrue();
        failures.clear();
        for (Case c : List.of(
                ise("setTimeout on a closed loop", () -> dead.setTimeout(Duration.ZERO, NOOP), "closed"),
                ise("setImmediate on a closed loop", () -> dead.setImmediate(NOOP), "closed"),
                ise("execute on a closed loop", () -> dead.execute(NOOP), "closed"),
                ise("submitBlocking on a closed loop", () -> dead.submitBlocking(() -> 1, (v, e) -> { }), "closed"),
                ise("listen on a closed loop", () -> dead.listen(ANY_LOCAL, c -> { }), "closed"),
                ise("connect on a closed loop", () -> dead.connect(server.localAddress(), (c, e) -> { }), "closed"),
                ise("allocateBuffer on a closed loop", () -> dead.allocateBuffer(), "closed"),
                ise("run on a closed loop", () -> dead.run(), "closed"),
                ise("runOnce on a closed loop", () -> dead.runOnce(), "closed"),
                ise("start on a closed loop", () -> dead.start(), "closed"))) {
            try {
                c.call().run();
                failures.add(c.what() + ": nothing thrown");
            } catch (Throwable t) {
                if (!c.expected().isInstance(t) || t.getMessage() == null || !t.getMessage().contains(c.messagePart())) {
                    failures.add(c.what() + ": " + t);
                }
            }
        }
        assertThat(failures).isEmpty();
    }
}
