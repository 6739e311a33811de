package dev.panamio.testing;

import dev.panamio.EventLoop;

import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Running test code on a started loop's thread. */
public final class Loops {
    private Loops() {}

    /** Runs {@code action} on the loop thread and returns its result (or throws what it threw). */
    public static <T> T onLoop(EventLoop loop, Callable<T> action) throws Exception {
        CompletableFuture<T> f = new CompletableFuture<>();
        loop.execute(() -> {
            try {
                f.complete(action.call());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f.get(TestTimes.patience().toSeconds(), TimeUnit.SECONDS);
    }
}
