package dev.panamio.core;

import dev.panamio.sys.Completion;
import dev.panamio.sys.CompletionSink;
import dev.panamio.sys.ErrorKind;
import dev.panamio.sys.IoBackend;
import dev.panamio.sys.Op;
import dev.panamio.sys.PlatformErrors;
import dev.panamio.sys.Sockets;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * A deterministic in-memory backend for core tests: submitted ops wait until the test completes them;
 * cancel requests are recorded and answered only when the test says how the kernel answered.
 */
final class ScriptedBackend implements IoBackend {
    static final int ECANCELED = 125;
    static final int ECONNRESET = 104;

    final List<Op> inKernel = new ArrayList<>();
    final List<Op> cancelRequests = new ArrayList<>();
    private final ArrayDeque<Object[]> completions = new ArrayDeque<>();
    int submits;

    @Override
    public String name() {
        return "test";
    }

    @Override
    public void submit(Op op) {
        if (inKernel.contains(op)) {
            throw new AssertionError("op submitted twice");
        }
        submits++;
        inKernel.add(op);
    }

    @Override
    public void cancel(Op op) {
        cancelRequests.add(op);
    }

    /** The kernel finishes {@code op} with {@code result}. */
    void complete(Op op, long result) {
        complete(op, result, 0);
    }

    void complete(Op op, long result, int flags) {
        if (!inKernel.remove(op)) {
            throw new AssertionError("op is not in the kernel");
        }
        completions.add(new Object[] {op, result, flags});
    }

    /** The kernel answers a cancel request: the op ends with -ECANCELED. */
    void completeCancelled(Op op) {
        complete(op, -ECANCELED, Completion.CANCELLED);
    }

    @Override
    public int poll(long timeoutNanos, CompletionSink sink) {
        int n = 0;
        Object[] c;
        while ((c = completions.poll()) != null) {
            sink.complete((Op) c[0], (Long) c[1], (Integer) c[2]);
            n++;
        }
        return n;
    }

    @Override
    public void wakeup() {
    }

    @Override
    public Sockets sockets() {
        throw new UnsupportedOperationException("no sockets in the scripted backend");
    }

    @Override
    public PlatformErrors errors() {
        return new PlatformErrors() {
            @Override
            public String name(int code) {
                return code == ECANCELED ? "ECANCELED" : code == ECONNRESET ? "ECONNRESET" : "E" + code;
            }

            @Override
            public String describe(int code) {
                return name(code) + " (" + code + ")";
            }

            @Override
            public ErrorKind kind(int code) {
                return code == ECANCELED ? ErrorKind.CANCELLED : code == ECONNRESET ? ErrorKind.CONNECTION_RESET : ErrorKind.OTHER;
            }
        };
    }

    @Override
    public void close() {
        if (!inKernel.isEmpty()) {
            throw new AssertionError("backend closed with ops in the kernel: " + inKernel.size());
        }
    }
}
