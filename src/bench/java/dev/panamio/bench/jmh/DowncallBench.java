package dev.panamio.bench.jmh;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;

/**
 * The cost of one downcall: plain, with {@code Linker.Option.critical}, and with errno capture. Measured on
 * {@code getpid} (a real system call, as the loop makes) and on {@code abs} (no kernel entry: the Java-side
 * transition cost alone).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class DowncallBench {
    private static final Linker L = Linker.nativeLinker();
    private static final MemorySegment GETPID = L.defaultLookup().find("getpid").orElseThrow();
    private static final FunctionDescriptor D = FunctionDescriptor.of(ValueLayout.JAVA_INT);
    private static final MethodHandle PLAIN = L.downcallHandle(GETPID, D);
    private static final MethodHandle CRITICAL = L.downcallHandle(GETPID, D, Linker.Option.critical(false));
    private static final MethodHandle CAPTURE = L.downcallHandle(GETPID, D, Linker.Option.captureCallState("errno"));
    private static final MethodHandle CAPTURE_CRITICAL = L.downcallHandle(GETPID, D,
            Linker.Option.captureCallState("errno"), Linker.Option.critical(false));
    private static final MemorySegment ABS = L.defaultLookup().find("abs").orElseThrow();
    private static final FunctionDescriptor DI = FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT);
    private static final MethodHandle ABS_PLAIN = L.downcallHandle(ABS, DI);
    private static final MethodHandle ABS_CRITICAL = L.downcallHandle(ABS, DI, Linker.Option.critical(false));
    private static final MethodHandle ABS_CAPTURE = L.downcallHandle(ABS, DI, Linker.Option.captureCallState("errno"));
    private static final MethodHandle RECV_LIBC = L.downcallHandle(L.defaultLookup().find("recv").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT),
            Linker.Option.captureCallState("errno"), Linker.Option.critical(false));
    private static final MethodHandle SYSCALL = L.downcallHandle(L.defaultLookup().find("syscall").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_LONG),
            Linker.Option.captureCallState("errno"), Linker.Option.firstVariadicArg(1), Linker.Option.critical(false));
    private static final MethodHandle SOCKETPAIR = L.downcallHandle(L.defaultLookup().find("socketpair").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    private static final MethodHandle CLOSE = L.downcallHandle(L.defaultLookup().find("close").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private int x = -42;
    private int fd0 = -1;
    private int fd1 = -1;
    private long buf;
    private static final VarHandle ERRNO = Linker.Option.captureStateLayout()
            .varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));

    private Arena arena;
    private MemorySegment capture;
    private Arena shared;
    private MemorySegment captureShared;
    private MemorySegment captureAuto;

    @Setup
    public void setup() {
        arena = Arena.ofConfined();
        capture = arena.allocate(Linker.Option.captureStateLayout());
        shared = Arena.ofShared();
        captureShared = shared.allocate(Linker.Option.captureStateLayout());
        captureAuto = Arena.ofAuto().allocate(Linker.Option.captureStateLayout());
        MemorySegment fds = arena.allocate(ValueLayout.JAVA_INT, 2);
        try {
            // AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK: a receive finds nothing and fails with EAGAIN at once.
            if ((int) SOCKETPAIR.invokeExact(1, 1 | 04000, 0, fds) != 0) {
                throw new IllegalStateException("socketpair failed");
            }
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        fd0 = fds.getAtIndex(ValueLayout.JAVA_INT, 0);
        fd1 = fds.getAtIndex(ValueLayout.JAVA_INT, 1);
        buf = arena.allocate(64).address();
    }

    @TearDown
    public void tearDown() throws Throwable {
        int a = (int) CLOSE.invokeExact(fd0);
        int b = (int) CLOSE.invokeExact(fd1);
        arena.close();
        shared.close();
    }

    @Benchmark
    public int plain() throws Throwable {
        return (int) PLAIN.invokeExact();
    }

    @Benchmark
    public int critical() throws Throwable {
        return (int) CRITICAL.invokeExact();
    }

    @Benchmark
    public int errnoCapture() throws Throwable {
        return (int) CAPTURE.invokeExact(capture) + (int) ERRNO.get(capture, 0L);
    }

    @Benchmark
    public int errnoCaptureCritical() throws Throwable {
        return (int) CAPTURE_CRITICAL.invokeExact(capture) + (int) ERRNO.get(capture, 0L);
    }

    @Benchmark
    public int transitionPlain() throws Throwable {
        return (int) ABS_PLAIN.invokeExact(x);
    }

    @Benchmark
    public int transitionCritical() throws Throwable {
        return (int) ABS_CRITICAL.invokeExact(x);
    }

    @Benchmark
    public int transitionErrnoCapture() throws Throwable {
        return (int) ABS_CAPTURE.invokeExact(capture, x) + (int) ERRNO.get(capture, 0L);
    }

    /** recv(2) through libc's wrapper, a cancellation point: the socket is empty, so EAGAIN. */
    @Benchmark
    public long recvEmptyLibc() throws Throwable {
        return (long) RECV_LIBC.invokeExact(capture, fd0, buf, 64L, 0) + (int) ERRNO.get(capture, 0L);
    }

    /** The same receive through syscall(2), which is not a cancellation point. */
    @Benchmark
    public long recvEmptySyscall() throws Throwable {
        return (long) SYSCALL.invokeExact(capture, 45L, (long) fd0, buf, 64L, 0L, 0L, 0L) + (int) ERRNO.get(capture, 0L);
    }

    /** recv(2) with the capture segment in a shared arena: the call acquires and releases its session. */
    @Benchmark
    public long recvEmptyCaptureShared() throws Throwable {
        return (long) RECV_LIBC.invokeExact(captureShared, fd0, buf, 64L, 0) + (int) ERRNO.get(captureShared, 0L);
    }

    /** The same with the capture segment in an automatic arena, whose session costs a call nothing. */
    @Benchmark
    public long recvEmptyCaptureAuto() throws Throwable {
        return (long) RECV_LIBC.invokeExact(captureAuto, fd0, buf, 64L, 0) + (int) ERRNO.get(captureAuto, 0L);
    }
}
