package dev.panamio.core;

import dev.panamio.sys.CompletionSink;
import dev.panamio.sys.IoBackend;
import dev.panamio.sys.Op;
import dev.panamio.sys.OpRegistry;

import java.util.ArrayDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The loop: its phases, in Node/libuv order, in one place ({@link #runOnce}); the op table, deadlines,
 * watermark gate, buffer pool, callback queues and cross-thread submission.
 *
 * <p>Threading: confined to the loop thread — the thread inside {@link #run}, or, while none is, any one
 * thread that owns the loop. {@link #execute}, {@link #wakeup} and the statistics getters are safe from any
 * thread.
 */
public final class LoopCore implements CompletionSink {
    /**
     * Callbacks of the pending and check phases run per tick at most: past it the rest wait for the next tick,
     * so a flood of immediates or cross-thread tasks cannot keep the loop from polling for I/O.
     */
    static final int MAX_CALLBACKS_PER_PHASE = 4096;
    /** Longest single wait, so a clock jump or a lost wakeup costs at most this much latency. */
    static final long MAX_POLL_NANOS = 1_000_000_000L;
    /** Most buffers one gather write hands the kernel (IOV_MAX is 1024; beyond 64 the syscall gains nothing). */
    public static final int MAX_GATHER = 64;
    /** Size of one gather entry: iovec and WSABUF are both 16 bytes on 64-bit platforms. */
    public static final int IOV_ENTRY_BYTES = 16;
    /**
     * Where, in a gather array, 64 bytes are left for the backend (io_uring's msghdr), so everything a gather
     * write lends the kernel lives, unmoved, in the one slot.
     */
    public static final int GATHER_HEADER_OFFSET = IOV_ENTRY_BYTES * MAX_GATHER;

    public enum State { OPEN, CLOSING, CLOSED }

    private final LoopConfig config;
    private final IoBackend backend;
    private final NativeMemory memory;
    private final BufferPool pool;
    /** Small fixed-size scratch segments (socket addresses), reused so per-connection setup frees nothing. */
    private final BufferPool addressSlots;
    /** Gather-write entry arrays (iovec/WSABUF), one per connection that writes more than one buffer at once. */
    private final BufferPool iovSlots;
    private final OpRegistry registry = new OpRegistry();
    private final TimerHeap timers = new TimerHeap();
    /** Gives the buffer pool's unneeded slabs back; does not keep the loop alive. */
    private final TimerNode poolTrim = new TimerNode() {
        @Override
        protected void expire() {
            long again = pool.trim();
            if (again >= 0) {
                timers.schedule(this, now + again);
            }
        }
    };
    private final Gate gate;
    /** How many pool buffers one op may lend at most; fixed by the config, so computed once. */
    private final int maxBuffersPerOp;

    private final ArrayDeque<Runnable> pending = new ArrayDeque<>();
    /** Connections' flushes waiting for the end of the current callback ({@link #flushAfterCallback}). */
    private final ArrayDeque<Runnable> flushes = new ArrayDeque<>();
    private final ArrayDeque<Runnable> immediates = new ArrayDeque<>();
    private final ArrayDeque<Runnable> closeCallbacks = new ArrayDeque<>();
    private final ArrayDeque<Runnable> microtasks = new ArrayDeque<>();
    private final ConcurrentLinkedQueue<Runnable> inbox = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean wakeupPending = new AtomicBoolean();
    private final BlockingPool blocking;

    private volatile Thread loopThread;
    private volatile State state = State.OPEN;
    private volatile boolean closeRequested;
    private boolean keepAliveUntilClosed;
    private long now;

    /** Handles (servers, connections) that keep the loop alive. */
    private int refs;
    private int refTimers;
    private int blockingPending;
    private final HandleList handles = new HandleList();

    private int opsInKernel;
    private int connections;
    private long queuedWrites;
    private long completed;
    private long timeouts;
    private long overloads;
    private long callbackErrors;

    /** Opens a backend for a loop. */
    @FunctionalInterface
    public interface BackendFactory {
        /**
         * @param ringBuffers pool buffers the backend may lend ahead of time (0: none), already reserved on the
         *                    gate so that everything lent stays within the high watermark
         */
        IoBackend open(NativeMemory memory, BufferPool pool, OpRegistry registry, int ringBuffers);
    }

    /**
     * Most buffers lent ahead of time: 256 × 16 KiB = 4 MiB by default. Connections with data beyond that
     * many at once fall back to poll-then-recv, which costs a little more but holds nothing while idle.
     */
    static final int MAX_RING_BUFFERS = 256;

    /** Buffers a backend may keep lent ahead of time: the largest power of two up to half the watermark. */
    static int ringBuffersFor(LoopConfig config) {
        long byBytes = config.maxLentBytes() / config.bufferSize();
        long half = Math.min(config.highWatermark(), byBytes) / 2;
        if (half < 2) {
            return 0;
        }
        return Integer.highestOneBit((int) Math.min(half, MAX_RING_BUFFERS));
    }

    public LoopCore(LoopConfig config, BackendFactory backendFactory) {
        this.config = config;
        this.memory = new NativeMemory();
        this.pool = new BufferPool(memory, config.bufferSize(), config.retainedPoolBytes());
        pool.onTrimDue(() -> timers.schedule(poolTrim, now + BufferPool.TRIM_DELAY_NANOS));
        this.maxBuffersPerOp = (int) Math.max(1, Math.min(MAX_GATHER, config.maxLentBytes() / config.bufferSize()));
        this.addressSlots = new BufferPool(memory, 128);
        this.iovSlots = new BufferPool(memory, GATHER_HEADER_OFFSET + 64);
        this.gate = new Gate(config.highWatermark(), config.maxLentBytes());
        int ring = ringBuffersFor(config);
        IoBackend b;
        try {
            b = backendFactory.open(memory, pool, registry, ring);
        } catch (RuntimeException | Error e) {
            memory.close();
            throw e;
        }
        this.backend = b;
        if (b.supportsSelectedBuffers()) {
            gate.reserve(ring, (long) ring * config.bufferSize());
        }
        this.blocking = new BlockingPool(config.blockingThreads());
        this.now = System.nanoTime();
    }

    // ---------------------------------------------------------------- accessors (loop thread)

    public LoopConfig config() {
        return config;
    }

    public IoBackend backend() {
        return backend;
    }

    public BufferPool pool() {
        return pool;
    }

    /** A 128-byte scratch segment pool for socket addresses. */
    public BufferPool addressSlots() {
        return addressSlots;
    }

    /** A pool of gather arrays of {@link #MAX_GATHER} 16-byte entries. */
    public BufferPool iovSlots() {
        return iovSlots;
    }

    public OpRegistry registry() {
        return registry;
    }

    public TimerHeap timers() {
        return timers;
    }

    public NativeMemory memory() {
        return memory;
    }

    Gate gate() {
        return gate;
    }

    BlockingPool blockingPool() {
        return blocking;
    }

    /** The loop's cached clock (nanoseconds, {@link System#nanoTime} base), updated once per tick. */
    public long now() {
        return now;
    }

    /** Refreshes the cached clock (for code that measures within a tick). */
    public long updateNow() {
        return now = System.nanoTime();
    }

    public State state() {
        return state;
    }

    public boolean isOpen() {
        return state == State.OPEN && !closeRequested;
    }

    /** Throws unless the caller may use loop-thread-only methods and the loop is open. */
    public void checkThread() {
        Thread t = loopThread;
        if (t != null && t != Thread.currentThread()) {
            throw new IllegalStateException("called from thread '" + Thread.currentThread().getName()
                    + "', but this loop runs on '" + t.getName() + "': use loop.execute(...) from other threads");
        }
    }

    /** {@link #checkThread()} plus: the loop is not closed. */
    public void checkUsable() {
        if (state != State.OPEN || closeRequested) {
            throw new IllegalStateException("event loop is closed");
        }
        checkThread();
    }

    /** Whether the caller is on the loop thread (or the loop is not running and the caller may own it). */
    public boolean inLoopThread() {
        Thread t = loopThread;
        return t == null || t == Thread.currentThread();
    }

    // ---------------------------------------------------------------- alive accounting

    public void ref() {
        refs++;
    }

    public void unref() {
        refs--;
    }

    public void refTimer(int delta) {
        refTimers += delta;
    }

    public HandleList handles() {
        return handles;
    }

    private boolean alive() {
        return refs > 0 || refTimers > 0 || !pending.isEmpty() || !immediates.isEmpty()
                || !closeCallbacks.isEmpty() || blockingPending > 0 || !inbox.isEmpty();
    }

    // ---------------------------------------------------------------- callbacks

    /** Runs user code: exceptions go to the error handler, then microtasks queued by it run. */
    public void invoke(Runnable r) {
        try {
            r.run();
        } catch (Throwable t) {
            reportError(t);
        }
        drainMicrotasks();
    }

    /**
     * What {@link #invoke} does after its callback, for hot paths that call their callback directly (inside
     * their own try/catch reporting to {@link #reportError}) so that no lambda is allocated per call.
     */
    public void afterCallback() {
        drainMicrotasks();
    }

    public void reportError(Throwable t) {
        callbackErrors++;
        if (t instanceof VirtualMachineError vme && !(t instanceof StackOverflowError)) {
            throw vme;
        }
        try {
            config.errorHandler().accept(t);
        } catch (Throwable ignored) {
            // A throwing error handler must not take the loop down either.
        }
    }

    private void drainMicrotasks() {
        do {
            runAll(microtasks);
            runAll(flushes); // a flush may queue microtasks (a writability signal): hence the loop
        } while (!microtasks.isEmpty());
    }

    private void runAll(ArrayDeque<Runnable> queue) {
        Runnable r;
        while ((r = queue.poll()) != null) {
            try {
                r.run();
            } catch (Throwable t) {
                reportError(t);
            }
        }
    }

    /**
     * Runs {@code flush} once the current callback and its microtasks have returned (or before the next
     * poll, for a write made outside any callback): a connection's writes of one callback leave together.
     */
    public void flushAfterCallback(Runnable flush) {
        flushes.add(flush);
    }

    /** Queues a microtask: runs right after the current callback (Node's {@code process.nextTick}). */
    public void nextTick(Runnable r) {
        microtasks.add(r);
    }

    /** Queues a callback for the pending phase of this or the next tick. */
    public void defer(Runnable r) {
        pending.add(r);
    }

    /** Queues a check-phase callback ({@code setImmediate}). */
    public void immediate(Runnable r) {
        immediates.add(r);
    }

    /** Queues a close-phase callback. */
    public void onClosePhase(Runnable r) {
        closeCallbacks.add(r);
    }

    /** Any thread: runs {@code r} on the loop thread in its pending phase. */
    public void execute(Runnable r) {
        if (state == State.CLOSED) {
            throw new IllegalStateException("event loop is closed");
        }
        inbox.add(r);
        if (loopThread != Thread.currentThread()) {
            wakeup();
        }
    }

    /** Any thread: makes a blocked poll return. Repeated calls merge into one kernel wakeup. */
    public void wakeup() {
        if (wakeupPending.compareAndSet(false, true)) {
            backend.wakeup();
        }
    }

    // ---------------------------------------------------------------- blocking work

    /**
     * Runs {@code work} on the blocking pool; {@code done} runs on the loop thread with the result. The
     * pending work keeps the loop alive until delivered.
     */
    public <T> void submitBlocking(java.util.concurrent.Callable<T> work, java.util.function.BiConsumer<T, Throwable> done) {
        blockingPending++;
        BlockingPool.Task<T> task = new BlockingPool.Task<>(work, done, this);
        blocking.submit(task);
    }

    void blockingDone(BlockingPool.Task<?> task) {
        execute(() -> {
            if (task.deliver()) {
                blockingPending--;
            }
        });
    }

    // ---------------------------------------------------------------- ops

    /** Hands {@code op} to the gate or straight to the backend, with a deadline. */
    void submit(CoreOp op, long timeoutNanos) {
        if (op.state != CoreOp.IDLE) {
            throw new IllegalStateException("op already pending");
        }
        op.armDeadline(timeoutNanos);
        if (op.lends()) {
            if (!gate.admitOrQueue(op, op.lendBytes())) {
                op.state = CoreOp.QUEUED;
                return;
            }
        }
        enterKernel(op);
    }

    /** How many buffers of the pool one op may lend at most (a gather write's upper bound). */
    public int maxBuffersPerOp() {
        return maxBuffersPerOp;
    }

    private void enterKernel(CoreOp op) {
        if (LoopEvents.recording() && LoopEvents.opCompletedEnabled()) {
            op.submittedAt = System.nanoTime();
        }
        op.onAdmit();
        op.state = CoreOp.IN_KERNEL;
        opsInKernel++;
        backend.submit(op);
    }

    /**
     * An op's final completion arrived: its gate place is free. Queued ops are admitted only afterwards, by
     * {@link #admitQueued()} once the op's completion handler has taken its buffer back from the kernel's
     * account, so that the lent count never exceeds the limits even for an instant.
     *
     * @return whether the op held a place on the gate (so that queued ops may now fit)
     */
    boolean opLeftKernel(CoreOp op) {
        opsInKernel--;
        completed++;
        if (op.onGate) {
            gate.release(op);
            return true;
        }
        return false;
    }

    /** Admits queued ops while the gate has room. */
    void admitQueued() {
        CoreOp next;
        while ((next = gate.nextAdmissible()) != null) {
            enterKernel(next);
        }
    }

    /** Whether one more queued op would exceed {@code maxQueued}; counts the rejection if so. */
    public boolean overloaded(int more) {
        if (gate.queued() + queuedWrites + more > config.maxQueued()) {
            overloads++;
            LoopEvents.Overload e = LoopEvents.recording() ? new LoopEvents.Overload() : null;
            if (e != null && e.shouldCommit()) {
                e.queued = gate.queued() + queuedWrites;
                e.maxQueued = config.maxQueued();
                e.commit();
            }
            return true;
        }
        return false;
    }

    /** Connections report the write buffers they hold in user space. */
    public void queuedWrites(long delta) {
        queuedWrites += delta;
    }

    void countTimeout(CoreOp op, boolean queued) {
        timeouts++;
        LoopEvents.OpTimeout e = LoopEvents.recording() ? new LoopEvents.OpTimeout() : null;
        if (e != null && e.shouldCommit()) {
            e.kind = dev.panamio.sys.OpKind.name(op.kind);
            e.queued = queued;
            e.commit();
        }
    }

    @Override
    public void waited() {
        updateNow();
    }

    @Override
    public void complete(Op op, long result, int flags) {
        ((CoreOp) op).completed(result, flags);
        drainMicrotasks();
    }

    // ---------------------------------------------------------------- the loop

    /** Runs until nothing referenced is pending (or until close when started with keep-alive). */
    public void run(boolean keepAlive) {
        drive(keepAlive, false);
    }

    /**
     * One tick on the calling thread (libuv's {@code UV_RUN_ONCE}): blocks in poll only if nothing is ready.
     *
     * @return whether anything referenced is still pending
     */
    public boolean runOneTick() {
        drive(false, true);
        return state == State.OPEN && alive();
    }

    /** Owns the loop on the calling thread for ticks (one, or until idle or closed), then lets it go. */
    private void drive(boolean keepAlive, boolean once) {
        enter(keepAlive);
        try {
            updateNow();
            while (state == State.OPEN && !closeRequested && (keepAliveUntilClosed || once || alive())) {
                runOnce();
                if (once) {
                    break;
                }
            }
        } finally {
            loopThread = null;
            if (closeRequested && state == State.OPEN) {
                closeNow();
            }
        }
    }

    private synchronized void enter(boolean keepAlive) {
        if (state != State.OPEN || closeRequested) {
            throw new IllegalStateException("event loop is closed");
        }
        Thread t = loopThread;
        if (t != null) {
            throw new IllegalStateException(t == Thread.currentThread()
                    ? "run() called from inside the loop" : "loop already running on '" + t.getName() + "'");
        }
        loopThread = Thread.currentThread();
        keepAliveUntilClosed = keepAlive;
    }

    /** One tick: timers → pending → poll → check → close. */
    void runOnce() {
        updateNow();
        runTimers();
        runPending();
        drainMicrotasks(); // writes made outside any callback (before run(), say) are sent now
        backend.poll(pollTimeout(), this);
        if (wakeupPending.get()) {
            wakeupPending.set(false); // (a plain read first: no fence per tick when no thread woke the loop)
        }
        runImmediates();
        runCloseCallbacks();
    }

    private long pollTimeout() {
        if (!pending.isEmpty() || !immediates.isEmpty() || !closeCallbacks.isEmpty() || !inbox.isEmpty()
                || closeRequested) {
            return 0;
        }
        TimerNode next = timers.peek();
        if (next == null) {
            return keepAliveUntilClosed || refs > 0 || blockingPending > 0 ? MAX_POLL_NANOS : 0;
        }
        long wait = next.deadline - updateNow();
        return wait <= 0 ? 0 : Math.min(wait, MAX_POLL_NANOS);
    }

    private void runTimers() {
        TimerNode n;
        long limit = timers.nextSeq();
        while ((n = timers.pollExpired(now, limit)) != null) {
            TimerNode expired = n;
            invoke(expired::expire);
        }
    }

    private void runPending() {
        int budget = MAX_CALLBACKS_PER_PHASE;
        Runnable r;
        while (budget-- > 0 && (r = inbox.poll()) != null) {
            invoke(r);
        }
        int n = Math.min(pending.size(), MAX_CALLBACKS_PER_PHASE);
        while (n-- > 0 && (r = pending.poll()) != null) {
            invoke(r);
        }
    }

    private void runImmediates() {
        // Only those queued before the phase began run now (Node semantics): one queued by an immediate
        // waits for the next tick, so a self-rescheduling immediate cannot starve I/O.
        int n = Math.min(immediates.size(), MAX_CALLBACKS_PER_PHASE);
        Runnable r;
        while (n-- > 0 && (r = immediates.poll()) != null) {
            invoke(r);
        }
    }

    private void runCloseCallbacks() {
        Runnable r;
        while ((r = closeCallbacks.poll()) != null) {
            invoke(r);
        }
    }

    // ---------------------------------------------------------------- close

    /**
     * Closes the loop. From the loop thread inside a callback: requested, done when the current tick ends.
     * From the owning thread while not running: done now. From another thread while running: requested,
     * and this call waits until the loop thread has finished closing.
     */
    public void close() {
        if (state == State.CLOSED) {
            return;
        }
        Thread t = loopThread;
        if (t == null) {
            synchronized (this) {
                if (loopThread == null) {
                    if (state == State.OPEN) {
                        loopThread = Thread.currentThread();
                        try {
                            closeNow();
                        } finally {
                            loopThread = null;
                        }
                    }
                    return;
                }
                t = loopThread;
            }
        }
        closeRequested = true;
        if (t == Thread.currentThread()) {
            return;
        }
        wakeup();
        while (state != State.CLOSED && t.isAlive() && loopThread == t) {
            try {
                t.join(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        // The loop thread left run() without closing (it was not started by us): finish here.
        synchronized (this) {
            if (state == State.OPEN && loopThread == null) {
                loopThread = Thread.currentThread();
                try {
                    closeNow();
                } finally {
                    loopThread = null;
                }
            }
        }
    }

    private void closeNow() {
        state = State.CLOSING;
        try {
            // Tasks already accepted by execute() run: the caller was told they would.
            Runnable r;
            while ((r = inbox.poll()) != null) {
                invoke(r);
            }
            // Every handle cancels its ops; their callbacks get ClosedException once the kernel gives the
            // memory back, which the polling below waits for.
            handles.closeAllForShutdown();
            long deadline = System.nanoTime() + 30_000_000_000L;
            while ((opsInKernel > 0 || !pending.isEmpty() || !closeCallbacks.isEmpty()) && System.nanoTime() < deadline) {
                updateNow();
                runPending();
                backend.poll(opsInKernel > 0 ? 10_000_000L : 0, this);
                runCloseCallbacks();
                handles.closeAllForShutdown();
            }
            if (opsInKernel > 0) {
                // The kernel still holds memory: freeing it could let the kernel write into reused memory.
                // Keep the arena (leak it) rather than risk that, and say so.
                reportError(new IllegalStateException(opsInKernel + " ops still in the kernel after 30 s at"
                        + " close; their memory is kept, not freed"));
                blocking.shutdown();
                blockingFailAll();
                timers.drain();
                backend.close();
                state = State.CLOSED;
                return;
            }
            blockingFailAll();
            timers.drain();
            refTimers = 0;
            immediates.clear();
            microtasks.clear();
            blocking.shutdown();
        } finally {
            if (state != State.CLOSED) {
                try {
                    backend.close();
                } finally {
                    memory.close();
                    state = State.CLOSED;
                }
            }
        }
    }

    private void blockingFailAll() {
        blocking.failAll(this);
        blockingPending = 0;
    }

    // ---------------------------------------------------------------- statistics (any thread; racy reads)

    /**
     * Verifies the loop's bookkeeping (tests and debugging): buffer accounting, the watermark gate, and the
     * op counts. Loop thread.
     *
     * @throws IllegalStateException naming the first broken rule
     */
    public void checkInvariants() {
        pool.checkInvariant();
        gate.checkInvariant();
        if (opsInKernel < 0 || queuedWrites < 0) {
            throw new IllegalStateException("negative op counts: inKernel " + opsInKernel + ", queuedWrites " + queuedWrites);
        }
    }

    public int opsInKernel() {
        return opsInKernel;
    }

    public int opsQueued() {
        return gate.queued() + (int) queuedWrites;
    }

    public long completed() {
        return completed;
    }

    public long timeouts() {
        return timeouts;
    }

    public long overloads() {
        return overloads;
    }

    public long watermarkHits() {
        return gate.hits();
    }

    public long callbackErrors() {
        return callbackErrors;
    }

    /**
     * Scheduled timers and op deadlines (not the loop's own pool trim). An op's deadline stays in the heap after
     * the op completes until it would have passed (see {@link CoreOp#deadlineAt}), or until its owner closes.
     */
    public int timerCount() {
        return timers.size() - (poolTrim.isScheduled() ? 1 : 0);
    }

    public int pendingCallbacks() {
        return pending.size() + immediates.size() + closeCallbacks.size() + inbox.size() + blockingPending;
    }

    public int connections() {
        return connections;
    }

    public void connections(int delta) {
        connections += delta;
    }

    public int handleCount() {
        return handles.size();
    }

    /** Bytes lent to the kernel: buffers held by ops plus any backend ring. */
    public long lentBytes() {
        return pool.lentBytes() + pool.ringBytes() + backend.lentBytes();
    }
}
