package dev.panamio;

import dev.panamio.testing.LeakChecked;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

@LeakChecked
class EventLoopBlockingTest {

    @Test
    void saturatedPoolQueuesAndDeliversEveryResultOnTheLoopThread() {
        try (EventLoop loop = EventLoop.builder().blockingThreads(4).build()) {
            AtomicInteger running = new AtomicInteger();
            AtomicInteger maxRunning = new AtomicInteger();
            List<Integer> results = new ArrayList<>();
            List<Thread> callbackThreads = new ArrayList<>();
            Thread[] loopThread = new Thread[1];
            loop.setImmediate(() -> loopThread[0] = Thread.currentThread());
            for (int i = 0; i < 100; i++) {
                int n = i;
                loop.submitBlocking(() -> {
                    int now = running.incrementAndGet();
                    maxRunning.accumulateAndGet(now, Math::max);
                    Thread.sleep(2);
                    running.decrementAndGet();
                    return n * n;
                }, (v, e) -> {
                    assertThat(e).isNull();
                    results.add(v);
                    callbackThreads.add(Thread.currentThread());
                });
            }
            loop.run(); // pending blocking work keeps the loop alive until every result is delivered
            assertThat(results).hasSize(100);
            assertThat(results).containsExactlyInAnyOrderElementsOf(
                    java.util.stream.IntStream.range(0, 100).map(i -> i * i).boxed().toList());
            assertThat(maxRunning.get()).isBetween(1, 4);
            assertThat(callbackThreads).containsOnly(loopThread[0]);
        }
    }

    @Test
    void exceptionsOfBlockingWorkAreDelivered() {
        try (EventLoop loop = EventLoop.create()) {
            List<Throwable> errors = new ArrayList<>();
            loop.submitBlocking(() -> {
                throw new IOException("disk on fire");
            }, (v, e) -> errors.add(e));
            loop.run();
            assertThat(errors).singleElement(org.assertj.core.api.InstanceOfAssertFactories.THROWABLE).isInstanceOf(IOException.class).hasMessage("disk on fire");
        }
    }

    @Test
    void closeDeliversClosedExceptionToUndeliveredBlockingWorkOnce() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        List<Throwable> outcomes = new ArrayList<>();
        EventLoop loop = EventLoop.create();
        loop.submitBlocking(() -> {
            release.await(30, TimeUnit.SECONDS);
            return "late";
        }, (v, e) -> outcomes.add(e));
        loop.close();
        release.countDown();
        Thread.sleep(50);
        assertThat(outcomes).singleElement().isInstanceOf(ClosedException.class);
    }
}
