package dev.panamio.core;

import dev.panamio.sys.OpKind;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The op state machine, the watermark gate and deadlines, on the scripted backend. */
@dev.panamio.testing.LeakChecked
class CoreOpLifecycleTest {
    private static final int BUF = 1024;
    private ScriptedBackend backend;
    private LoopCore loop;
    private final List<String> events = new ArrayList<>();

    @BeforeEach
    void open() {
        backend = new ScriptedBackend();
        loop = new LoopCore(new LoopConfig(2, 2L * BUF, 4, BUF, 1, 0, 0, 0, t -> events.add("error " + t), false),
                (memory, pool, registry, ring) -> backend);
    }

    @AfterEach
    void close() {
        loop.close();
        assertThat(loop.memory().bytes()).isZero();
    }

    /** A RECV-like op that takes a pool buffer when admitted and records what happens to it. */
    final class TestOp extends CoreOp {
        final String name;
        PooledBuffer lent;

        TestOp(String name) {
            super(CoreOpLifecycleTest.this.loop);
            this.name = name;
            kind = OpKind.RECV;
        }

        @Override
        protected void onAdmit() {
            lent = loop.pool().takeForKernel();
            buffer = lent.segment();
            events.add(name + " admitted");
        }

        @Override
        protected void onComplete(long result, int flags) {
            loop.pool().release(lent);
            lent = null;
            events.add(name + (timedOut() ? " timed out" : " done " + result));
        }

        @Override
        protected void onDequeued(boolean timedOut) {
            events.add(name + (timedOut ? " timed out while queued" : " cancelled while queued"));
        }
    }

    private void tick() {
        loop.runOnce();
    }

    @Test
    void opsPastTheWatermarkWaitInFifoOrderHoldingNoBuffer() {
        TestOp a = new TestOp("a"), b = new TestOp("b"), c = new TestOp("c"), d = new TestOp("d");
        for (TestOp op : List.of(a, b, c, d)) {
            op.submit(0);
        }
        assertThat(backend.inKernel).containsExactly(a, b);
        assertThat(c.state()).isEqualTo(CoreOp.QUEUED);
        assertThat(c.lent).isNull();
        assertThat(loop.pool().lentBytes()).isEqualTo(2L * BUF);
        assertThat(loop.opsQueued()).isEqualTo(2);
        assertThat(loop.watermarkHits()).isEqualTo(2);

        backend.complete(b, 10);
        tick();
        assertThat(backend.inKernel).containsExactly(a, c);
        backend.complete(a, 20);
        tick();
        assertThat(backend.inKernel).containsExactly(c, d);
        backend.complete(c, 1);
        backend.complete(d, 2);
        tick();
        // The next queued op is admitted after the completed op's handler has given its buffer back, so the
        // lent count never exceeds the limit, not even between the two.
        assertThat(events).containsExactly("a admitted", "b admitted", "b done 10", "c admitted", "a done 20",
                "d admitted", "c done 1", "d done 2");
        assertThat(loop.pool().lentBytes()).isZero();
        loop.pool().checkInvariant();
    }

    @Test
    void deadlineInKernelCancelsAndReclaimsOnlyWhenTheKernelAnswers() throws Exception {
        TestOp a = new TestOp("a");
        a.submit(1_000_000); // 1 ms
        Thread.sleep(5);
        tick();
        assertThat(backend.cancelRequests).containsExactly(a);
        assertThat(a.state()).isEqualTo(CoreOp.CANCELLING);
        assertThat(a.lent).as("buffer still lent while the kernel may write it").isNotNull();
        assertThat(loop.pool().lentBytes()).isEqualTo(BUF);
        backend.completeCancelled(a);
        tick();
        assertThat(events).containsExactly("a admitted", "a timed out");
        assertThat(loop.pool().lentBytes()).isZero();
        assertThat(loop.timeouts()).isEqualTo(1);
    }

    @Test
    void successRacingTheDeadlineIsDeliveredAsSuccessExactlyOnce() throws Exception {
        TestOp a = new TestOp("a");
        a.submit(1_000_000);
        Thread.sleep(5);
        tick(); // deadline: cancel requested
        backend.complete(a, 7); // but the kernel had already finished it
        tick();
        assertThat(events).containsExactly("a admitted", "a done 7");
    }

    @Test
    void deadlineWhileQueuedFailsWithoutEverLending() throws Exception {
        TestOp a = new TestOp("a"), b = new TestOp("b"), c = new TestOp("c");
        a.submit(0);
        b.submit(0);
        c.submit(1_000_000);
        Thread.sleep(5);
        tick();
        assertThat(events).containsExactly("a admitted", "b admitted", "c timed out while queued");
        assertThat(c.state()).isEqualTo(CoreOp.IDLE);
        assertThat(loop.opsQueued()).isZero();
        backend.complete(a, 0);
        backend.complete(b, 0);
        tick();
    }

    @Test
    void overloadBoundCountsQueuedOps() {
        assertThat(loop.overloaded(4)).isFalse();
        loop.queuedWrites(4);
        assertThat(loop.overloaded(1)).isTrue();
        assertThat(loop.overloads()).isEqualTo(1);
        loop.queuedWrites(-4);
    }

    @Test
    void deadlinesAreLazyOneNodePerOpThatMovesOnlyWhenItWouldFireTooLate() throws Exception {
        TestOp a = new TestOp("a");
        a.submit(10_000_000_000L); // 10 s
        long first = a.deadlineNode.deadline();
        backend.complete(a, 1);
        tick();
        assertThat(a.deadlineNode.isScheduled()).as("kept for the next submission").isTrue();
        Thread.sleep(2);
        tick();
        a.submit(10_000_000_000L); // a later deadline: the node stays where it is
        assertThat(a.deadlineNode.deadline()).isEqualTo(first);
        assertThat(a.deadlineAt).isGreaterThan(first);
        assertThat(loop.timers().size()).isEqualTo(1);
        backend.complete(a, 2);
        tick();
        a.submit(1_000_000); // an earlier deadline (1 ms): the node moves to it
        assertThat(a.deadlineNode.deadline()).isEqualTo(a.deadlineAt).isLessThan(first);
        Thread.sleep(5);
        tick();
        assertThat(backend.cancelRequests).containsExactly(a);
        backend.completeCancelled(a);
        tick();
        assertThat(events).containsExactly("a admitted", "a done 1", "a admitted", "a done 2", "a admitted", "a timed out");
        assertThat(loop.timers().size()).isZero();
    }

    @Test
    void aNodeThatFiresBeforeItsOpsDeadlineMovesToItAndAStaleOneDoesNothing() throws Exception {
        TestOp a = new TestOp("a");
        // (Half a second: the next tick runs the timers before it delivers the completion, and must come first.)
        a.submit(500_000_000); // node at +0.5 s
        backend.complete(a, 1);
        tick();
        a.submit(10_000_000_000L); // deadline at +10 s; the node still fires at +0.5 s
        Thread.sleep(600);
        tick();
        assertThat(backend.cancelRequests).as("fired early: no timeout").isEmpty();
        assertThat(a.state()).isEqualTo(CoreOp.IN_KERNEL);
        assertThat(a.deadlineNode.isScheduled()).isTrue();
        assertThat(a.deadlineNode.deadline()).isEqualTo(a.deadlineAt);
        backend.complete(a, 2);
        tick();
        a.submit(0); // no deadline now; the node (at +10 s) is left behind
        backend.complete(a, 3);
        tick();
        TestOp b = new TestOp("b");
        b.submit(500_000_000);
        backend.complete(b, 4);
        tick();
        Thread.sleep(600);
        tick(); // b's node fires after b completed: nothing happens, and it leaves the heap
        assertThat(b.deadlineNode.isScheduled()).isFalse();
        b.dispose();
        assertThat(backend.cancelRequests).isEmpty();
        assertThat(loop.timeouts()).isZero();
        assertThat(loop.timers().size()).as("a's node, left behind").isEqualTo(1);
        a.dispose(); // its owner closed: the node goes
        assertThat(loop.timers().size()).isZero();
        assertThat(events).containsExactly("a admitted", "a done 1", "a admitted", "a done 2", "a admitted", "a done 3",
                "b admitted", "b done 4");
    }
}
