package dev.panamio.core;

import dev.panamio.ClosedException;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;

/**
 * The pool for blocking work (file reads, CPU work): a fixed number of daemon threads over an unbounded
 * queue — a full pool queues, it never rejects. Results come back to the loop thread through
 * {@link LoopCore#execute}. Threads start on first use, so a loop that never blocks costs no thread.
 */
final class BlockingPool {
    private static final AtomicInteger POOL_IDS = new AtomicInteger();

    private final int threads;
    private ThreadPoolExecutor executor;
    /** Tasks whose callback has not run yet; loop thread only. */
    private final Set<Task<?>> undelivered = Collections.newSetFromMap(new IdentityHashMap<>());

    BlockingPool(int threads) {
        this.threads = threads;
    }

    void submit(Task<?> task) {
        if (executor == null) {
            int id = POOL_IDS.incrementAndGet();
            AtomicInteger n = new AtomicInteger();
            executor = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                    r -> {
                        Thread t = new Thread(r, "panamio-blocking-" + id + "-" + n.incrementAndGet());
                        t.setDaemon(true);
                        return t;
                    });
            executor.allowCoreThreadTimeOut(true);
        }
        undelivered.add(task);
        executor.execute(task);
    }

    /** Loop closing: every undelivered callback runs now with a ClosedException. */
    void failAll(LoopCore loop) {
        Task<?>[] tasks = undelivered.toArray(new Task<?>[0]);
        undelivered.clear();
        for (Task<?> t : tasks) {
            t.fail(loop, new ClosedException("event loop closed before the blocking task's result was delivered"));
        }
    }

    void shutdown() {
        if (executor != null) {
            executor.shutdownNow();
        }
    }

    /** One unit of blocking work and its loop-thread callback; the callback runs exactly once. */
    static final class Task<T> implements Runnable {
        private final Callable<T> work;
        private final BiConsumer<T, Throwable> done;
        private final LoopCore loop;
        private final AtomicBoolean delivered = new AtomicBoolean();
        private T result;
        private Throwable error;

        Task(Callable<T> work, BiConsumer<T, Throwable> done, LoopCore loop) {
            this.work = work;
            this.done = done;
            this.loop = loop;
        }

        @Override
        public void run() {
            try {
                result = work.call();
            } catch (Throwable t) {
                error = t;
            }
            try {
                loop.blockingDone(this);
            } catch (IllegalStateException closed) {
                // The loop closed meanwhile; failAll has delivered (or will deliver) the ClosedException.
            }
        }

        /** On the loop thread: runs the callback unless it already ran. */
        boolean deliver() {
            if (!delivered.compareAndSet(false, true)) {
                return false;
            }
            loop.blockingPool().undelivered.remove(this);
            T r = result;
            Throwable e = error;
            loop.invoke(() -> done.accept(r, e));
            return true;
        }

        void fail(LoopCore loop, Throwable e) {
            if (delivered.compareAndSet(false, true)) {
                loop.invoke(() -> done.accept(null, e));
            }
        }
    }
}
