package dev.panamio;

import dev.panamio.testing.LeakChecked;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@LeakChecked
class EventLoopTimersTest {

    @Test
    void timeoutFiresNoEarlierThanItsDelay() {
        try (EventLoop loop = EventLoop.create()) {
            long start = System.nanoTime();
            AtomicReference<Long> firedAfter = new AtomicReference<>();
            loop.setTimeout(Duration.ofMillis(50), () -> firedAfter.set(System.nanoTime() - start));
            loop.run();
            assertThat(firedAfter.get()).isNotNull();
            assertThat(Duration.ofNanos(firedAfter.get())).isGreaterThanOrEqualTo(Duration.ofMillis(50))
                    .isLessThan(Duration.ofSeconds(10));
        }
    }

    @Test
    void nowIsTheTicksClockAndTimersCountFromIt() {
        try (EventLoop loop = EventLoop.create()) {
            long before = System.nanoTime();
            long[] seen = new long[3];
            loop.setTimeout(Duration.ofMillis(30), () -> {
                seen[0] = loop.now();
                seen[1] = System.nanoTime();
                seen[2] = loop.now(); // cached: unchanged within the callback
            });
            loop.run();
            assertThat(seen[0]).isGreaterThanOrEqualTo(before + Duration.ofMillis(30).toNanos()).isLessThanOrEqualTo(seen[1]);
            assertThat(seen[2]).isEqualTo(seen[0]);
        }
    }

    @Test
    void equalDeadlinesFireInInsertionOrder() {
        try (EventLoop loop = EventLoop.create()) {
            List<Integer> order = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                int n = i;
                loop.setTimeout(Duration.ofMillis(5), () -> order.add(n));
            }
            loop.run();
            assertThat(order).hasSize(200).isSorted();
        }
    }

    @Test
    void earlierDeadlinesFireFirst() {
        try (EventLoop loop = EventLoop.create()) {
            List<Integer> order = new ArrayList<>();
            loop.setTimeout(Duration.ofMillis(30), () -> order.add(30));
            loop.setTimeout(Duration.ofMillis(10), () -> order.add(10));
            loop.setTimeout(Duration.ofMillis(20), () -> order.add(20));
            loop.setTimeout(Duration.ZERO, () -> order.add(0));
            loop.run();
            assertThat(order).containsExactly(0, 10, 20, 30);
        }
    }

    @Test
    void intervalCancelledFromInsideItsOwnCallback() {
        try (EventLoop loop = EventLoop.create()) {
            AtomicInteger runs = new AtomicInteger();
            AtomicReference<Timer> self = new AtomicReference<>();
            self.set(loop.setInterval(Duration.ofMillis(5), () -> {
                if (runs.incrementAndGet() == 3) {
                    self.get().cancel();
                }
            }));
            loop.run(); // returns only if the cancelled interval stops keeping the loop alive
            assertThat(runs).hasValue(3);
            assertThat(self.get().isActive()).isFalse();
        }
    }

    @Test
    void cancelledTimeoutNeverRuns() {
        try (EventLoop loop = EventLoop.create()) {
            AtomicInteger runs = new AtomicInteger();
            Timer t = loop.setTimeout(Duration.ofMillis(10), runs::incrementAndGet);
            loop.setTimeout(Duration.ofMillis(1), t::cancel);
            loop.setTimeout(Duration.ofMillis(40), () -> { });
            loop.run();
            assertThat(runs).hasValue(0);
        }
    }

    @Test
    void runReturnsAtOnceWithNothingPending() {
        try (EventLoop loop = EventLoop.create()) {
            long start = System.nanoTime();
            loop.run();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        }
    }

    @Test
    void unrefTimerDoesNotKeepTheLoopAlive() {
        try (EventLoop loop = EventLoop.create()) {
            AtomicInteger ticks = new AtomicInteger();
            loop.setInterval(Duration.ofMillis(5), ticks::incrementAndGet).unref();
            loop.setTimeout(Duration.ofMillis(60), () -> { });
            loop.run(); // would never return if the unref'd interval kept the loop alive
            assertThat(ticks.get()).isPositive();
        }
    }

    @Test
    void badArgumentsFailAtTheCall() {
        try (EventLoop loop = EventLoop.create()) {
            assertThatThrownBy(() -> loop.setTimeout(null, () -> { })).isInstanceOf(NullPointerException.class);
            assertThatThrownBy(() -> loop.setTimeout(Duration.ofMillis(1), null)).isInstanceOf(NullPointerException.class);
            assertThatThrownBy(() -> loop.setTimeout(Duration.ofMillis(-1), () -> { }))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> loop.setInterval(Duration.ZERO, () -> { }))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void manyTimersInsertAndCancel() {
        try (EventLoop loop = EventLoop.create()) {
            int n = 100_000;
            Timer[] timers = new Timer[n];
            AtomicInteger fired = new AtomicInteger();
            for (int i = 0; i < n; i++) {
                timers[i] = loop.setTimeout(Duration.ofMillis(1 + (i % 50)), fired::incrementAndGet);
            }
            for (int i = 0; i < n; i += 2) {
                timers[i].cancel();
            }
            loop.run();
            assertThat(fired).hasValue(n / 2);
        }
    }
}
