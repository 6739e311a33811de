package dev.panamio;

import dev.panamio.core.NativeMemory;
import dev.panamio.testing.FdLeakCheck;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Reliability scenario 6 on the real backends: random sequences of connect, write, one-shot read (with and
 * without deadlines), continuous read, cancel ({@code stopReading}), close, abort, ticks, sleeps and loop close, against an echo server on the same loop, driven
 * one tick at a time with {@link EventLoop#runOnce()}. After every step the loop's bookkeeping holds and no
 * callback has run twice; at the end every callback ran exactly once, and native bytes and descriptors are
 * back where they were.
 */
class LoopPropertiesTest {
    private static final int SLOTS = 4;

    enum Step { CONNECT, WRITE, READ, START_READING, STOP_READING, CLOSE, ABORT, TICK, SLEEP, CLOSE_LOOP }

    record Action(Step step, int slot, int arg) {}

    @Provide
    Arbitrary<List<Action>> scripts() {
        Arbitrary<Step> steps = Arbitraries.frequency(
                net.jqwik.api.Tuple.of(6, Step.CONNECT), net.jqwik.api.Tuple.of(6, Step.WRITE),
                net.jqwik.api.Tuple.of(6, Step.READ), net.jqwik.api.Tuple.of(3, Step.START_READING),
                net.jqwik.api.Tuple.of(4, Step.STOP_READING), net.jqwik.api.Tuple.of(2, Step.CLOSE),
                net.jqwik.api.Tuple.of(1, Step.ABORT), net.jqwik.api.Tuple.of(6, Step.TICK),
                net.jqwik.api.Tuple.of(2, Step.SLEEP), net.jqwik.api.Tuple.of(1, Step.CLOSE_LOOP));
        return Combinators.combine(steps, Arbitraries.integers().between(0, SLOTS - 1), Arbitraries.integers().between(1, 300_000))
                .as(Action::new).list().ofMinSize(1).ofMaxSize(40);
    }

    @Property
    void randomSequencesOnEpoll(@ForAll("scripts") List<Action> script) throws Exception {
        run(Backend.EPOLL, script);
    }

    @Property
    void randomSequencesOnIoUring(@ForAll("scripts") List<Action> script) throws Exception {
        run(Backend.IO_URING, script);
    }

    private static void run(Backend backend, List<Action> script) throws Exception {
        Map<Integer, String> fdsBefore = FdLeakCheck.openFds();
        long nativeBefore = NativeMemory.processBytes();
        Model m = new Model(backend);
        try {
            for (Action a : script) {
                m.apply(a);
                m.check();
            }
            m.finish();
        } finally {
            m.loop.close();
        }
        m.assertEveryCallbackOnce();
        assertThat(NativeMemory.processBytes()).isEqualTo(nativeBefore);
        long deadline = System.nanoTime() + 10_000_000_000L;
        Map<Integer, String> leaked;
        do {
            leaked = new TreeMap<>(FdLeakCheck.openFds());
            leaked.keySet().removeAll(fdsBefore.keySet());
            leaked.values().removeIf(t -> t.endsWith(".jar") || t.startsWith("/dev/") || t.contains("/lib/modules"));
        } while (!leaked.isEmpty() && System.nanoTime() < deadline && sleep());
        assertThat(leaked).as("descriptors left open").isEmpty();
    }

    private static boolean sleep() throws InterruptedException {
        Thread.sleep(10);
        return true;
    }

    static final class Model {
        final EventLoop loop;
        final TcpServer server;
        final TcpConnection[] slots = new TcpConnection[SLOTS];
        final boolean[] connecting = new boolean[SLOTS];
        final Map<Integer, String> expected = new HashMap<>();
        final Map<Integer, Integer> calls = new HashMap<>();
        final List<String> violations = new ArrayList<>();
        final List<Throwable> loopErrors = new ArrayList<>();
        int nextId;
        /** Per connection: the id of the last write whose callback ran (they must run in write order). */
        final Map<TcpConnection, int[]> lastWrite = new java.util.IdentityHashMap<>();
        final boolean[][] stopped = new boolean[SLOTS][];

        /** The flag of the slot's current continuous read (set by STOP_READING). */
        boolean[] stoppedFlag(int slot) {
            if (stopped[slot] == null) {
                stopped[slot] = new boolean[1];
            }
            return stopped[slot];
        }

        Model(Backend backend) throws NativeIoException {
            loop = EventLoop.builder().backend(backend).highWatermark(4).maxQueued(64).bufferSize(4096)
                    .errorHandler(e -> {
                        if (!(e instanceof OverloadedException)) {
                            loopErrors.add(e);
                        }
                    }).build();
            server = loop.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                    conn -> conn.startReading((c, data) -> c.write(data)));
        }

        int expect(String what) {
            int id = nextId++;
            expected.put(id, what);
            calls.put(id, 0);
            return id;
        }

        void called(int id) {
            int n = calls.merge(id, 1, Integer::sum);
            if (n > 1) {
                violations.add("callback " + id + " (" + expected.get(id) + ") ran " + n + " times");
            }
        }

        void apply(Action a) throws Exception {
            if (loop.isClosed()) {
                return;
            }
            int slot = a.slot();
            TcpConnection c = slots[slot];
            boolean usable = c != null && !c.isClosed();
            switch (a.step()) {
                case CONNECT -> {
                    if ((c == null || c.isClosed()) && !connecting[slot]) {
                        int id = expect("connect");
                        connecting[slot] = true;
                        loop.connect(server.localAddress(), Duration.ofSeconds(10), (conn, err) -> {
                            called(id);
                            connecting[slot] = false;
                            if (conn != null) {
                                slots[slot] = conn;
                            }
                        });
                    }
                }
                case WRITE -> {
                    if (usable) {
                        // A quarter are small (0..49 bytes), to exercise writes sharing a buffer.
                        int size = a.arg() % 4 == 0 ? a.arg() % 50 : a.arg();
                        int id = expect("write " + size);
                        int[] last = lastWrite.computeIfAbsent(c, k -> new int[] {-1});
                        c.write(new byte[size], (v, err) -> {
                            called(id);
                            if (id < last[0]) {
                                violations.add("write callback " + id + " ran after " + last[0] + " of the same connection");
                            }
                            last[0] = Math.max(last[0], id);
                        });
                    }
                }
                case READ -> {
                    if (usable && !c.isReading()) {
                        int id = expect("read");
                        Duration timeout = a.arg() % 3 == 0 ? Timeout.NONE : Duration.ofMillis(1 + a.arg() % 40);
                        c.read(timeout, new ReadHandler() {
                            @Override
                            public void onData(TcpConnection conn, Buffer data) {
                                data.release();
                                called(id);
                            }

                            @Override
                            public void onEof(TcpConnection conn) {
                                called(id);
                            }

                            @Override
                            public void onError(TcpConnection conn, Throwable error) {
                                called(id);
                            }
                        });
                    }
                }
                case START_READING -> {
                    if (usable && !c.isReading()) {
                        int id = expect("continuous read");
                        calls.put(id, 1); // any number of onData, at most one EOF/error, none after stopReading
                        boolean[] stopped = new boolean[1];
                        this.stopped[slot] = stopped;
                        c.startReading(new ReadHandler() {
                            @Override
                            public void onData(TcpConnection conn, Buffer data) {
                                data.release();
                                if (stopped[0]) {
                                    violations.add("continuous read got data after stopReading()");
                                }
                            }

                            @Override
                            public void onEof(TcpConnection conn) {
                                if (stopped[0]) {
                                    violations.add("continuous read got EOF after stopReading()");
                                }
                            }

                            @Override
                            public void onError(TcpConnection conn, Throwable error) {
                                if (stopped[0]) {
                                    violations.add("continuous read got " + error + " after stopReading()");
                                }
                            }
                        });
                    }
                }
                case STOP_READING -> {
                    if (usable && c.isReading()) {
                        stoppedFlag(slot)[0] = true;
                        c.stopReading(); // a one-shot read ends with CancellationException; a continuous one goes quiet
                    }
                }
                case CLOSE -> {
                    if (usable) {
                        c.close();
                    }
                }
                case ABORT -> {
                    if (usable) {
                        c.abort();
                    }
                }
                case TICK -> tick(1 + a.arg() % 5);
                case SLEEP -> {
                    Thread.sleep(a.arg() % 20);
                    tick(1);
                }
                case CLOSE_LOOP -> loop.close();
            }
        }

        /** Non-blocking ticks: an unreferenced 1 ms timer bounds each poll. */
        void tick(int n) {
            for (int i = 0; i < n && !loop.isClosed(); i++) {
                loop.setTimeout(Duration.ofMillis(1), () -> { }).unref();
                loop.runOnce();
            }
        }

        void check() {
            assertThat(violations).isEmpty();
            if (!loop.isClosed()) {
                loop.core().checkInvariants();
                LoopStats s = loop.stats();
                assertThat(s.lentBytes() - s.ringBytes()).isLessThanOrEqualTo(4L * 4096);
            }
        }

        /** Closes every connection and the server, and turns the loop until every callback has run. */
        void finish() {
            if (loop.isClosed()) {
                return;
            }
            for (TcpConnection c : slots) {
                if (c != null) {
                    c.close();
                }
            }
            server.close();
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (calls.containsValue(0) && System.nanoTime() < deadline) {
                tick(1);
                for (TcpConnection c : slots) {
                    if (c != null) {
                        c.close(); // connections that finished connecting meanwhile
                    }
                }
                check();
            }
        }

        void assertEveryCallbackOnce() {
            assertThat(violations).isEmpty();
            Map<Integer, String> missing = new TreeMap<>();
            calls.forEach((id, n) -> {
                if (n != 1) {
                    missing.put(id, expected.get(id) + " ran " + n + " times");
                }
            });
            assertThat(missing).as("callbacks not run exactly once").isEmpty();
            assertThat(loopErrors).isEmpty();
        }
    }
}
