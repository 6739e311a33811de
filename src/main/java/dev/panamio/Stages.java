package dev.panamio;

import java.util.concurrent.CompletableFuture;

/** Bridges callbacks to {@code CompletionStage}s: the stage completes on the loop thread. */
final class Stages {
    private Stages() {}

    static <T> Callback<T> callback(CompletableFuture<T> f) {
        return (v, e) -> {
            if (e != null) {
                f.completeExceptionally(e);
            } else {
                f.complete(v);
            }
        };
    }
}
