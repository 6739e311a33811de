package dev.panamio;

import dev.panamio.testing.LeakChecked;
import dev.panamio.testing.TestTimes;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@LeakChecked
class EventLoopCloseTest {

    @Test
    void closeDropsTimersAndEverythingAfterwardsFailsClearly() {
        EventLoop loop = EventLoop.create();
        AtomicInteger ran = new AtomicInteger();
        loop.setTimeout(Duration.ofSeconds(30), ran::incrementAndGet);
        loop.close();
        loop.close(); // idempotent
        assertThat(ran).hasValue(0);
        assertThat(loop.isClosed()).isTrue();
        assertThatThrownBy(() -> loop.setTimeout(Duration.ofMillis(1), () -> { }))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        assertThatThrownBy(() -> loop.execute(() -> { })).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(loop::run).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(loop::allocateBuffer).isInstanceOf(IllegalStateException.class);
        assertThat(loop.stats().nativeBytes()).isZero();
    }

    @Test
    void closeFromInsideACallbackEndsTheRun() {
        EventLoop loop = EventLoop.create();
        loop.setInterval(Duration.ofMillis(1), () -> { });
        loop.setTimeout(Duration.ofMillis(10), loop::close);
        loop.run(); // the interval would keep it alive forever; close ends it
        assertThat(loop.isClosed()).isTrue();
    }

    @Test
    void closeFromAnotherThreadWaitsForTheLoop() throws Exception {
        EventLoop loop = EventLoop.create().start();
        CountDownLatch ticking = new CountDownLatch(3);
        loop.setInterval(Duration.ofMillis(1), ticking::countDown);
        assertThat(ticking.await(TestTimes.patience().toSeconds(), TimeUnit.SECONDS)).isTrue();
        loop.close();
        assertThat(loop.isClosed()).isTrue();
        assertThat(loop.stats().nativeBytes()).isZero();
    }

    @Test
    void executeTasksAcceptedBeforeCloseStillRun() {
        EventLoop loop = EventLoop.create();
        List<String> ran = new ArrayList<>();
        loop.execute(() -> ran.add("accepted"));
        loop.close();
        assertThat(ran).containsExactly("accepted");
    }

    @Test
    void statsAreAnImmutableSnapshot() {
        try (EventLoop loop = EventLoop.create()) {
            loop.setTimeout(Duration.ofMillis(1), () -> { });
            LoopStats before = loop.stats();
            assertThat(before.timers()).isEqualTo(1);
            assertThat(before.backend()).isEqualTo(loop.backend().name().toLowerCase(java.util.Locale.ROOT));
            loop.run();
            assertThat(before.timers()).isEqualTo(1);
            assertThat(loop.stats().timers()).isZero();
            assertThat(loop.stats().toJson()).contains("\"opsInKernel\":0", "\"lentBytes\":0");
        }
    }
}
