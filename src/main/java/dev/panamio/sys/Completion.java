package dev.panamio.sys;

/** Flags of a completion, passed with its result to {@link CompletionSink#complete}. */
public final class Completion {
    private Completion() {}

    /** A multishot op produced this result and stays in the kernel: more completions will follow. */
    public static final int MORE = 1;
    /** The op was cancelled (by {@link IoBackend#cancel}) before it could finish; result is negative. */
    public static final int CANCELLED = 2;
}
