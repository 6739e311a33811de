package dev.panamio.core;

import dev.panamio.sys.OpKind;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Reliability scenario 6 on the in-memory backend: random sequences of submit, cancel, deadline, kernel
 * completion and cancel acknowledgement over a few ops behind a small watermark. After every step the loop's
 * bookkeeping holds (buffers add up, the gate's FIFO holds only queued ops, nothing is both queued and in the
 * kernel, lent bytes match the ops holding buffers); at the end every submission had exactly one outcome and
 * every native byte is back.
 */
class CoreOpPropertiesTest {
    private static final int BUF = 1024;
    private static final int OPS = 5;

    enum Step { SUBMIT, SUBMIT_WITH_DEADLINE, CANCEL, KERNEL_COMPLETES, KERNEL_ACKS_CANCELS, TICK, SLEEP }

    record Action(Step step, int op) {}

    @Provide
    Arbitrary<List<Action>> scripts() {
        return Combinators.combine(Arbitraries.of(Step.class), Arbitraries.integers().between(0, OPS - 1))
                .as(Action::new).list().ofMinSize(1).ofMaxSize(60);
    }

    @Property(tries = 300)
    void everySubmissionEndsExactlyOnceAndTheBookkeepingHolds(@ForAll("scripts") List<Action> script) throws Exception {
        ScriptedBackend backend = new ScriptedBackend();
        List<String> errors = new ArrayList<>();
        LoopCore loop = new LoopCore(new LoopConfig(2, 2L * BUF, 16, BUF, 1, 0, 0, 0, t -> errors.add(t.toString()), false),
                (memory, pool, registry, ring) -> backend);
        List<TestOp> ops = new ArrayList<>();
        for (int i = 0; i < OPS; i++) {
            ops.add(new TestOp(loop));
        }
        try {
            for (Action a : script) {
                TestOp op = ops.get(a.op());
                switch (a.step()) {
                    case SUBMIT, SUBMIT_WITH_DEADLINE -> {
                        if (op.state() == CoreOp.IDLE) {
                            op.submissions++;
                            op.submit(a.step() == Step.SUBMIT ? 0 : 1_000_000);
                        }
                    }
                    case CANCEL -> op.cancel();
                    case KERNEL_COMPLETES -> {
                        if (backend.inKernel.contains(op)) {
                            backend.complete(op, 7);
                        }
                    }
                    case KERNEL_ACKS_CANCELS -> acknowledgeCancels(backend);
                    case TICK -> loop.runOnce();
                    case SLEEP -> {
                        Thread.sleep(1);
                        loop.runOnce();
                    }
                }
                checkInvariants(loop, backend, ops);
            }
            // Wind down: cancel everything, let the kernel answer, and drain.
            for (int round = 0; round < 10 && ops.stream().anyMatch(o -> o.state() != CoreOp.IDLE); round++) {
                ops.forEach(TestOp::cancel);
                acknowledgeCancels(backend);
                loop.runOnce();
                checkInvariants(loop, backend, ops);
            }
            for (TestOp op : ops) {
                assertThat(op.state()).isEqualTo(CoreOp.IDLE);
                assertThat(op.outcomes).as("outcomes of an op submitted %d times", op.submissions).isEqualTo(op.submissions);
                assertThat(op.lent).isNull();
            }
            assertThat(loop.pool().lentBytes()).isZero();
            assertThat(errors).isEmpty();
        } finally {
            for (TestOp op : ops) {
                if (op.state() == CoreOp.IDLE) {
                    op.dispose();
                }
            }
            loop.close();
        }
        assertThat(loop.memory().bytes()).isZero();
    }

    private static void acknowledgeCancels(ScriptedBackend backend) {
        for (var op : List.copyOf(backend.cancelRequests)) {
            if (backend.inKernel.contains(op)) {
                backend.completeCancelled(op);
            }
        }
        backend.cancelRequests.clear();
    }

    private static void checkInvariants(LoopCore loop, ScriptedBackend backend, List<TestOp> ops) {
        loop.checkInvariants();
        int holding = 0;
        int queued = 0;
        for (TestOp op : ops) {
            byte s = op.state();
            if (backend.inKernel.contains(op)) {
                assertThat(s).as("an op the kernel holds").isIn(CoreOp.IN_KERNEL, CoreOp.CANCELLING);
            }
            if (s == CoreOp.QUEUED) {
                queued++;
                assertThat(op.lent).as("a queued op holds no buffer").isNull();
                assertThat(backend.inKernel).doesNotContain(op);
            }
            if (op.lent != null) {
                holding++;
                assertThat(s).isIn(CoreOp.IN_KERNEL, CoreOp.CANCELLING);
            }
            assertThat(op.outcomes).isBetween(op.submissions - 1, op.submissions);
        }
        assertThat(loop.opsQueued()).isEqualTo(queued);
        assertThat(loop.pool().lentBytes()).isEqualTo((long) holding * BUF);
        assertThat(holding).isLessThanOrEqualTo(2);
    }

    /** A RECV-like op that takes a pool buffer when admitted and counts its outcomes. */
    static final class TestOp extends CoreOp {
        PooledBuffer lent;
        int submissions;
        int outcomes;

        TestOp(LoopCore loop) {
            super(loop);
            kind = OpKind.RECV;
        }

        @Override
        protected void onAdmit() {
            lent = loop.pool().takeForKernel();
            buffer = lent.segment();
        }

        @Override
        protected void onComplete(long result, int flags) {
            loop.pool().release(lent);
            lent = null;
            outcomes++;
        }

        @Override
        protected void onDequeued(boolean timedOut) {
            outcomes++;
        }
    }
}
