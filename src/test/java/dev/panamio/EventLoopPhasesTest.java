package dev.panamio;

import dev.panamio.testing.LeakChecked;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

@LeakChecked
class EventLoopPhasesTest {

    @Test
    void timersThenPendingThenCheck() {
        try (EventLoop loop = EventLoop.create()) {
            List<String> order = new ArrayList<>();
            loop.setImmediate(() -> order.add("immediate"));
            loop.execute(() -> order.add("execute"));
            loop.setTimeout(Duration.ZERO, () -> order.add("timer"));
            loop.run();
            assertThat(order).containsExactly("timer", "execute", "immediate");
        }
    }

    @Test
    void nextTickRunsRightAfterTheCurrentCallback() {
        try (EventLoop loop = EventLoop.create()) {
            List<String> order = new ArrayList<>();
            loop.setTimeout(Duration.ZERO, () -> {
                loop.setTimeout(Duration.ZERO, () -> order.add("next timer"));
                loop.setImmediate(() -> order.add("immediate"));
                loop.nextTick(() -> order.add("tick"));
                order.add("timer");
            });
            loop.setTimeout(Duration.ZERO, () -> order.add("second timer"));
            loop.run();
            assertThat(order).containsExactly("timer", "tick", "second timer", "immediate", "next timer");
        }
    }

    @Test
    void immediateQueuedByAnImmediateWaitsForTheNextTick() {
        try (EventLoop loop = EventLoop.create()) {
            List<String> order = new CopyOnWriteArrayList<>();
            loop.setImmediate(() -> {
                order.add("a");
                loop.setImmediate(() -> order.add("c"));
                loop.setTimeout(Duration.ZERO, () -> order.add("timer"));
            });
            loop.setImmediate(() -> order.add("b"));
            loop.run();
            // "c" was queued during the check phase, so a whole tick (with its timers phase) runs first.
            assertThat(order).containsExactly("a", "b", "timer", "c");
        }
    }

    @Test
    void aThrowingCallbackDoesNotStopTheLoop() {
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        try (EventLoop loop = EventLoop.builder().errorHandler(errors::add).build()) {
            List<String> ran = new ArrayList<>();
            loop.setTimeout(Duration.ZERO, () -> {
                throw new IllegalStateException("boom 1");
            });
            loop.setImmediate(() -> {
                throw new RuntimeException("boom 2");
            });
            loop.execute(() -> {
                throw new AssertionError("boom 3");
            });
            loop.setTimeout(Duration.ofMillis(5), () -> ran.add("after"));
            loop.run();
            assertThat(ran).containsExactly("after");
            assertThat(errors).extracting(Throwable::getMessage).containsExactlyInAnyOrder("boom 1", "boom 2", "boom 3");
            assertThat(loop.stats().callbackErrors()).isEqualTo(3);
        }
    }

    @Test
    void aThrowingErrorHandlerDoesNotStopTheLoopEither() {
        try (EventLoop loop = EventLoop.builder().errorHandler(t -> {
            throw new RuntimeException("handler fails too");
        }).build()) {
            List<String> ran = new ArrayList<>();
            loop.setImmediate(() -> {
                throw new RuntimeException("boom");
            });
            loop.setTimeout(Duration.ofMillis(1), () -> ran.add("still running"));
            loop.run();
            assertThat(ran).containsExactly("still running");
        }
    }

    @Test
    void runOnceRunsOneTickAndSaysWhetherWorkRemains() {
        try (EventLoop loop = EventLoop.create()) {
            List<String> order = new ArrayList<>();
            loop.setImmediate(() -> {
                order.add("first tick");
                loop.setImmediate(() -> order.add("second tick"));
            });
            assertThat(loop.runOnce()).isTrue();
            assertThat(order).containsExactly("first tick");
            assertThat(loop.runOnce()).isFalse();
            assertThat(order).containsExactly("first tick", "second tick");

            loop.setTimeout(Duration.ofMillis(20), () -> order.add("timer"));
            int ticks = 0;
            while (loop.runOnce()) {
                ticks++;
                assertThat(ticks).isLessThan(10_000);
            }
            assertThat(order).endsWith("timer");

            List<Throwable> errors = new ArrayList<>();
            loop.setImmediate(() -> {
                try {
                    loop.runOnce();
                } catch (IllegalStateException e) {
                    errors.add(e);
                }
            });
            loop.runOnce();
            assertThat(errors).singleElement().extracting(Throwable::getMessage).asString().contains("inside the loop");
        }
    }
}
