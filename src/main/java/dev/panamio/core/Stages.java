package dev.panamio.core;

import dev.panamio.Callback;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/** The CompletionStage twins of the callback APIs: the stage completes on the loop thread, from the callback. */
public final class Stages {
    private Stages() {}

    /** Starts {@code operation} with a callback that completes the returned stage. */
    public static <T> CompletionStage<T> of(Consumer<Callback<T>> operation) {
        CompletableFuture<T> f = new CompletableFuture<>();
        operation.accept((v, e) -> {
            if (e != null) {
                f.completeExceptionally(e);
            } else {
                f.complete(v);
            }
        });
        return f;
    }
}
