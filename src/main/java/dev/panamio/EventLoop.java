package dev.panamio;

import dev.panamio.core.LoopConfig;
import dev.panamio.core.LoopCore;
import dev.panamio.core.Stages;
import dev.panamio.sys.Backends;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * A Node-style event loop over the kernel's own I/O queue: timers, I/O completions, callbacks, and a pool
 * for blocking work.
 *
 * {@snippet :
 * try (EventLoop loop = EventLoop.create()) {
 *     loop.setTimeout(Duration.ofMillis(100), () -> System.out.println("tick"));
 *     loop.run();                         // returns when nothing is left to do
 * }
 * }
 *
 * <p>Each tick runs, in this order: <b>timers</b> (expired timers and operation deadlines) → <b>pending</b>
 * (tasks from {@link #execute}, blocking results) → <b>poll</b> (waits for I/O until the next timer or a
 * wakeup; I/O callbacks run here, a whole batch at a time) → <b>check</b> ({@link #setImmediate}) →
 * <b>close</b> (close callbacks). {@link #nextTick} tasks run right after the callback that queued them.
 *
 * <p>Thread-safety: a loop is confined to one thread, the one inside {@link #run()} (or the thread
 * {@link #start()} made). While no thread runs it, the thread that owns it may set it up. Methods marked
 * <em>any thread</em> may be called from anywhere; the others throw {@link IllegalStateException} when
 * called from another thread while the loop runs — use {@link #execute} to get onto the loop thread.
 *
 * <p>Errors: an exception thrown by a callback never stops the loop. It goes to the error handler
 * ({@link Builder#errorHandler}, by default a {@link System.Logger} at ERROR) and the loop carries on. Every
 * callback runs exactly once.
 */
public final class EventLoop implements AutoCloseable {
    private final LoopCore core;
    private final Backend backend;
    private volatile Thread started;

    private EventLoop(LoopCore core, Backend backend) {
        this.core = core;
        this.backend = backend;
    }

    /**
     * A loop on the platform's default backend with default settings.
     *
     * <table class="striped">
     *   <caption>Default backend</caption>
     *   <thead><tr><th>Platform</th><th>Backend</th></tr></thead>
     *   <tbody>
     *     <tr><td>Linux</td><td>{@link Backend#EPOLL}</td></tr>
     *     <tr><td>Windows</td><td>{@link Backend#IOCP}</td></tr>
     *   </tbody>
     * </table>
     *
     * @return a new loop
     * @throws UnsupportedOperationException on a platform without a backend
     */
    public static EventLoop create() {
        return builder().build();
    }

    /**
     * Returns a builder for a loop with chosen settings.
     *
     * @return a builder for a loop with chosen settings
     */
    public static Builder builder() {
        return new Builder();
    }

    LoopCore core() {
        return core;
    }

    /**
     * Returns the kernel queue this loop drives.
     *
     * @return the kernel queue this loop drives
     */
    public Backend backend() {
        return backend;
    }

    // ---------------------------------------------------------------- timers and callbacks

    /**
     * Returns the loop's clock: {@link System#nanoTime()} as read at the start of the current tick (and again
     * when the loop's wait in the kernel returned), so code on the loop thread can read the time without a
     * clock call. Timers and deadlines count from it. Loop thread (elsewhere the value may be stale).
     *
     * @return nanoseconds, on {@link System#nanoTime()}'s scale
     */
    public long now() {
        return core.now();
    }

    /**
     * Runs {@code task} once after {@code delay}. Any thread.
     *
     * @param delay at least zero
     * @param task  what to run on the loop thread
     * @return a handle to cancel or unref the timer
     */
    public Timer setTimeout(Duration delay, Runnable task) {
        return schedule(delay, task, false);
    }

    /**
     * Runs {@code task} every {@code period}, first after one period. Any thread. The task may cancel its
     * own timer.
     *
     * @param period positive
     * @param task   what to run on the loop thread
     * @return a handle to cancel or unref the timer
     */
    public Timer setInterval(Duration period, Runnable task) {
        return schedule(period, task, true);
    }

    private Timer schedule(Duration delay, Runnable task, boolean repeat) {
        Objects.requireNonNull(delay, "delay");
        Objects.requireNonNull(task, "task");
        if (delay.isNegative() || (repeat && delay.isZero())) {
            throw new IllegalArgumentException((repeat ? "period must be positive" : "delay must not be negative")
                    + ", was " + delay);
        }
        long nanos = saturatedNanos(delay);
        checkOpen();
        TimerImpl t = new TimerImpl(core, task, repeat ? Math.max(nanos, 1) : 0);
        onLoop(() -> t.start(nanos));
        return t;
    }

    private static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE / 4;
        }
    }

    /**
     * {@link #setTimeout} as a stage: completes on the loop thread after {@code delay}. The pending delay keeps
     * {@link #run()} alive. Any thread.
     *
     * @param delay at least zero
     * @return completes after the delay
     */
    public CompletionStage<Void> delay(Duration delay) {
        CompletableFuture<Void> f = new CompletableFuture<>();
        setTimeout(delay, () -> f.complete(null));
        return f;
    }

    /**
     * Runs {@code task} in this tick's check phase (after I/O), or the next tick's when queued from the check
     * phase itself. Any thread.
     *
     * @param task what to run on the loop thread
     */
    public void setImmediate(Runnable task) {
        Objects.requireNonNull(task, "task");
        checkOpen();
        onLoop(() -> core.immediate(task));
    }

    /**
     * Runs {@code task} right after the current callback, before any other callback or I/O (Node's
     * {@code process.nextTick}). Loop thread only.
     *
     * @param task what to run
     */
    public void nextTick(Runnable task) {
        Objects.requireNonNull(task, "task");
        core.checkUsable();
        core.nextTick(task);
    }

    /**
     * Runs {@code task} on the loop thread, in the pending phase of the next tick. Any thread; wakes the loop
     * if it is waiting. Tasks from one thread run in the order they were given.
     *
     * @param task what to run
     * @throws IllegalStateException if the loop is closed
     */
    public void execute(Runnable task) {
        Objects.requireNonNull(task, "task");
        checkOpen();
        core.execute(task);
    }

    /**
     * Runs {@code work} on the blocking-work pool and delivers its result (or exception) to {@code callback}
     * on the loop thread. A full pool queues; it never rejects. The pending work keeps {@link #run()} alive
     * until delivered; if the loop closes first, the callback gets a {@link ClosedException}. Any thread.
     *
     * @param work     the blocking work
     * @param callback receives the result on the loop thread
     * @param <T>      the result type
     */
    public <T> void submitBlocking(Callable<T> work, Callback<? super T> callback) {
        Objects.requireNonNull(work, "work");
        Objects.requireNonNull(callback, "callback");
        checkOpen();
        onLoop(() -> core.submitBlocking(work, callback::complete));
    }

    /**
     * {@link #submitBlocking(Callable, Callback)} as a stage, completed on the loop thread.
     *
     * @param work the blocking work
     * @param <T>  the result type
     * @return its result
     */
    public <T> CompletionStage<T> submitBlocking(Callable<T> work) {
        return Stages.<T>of(done -> submitBlocking(work, done));
    }

    private void onLoop(Runnable r) {
        if (core.inLoopThread()) {
            r.run();
        } else {
            core.execute(r);
        }
    }

    private void checkOpen() {
        if (!core.isOpen()) {
            throw new IllegalStateException("event loop is closed");
        }
    }

    // ---------------------------------------------------------------- TCP

    /**
     * Listens for TCP connections on {@code address} with default options. Loop thread only.
     *
     * @param address  where to listen; port 0 picks a free port (see {@link TcpServer#localAddress()})
     * @param onAccept receives each new connection on the loop thread
     * @return the listening server
     * @throws NativeIoException if the address cannot be bound ({@code EADDRINUSE}, ...)
     */
    public TcpServer listen(InetSocketAddress address, Consumer<TcpConnection> onAccept) throws NativeIoException {
        return listen(address, TcpOptions.defaults(), onAccept);
    }

    /**
     * Listens for TCP connections on {@code address}. Loop thread only.
     *
     * @param address  where to listen; port 0 picks a free port
     * @param options  backlog, SO_REUSEPORT, accepted connections' options
     * @param onAccept receives each new connection on the loop thread
     * @return the listening server
     * @throws NativeIoException if the address cannot be bound
     */
    public TcpServer listen(InetSocketAddress address, TcpOptions options, Consumer<TcpConnection> onAccept)
            throws NativeIoException {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(onAccept, "onAccept");
        if (address.isUnresolved()) {
            throw new IllegalArgumentException("address is unresolved: " + address);
        }
        core.checkUsable();
        return TcpServer.open(this, address, options, onAccept);
    }

    /**
     * Opens a TCP connection with the loop's default connect timeout. Loop thread only.
     *
     * @param address  where to connect
     * @param callback receives the connection, or the error ({@link NativeIoException} such as
     *                 {@code ECONNREFUSED}, {@link OperationTimeoutException})
     */
    public void connect(InetSocketAddress address, Callback<TcpConnection> callback) {
        long d = core.config().connectTimeoutNanos();
        connect(address, d > 0 ? Duration.ofNanos(d) : Timeout.NONE, TcpOptions.defaults(), callback);
    }

    /**
     * Opens a TCP connection. Loop thread only.
     *
     * @param address  where to connect (resolved)
     * @param timeout  connect deadline, or {@link Timeout#NONE}
     * @param callback receives the connection or the error
     */
    public void connect(InetSocketAddress address, Duration timeout, Callback<TcpConnection> callback) {
        connect(address, timeout, TcpOptions.defaults(), callback);
    }

    /**
     * Opens a TCP connection with options. Loop thread only.
     *
     * @param address  where to connect (resolved)
     * @param timeout  connect deadline, or {@link Timeout#NONE}
     * @param options  the connection's options
     * @param callback receives the connection or the error
     */
    public void connect(InetSocketAddress address, Duration timeout, TcpOptions options,
                        Callback<TcpConnection> callback) {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(callback, "callback");
        long nanos = Timeout.toNanos(timeout, "connect");
        if (address.isUnresolved()) {
            throw new IllegalArgumentException("address is unresolved: " + address);
        }
        core.checkUsable();
        TcpConnection.connect(this, address, nanos, options, callback);
    }

    /**
     * {@link #connect(InetSocketAddress, Duration, Callback)} as a stage, completed on the loop thread.
     *
     * @param address where to connect
     * @param timeout connect deadline
     * @return the connection
     */
    public CompletionStage<TcpConnection> connect(InetSocketAddress address, Duration timeout) {
        return Stages.of(done -> connect(address, timeout, done));
    }

    /**
     * An empty pooled buffer ({@link Buffer#length()} 0, capacity the loop's buffer size) to fill and hand to
     * {@link TcpConnection#write(Buffer)} without a copy. Loop thread only.
     *
     * @return a new lease
     */
    public Buffer allocateBuffer() {
        core.checkUsable();
        return new Buffer(core, core.pool().takeForUser(), 0);
    }

    /**
     * Returns the size of the loop's pooled buffers.
     *
     * @return the size of the loop's pooled buffers
     */
    public int bufferSize() {
        return core.config().bufferSize();
    }

    // ---------------------------------------------------------------- running

    /**
     * Runs the loop on the calling thread until nothing referenced is pending: no referenced timer, open
     * server or connection, queued callback or blocking work.
     *
     * @throws IllegalStateException if the loop is closed or already running
     */
    public void run() {
        core.run(false);
    }

    private LoopFiles files;

    /**
     * Returns the loop's file operations (Node's {@code fs}): whole files and positional reads and writes,
     * as callbacks on the loop thread.
     *
     * @return the file operations of this loop
     */
    public LoopFiles files() {
        LoopFiles f = files;
        if (f == null) {
            f = files = new LoopFiles(this);
        }
        return f;
    }

    /**
     * Runs one pass of the loop on the calling thread (timers, pending, poll, check, close) and returns:
     * for programs that drive the loop from their own thread, such as a game loop or a benchmark. The poll
     * blocks only when no callback is ready, and at most until the next timer or a wakeup.
     *
     * @return whether anything referenced is still pending (what keeps {@link #run()} going)
     * @throws IllegalStateException if the loop is closed or running on another thread, or when called from
     *         inside one of its callbacks
     */
    public boolean runOnce() {
        return core.runOneTick();
    }

    /**
     * Runs the loop on a new thread and returns at once (for jshell and tests). The loop keeps running, even
     * when idle, until {@link #close()}. Any thread.
     *
     * @return this loop
     */
    public EventLoop start() {
        checkOpen();
        synchronized (this) {
            if (started != null) {
                throw new IllegalStateException("loop already started");
            }
            CompletableFuture<Void> running = new CompletableFuture<>();
            Thread t = new Thread(() -> {
                core.execute(() -> running.complete(null));
                try {
                    core.run(true);
                } catch (Throwable e) {
                    running.completeExceptionally(e);
                    throw e;
                }
            }, "panamio-loop-" + backend.name().toLowerCase(Locale.ROOT));
            t.setDaemon(true);
            started = t;
            t.start();
            running.join();
        }
        return this;
    }

    /**
     * Returns whether the calling thread is the loop thread (or may act as it, while the loop is not running).
     *
     * @return whether the calling thread is the loop thread (or may act as it, while the loop is not running)
     */
    public boolean inEventLoop() {
        return core.inLoopThread();
    }

    /**
     * A snapshot of the loop's counters. Any thread (from another thread the values may be a tick old).
     *
     * @return the counters
     */
    public LoopStats stats() {
        var pool = core.pool();
        return new LoopStats(core.backend().name(), TcpConnection.openCount(core), core.handleCount(),
                core.timerCount(), core.pendingCallbacks(), core.opsInKernel(), core.opsQueued(),
                core.memory().bytes(), core.lentBytes(), pool.ringBytes(), pool.peakLentBytes(), pool.leasedBytes(), pool.freeBytes(),
                core.completed(), core.timeouts(), core.watermarkHits(), core.overloads(), core.callbackErrors());
    }

    /**
     * Returns whether {@link #close()} has been called.
     *
     * @return whether {@link #close()} has been called
     */
    public boolean isClosed() {
        return !core.isOpen();
    }

    /**
     * Closes the loop: every server and connection is closed, every operation in the kernel is cancelled and
     * its completion awaited (memory lent to the kernel is freed only after the kernel gave it back), every
     * outstanding I/O or blocking callback runs once with a {@link ClosedException}, timers and immediates
     * are dropped, and every native byte and descriptor is released. Idempotent. Any thread: from inside a
     * callback the close completes when the current tick ends; from another thread while the loop runs,
     * this call waits for it.
     */
    @Override
    public void close() {
        core.close();
        Thread t = started;
        if (t != null && t != Thread.currentThread()) {
            try {
                t.join(60_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public String toString() {
        return "EventLoop[" + backend.name().toLowerCase(Locale.ROOT) + (isClosed() ? ", closed" : "") + "]";
    }

    /**
     * Settings of a new loop. Not thread-safe.
     *
     * {@snippet :
     * EventLoop loop = EventLoop.builder()
     *         .highWatermark(256)                 // at most 256 buffer-holding ops in the kernel
     *         .bufferSize(16 * 1024)
     *         .readTimeout(Duration.ofSeconds(30))
     *         .build();
     * }
     */
    public static final class Builder {
        private Backend backend;
        private int highWatermark = 1024;
        private long maxLentBytes = -1;
        private int maxQueued = 65_536;
        private int bufferSize = 16 * 1024;
        private int blockingThreads = 4;
        private Duration connectTimeout = Duration.ofSeconds(30);
        private Duration readTimeout = Duration.ofSeconds(60);
        private Duration writeTimeout = Duration.ofSeconds(60);
        private Consumer<Throwable> errorHandler;
        private boolean reuseLeases;
        private long retainedPoolBytes = LoopConfig.DEFAULT_RETAINED_POOL_BYTES;

        private Builder() {}

        /**
         * Returns this builder.
         *
         * @param backend the kernel queue; default: the platform's (see {@link EventLoop#create()})
         * @return this builder
         */
        public Builder backend(Backend backend) {
            this.backend = Objects.requireNonNull(backend, "backend");
            return this;
        }

        /**
         * Returns this builder.
         *
         * @param ops the most buffer-holding operations in the kernel at once (default 1024); more wait in
         *            user space holding no buffer
         * @return this builder
         */
        public Builder highWatermark(int ops) {
            if (ops < 1) {
                throw new IllegalArgumentException("highWatermark must be at least 1, was " + ops);
            }
            this.highWatermark = ops;
            return this;
        }

        /**
         * Returns this builder.
         *
         * @param bytes the most bytes lent to the kernel at once (default highWatermark × bufferSize)
         * @return this builder
         */
        public Builder maxLentBytes(long bytes) {
            if (bytes < 1) {
                throw new IllegalArgumentException("maxLentBytes must be positive, was " + bytes);
            }
            this.maxLentBytes = bytes;
            return this;
        }

        /**
         * Returns this builder.
         *
         * @param ops the most operations waiting in user space (default 65 536); beyond it operations fail at
         *            once with {@link OverloadedException}
         * @return this builder
         */
        public Builder maxQueued(int ops) {
            if (ops < 0) {
                throw new IllegalArgumentException("maxQueued must not be negative, was " + ops);
            }
            this.maxQueued = ops;
            return this;
        }

        /**
         * Returns this builder.
         *
         * @param bytes size of every pooled buffer, 256 B to 16 MiB (default 16 KiB)
         * @return this builder
         */
        public Builder bufferSize(int bytes) {
            if (bytes < 256 || bytes > (16 << 20)) {
                throw new IllegalArgumentException("bufferSize must be within 256..16777216, was " + bytes);
            }
            this.bufferSize = bytes;
            return this;
        }

        /**
         * Returns this builder.
         *
         * @param threads threads of the blocking-work pool (default 4)
         * @return this builder
         */
        public Builder blockingThreads(int threads) {
            if (threads < 1) {
                throw new IllegalArgumentException("blockingThreads must be at least 1, was " + threads);
            }
            this.blockingThreads = threads;
            return this;
        }

        /**
         * Returns this builder.
         *
         * @param timeout default connect deadline (default 30 s), or {@link Timeout#NONE}
         * @return this builder
         */
        public Builder connectTimeout(Duration timeout) {
            Timeout.toNanos(timeout, "connect");
            this.connectTimeout = timeout;
            return this;
        }

        /**
         * Returns this builder.
         *
         * @param timeout default read deadline: how long a read may wait for data (default 60 s), or
         *                {@link Timeout#NONE}; an idle connection past it gets {@link OperationTimeoutException}
         * @return this builder
         */
        public Builder readTimeout(Duration timeout) {
            Timeout.toNanos(timeout, "read");
            this.readTimeout = timeout;
            return this;
        }

        /**
         * Returns this builder.
         *
         * @param timeout default write deadline (default 60 s), or {@link Timeout#NONE}
         * @return this builder
         */
        public Builder writeTimeout(Duration timeout) {
            Timeout.toNanos(timeout, "write");
            this.writeTimeout = timeout;
            return this;
        }

        /**
         * Returns this builder.
         *
         * @param handler receives exceptions thrown by callbacks (default: logged at ERROR through
         *                {@link System.Logger})
         * @return this builder
         */
        public Builder errorHandler(Consumer<Throwable> handler) {
            this.errorHandler = Objects.requireNonNull(handler, "handler");
            return this;
        }

        /**
         * Lets a connection reuse a read's {@link Buffer} object for its next read when the handler ended the
         * lease before returning (released it, or handed it to a write), so that steady-state reading
         * allocates nothing on the heap. Off by default, because it relaxes one guarantee: a {@code Buffer}
         * reference kept past its lease normally throws on every use; with reuse it may instead show a later
         * read's bytes. Segment views ({@link Buffer#segment()}) still always end with their lease. Turn it on
         * when handlers never keep a lease they have ended (as a request/response server's usually do).
         *
         * @param reuse whether to reuse ended leases' objects (default false)
         * @return this builder
         */
        public Builder reuseLeases(boolean reuse) {
            this.reuseLeases = reuse;
            return this;
        }

        /**
         * How much buffer-pool memory the loop keeps when little is in use. The pool grows a slab (64 buffers)
         * at a time as reads, writes and leases need buffers; when more of it is free than is in use and than
         * this, the loop gives back, about a second later, the slabs of free buffers beyond the most it had
         * in use in that second. A burst (a flood of connections, a peer that stopped reading) thus holds its
         * memory for a second or two, not for the loop's life, while a steady load keeps its slabs. Each slab
         * freed costs up to a few hundred microseconds of the loop thread (at most 8 per pass).
         *
         * @param bytes pool bytes kept however little is in use, rounded up to whole slabs (default 4 MiB);
         *              {@code Long.MAX_VALUE}: never give memory back before the loop closes
         * @return this builder
         */
        public Builder retainedPoolBytes(long bytes) {
            if (bytes < 0) {
                throw new IllegalArgumentException("retainedPoolBytes must not be negative, was " + bytes);
            }
            this.retainedPoolBytes = bytes;
            return this;
        }

        /**
         * Returns a new loop.
         *
         * @return a new loop
         * @throws UnsupportedOperationException if the backend is not available on this platform or kernel
         */
        public EventLoop build() {
            Backend b = backend != null ? backend : Backend.valueOf(Backends.defaultName().toUpperCase(Locale.ROOT));
            long lent = maxLentBytes > 0 ? maxLentBytes : (long) highWatermark * bufferSize;
            Consumer<Throwable> handler = errorHandler != null ? errorHandler : DefaultErrorHandler.INSTANCE;
            LoopConfig config = new LoopConfig(highWatermark, lent, maxQueued, bufferSize, blockingThreads,
                    Timeout.toNanos(connectTimeout, "connect"), Timeout.toNanos(readTimeout, "read"),
                    Timeout.toNanos(writeTimeout, "write"), handler, reuseLeases, retainedPoolBytes);
            String name = b.name().toLowerCase(Locale.ROOT);
            LoopCore core = new LoopCore(config,
                    (memory, pool, registry, ring) -> Backends.open(name, memory, pool, registry, ring));
            return new EventLoop(core, b);
        }
    }

    /** Logs callback exceptions through System.Logger. */
    private static final class DefaultErrorHandler implements Consumer<Throwable> {
        static final DefaultErrorHandler INSTANCE = new DefaultErrorHandler();
        private static final System.Logger LOG = System.getLogger("dev.panamio");

        @Override
        public void accept(Throwable t) {
            LOG.log(System.Logger.Level.ERROR, "exception in an event-loop callback", t);
        }
    }
}
