package dev.panamio.core;

import java.util.function.Consumer;

/**
 * A loop's settings, validated by the public builder.
 *
 * @param highWatermark     most lending ops in the kernel at once
 * @param maxLentBytes      most bytes lent to the kernel at once
 * @param maxQueued         most ops waiting in user space (gate FIFO plus queued write buffers)
 * @param bufferSize        size of every pooled buffer
 * @param blockingThreads   threads of the blocking-work pool
 * @param connectTimeoutNanos default connect deadline
 * @param readTimeoutNanos    default read deadline (how long a read may wait for data), {@code <= 0}: none
 * @param writeTimeoutNanos   default write deadline
 * @param errorHandler      where exceptions thrown by callbacks go
 * @param reuseLeases       a read's lease object, ended during its handler, serves the connection's next read
 * @param retainedPoolBytes buffer-pool bytes kept however little is in use ({@code Long.MAX_VALUE}: the pool
 *                          never gives memory back before the loop closes)
 */
public record LoopConfig(
        int highWatermark,
        long maxLentBytes,
        int maxQueued,
        int bufferSize,
        int blockingThreads,
        long connectTimeoutNanos,
        long readTimeoutNanos,
        long writeTimeoutNanos,
        Consumer<Throwable> errorHandler,
        boolean reuseLeases,
        long retainedPoolBytes) {

    /** The default of {@link #retainedPoolBytes}. */
    public static final long DEFAULT_RETAINED_POOL_BYTES = 4L << 20;

    /** A configuration with the default {@link #retainedPoolBytes}. */
    public LoopConfig(int highWatermark, long maxLentBytes, int maxQueued, int bufferSize, int blockingThreads,
            long connectTimeoutNanos, long readTimeoutNanos, long writeTimeoutNanos,
            Consumer<Throwable> errorHandler, boolean reuseLeases) {
        this(highWatermark, maxLentBytes, maxQueued, bufferSize, blockingThreads, connectTimeoutNanos,
                readTimeoutNanos, writeTimeoutNanos, errorHandler, reuseLeases, DEFAULT_RETAINED_POOL_BYTES);
    }
}
