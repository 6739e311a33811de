package dev.panamio;

import dev.panamio.testing.LeakChecked;
import dev.panamio.testing.TestTimes;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@LeakChecked
class EventLoopThreadsTest {

    @Test
    void executeFromEightThreadsRunsEveryTaskOnceOnTheLoopThread() throws Exception {
        int threads = 8;
        int perThread = 10_000;
        try (EventLoop loop = EventLoop.create().start()) {
            AtomicReference<Thread> loopThread = new AtomicReference<>();
            CountDownLatch known = new CountDownLatch(1);
            loop.execute(() -> {
                loopThread.set(Thread.currentThread());
                known.countDown();
            });
            assertThat(known.await(TestTimes.patience().toSeconds(), TimeUnit.SECONDS)).isTrue();
            int[] counts = new int[threads]; // touched only on the loop thread
            AtomicInteger offThread = new AtomicInteger();
            CountDownLatch done = new CountDownLatch(threads * perThread);
            List<Thread> producers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                Thread p = new Thread(() -> {
                    for (int i = 0; i < perThread; i++) {
                        loop.execute(() -> {
                            if (Thread.currentThread() != loopThread.get()) {
                                offThread.incrementAndGet();
                            }
                            counts[id]++;
                            done.countDown();
                        });
                    }
                });
                producers.add(p);
                p.start();
            }
            for (Thread p : producers) {
                p.join();
            }
            assertThat(done.await(TestTimes.patience().toSeconds(), TimeUnit.SECONDS)).isTrue();
            CountDownLatch read = new CountDownLatch(1);
            int[] snapshot = new int[threads];
            loop.execute(() -> {
                System.arraycopy(counts, 0, snapshot, 0, threads);
                read.countDown();
            });
            assertThat(read.await(TestTimes.patience().toSeconds(), TimeUnit.SECONDS)).isTrue();
            assertThat(snapshot).containsOnly(perThread);
            assertThat(offThread).hasValue(0);
        }
    }

    @Test
    void loopThreadOnlyMethodsRefuseOtherThreads() throws Exception {
        try (EventLoop loop = EventLoop.create().start()) {
            assertThatThrownBy(() -> loop.nextTick(() -> { }))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("loop.execute");
            assertThatThrownBy(() -> loop.listen(new InetSocketAddress("127.0.0.1", 0), c -> { }))
                    .isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(loop::allocateBuffer).isInstanceOf(IllegalStateException.class);
            // Any-thread methods work: a timer set from here runs on the loop.
            CountDownLatch fired = new CountDownLatch(1);
            loop.setTimeout(Duration.ofMillis(1), fired::countDown);
            assertThat(fired.await(TestTimes.patience().toSeconds(), TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void runTwiceAtOnceIsRefused() throws Exception {
        try (EventLoop loop = EventLoop.create().start()) {
            assertThatThrownBy(loop::run).isInstanceOf(IllegalStateException.class).hasMessageContaining("already running");
        }
    }
}
