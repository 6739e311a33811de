package dev.panamio;

/**
 * An immutable snapshot of a loop's counters ({@link EventLoop#stats()}).
 *
 * <p>Native memory: {@code nativeBytes} is everything the loop allocated (buffer slabs, backend rings, event
 * arrays). Of the buffer pool's bytes, {@code lentBytes} are lent to the kernel right now (held by
 * operations in it, or by a provided-buffer ring: {@code ringBytes} of them), {@code leasedBytes} are held by
 * user code through
 * {@link Buffer} leases, and {@code freeBytes} are free: {@code lent + leased + free} equals the pool's size.
 *
 * @param backend          the kernel queue, e.g. {@code epoll}
 * @param connections      open TCP connections
 * @param handles          open handles (servers and connections)
 * @param timers           scheduled timers and operation deadlines (a deadline stays scheduled after its operation
 *                         completes, until it would have passed or its connection closes: the next read reuses it)
 * @param pendingCallbacks callbacks waiting to run (including blocking tasks not yet delivered)
 * @param opsInKernel      operations the kernel holds
 * @param opsQueued        operations waiting in user space behind the high watermark (and queued writes)
 * @param nativeBytes      native bytes the loop holds
 * @param lentBytes        pool bytes lent to the kernel
 * @param ringBytes        of those, bytes lent ahead of time to a provided-buffer ring (io_uring), independent
 *                         of the number of connections
 * @param peakLentBytes    the most pool bytes lent to the kernel at once since the loop started: never more
 *                         than the loop's lent-bytes bound ({@code min(highWatermark × bufferSize, maxLentBytes)})
 * @param leasedBytes      pool bytes held by user leases
 * @param freeBytes        pool bytes free
 * @param completed        operations completed since start
 * @param timeouts         operations that hit their deadline since start
 * @param watermarkHits    times an operation had to wait at the high watermark
 * @param overloads        operations refused with {@link OverloadedException}
 * @param callbackErrors   exceptions thrown by callbacks (sent to the error handler)
 */
public record LoopStats(
        String backend,
        int connections,
        int handles,
        int timers,
        int pendingCallbacks,
        int opsInKernel,
        int opsQueued,
        long nativeBytes,
        long lentBytes,
        long ringBytes,
        long peakLentBytes,
        long leasedBytes,
        long freeBytes,
        long completed,
        long timeouts,
        long watermarkHits,
        long overloads,
        long callbackErrors) {

    /**
     * Returns the snapshot as one line of JSON.
     *
     * @return the snapshot as one line of JSON
     */
    public String toJson() {
        return "{\"backend\":\"" + backend + "\",\"connections\":" + connections + ",\"handles\":" + handles
                + ",\"timers\":" + timers + ",\"pendingCallbacks\":" + pendingCallbacks
                + ",\"opsInKernel\":" + opsInKernel + ",\"opsQueued\":" + opsQueued
                + ",\"nativeBytes\":" + nativeBytes + ",\"lentBytes\":" + lentBytes + ",\"ringBytes\":" + ringBytes
                + ",\"peakLentBytes\":" + peakLentBytes
                + ",\"leasedBytes\":" + leasedBytes + ",\"freeBytes\":" + freeBytes
                + ",\"completed\":" + completed + ",\"timeouts\":" + timeouts
                + ",\"watermarkHits\":" + watermarkHits + ",\"overloads\":" + overloads
                + ",\"callbackErrors\":" + callbackErrors + "}";
    }
}
