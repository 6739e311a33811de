package dev.panamio;

import dev.panamio.core.LoopCore;
import dev.panamio.core.TimerNode;

/** A user timer: a heap node that runs its task, once or every period. */
final class TimerImpl extends TimerNode implements Timer {
    private final LoopCore loop;
    private final Runnable task;
    private final long periodNanos;
    private boolean referenced = true;
    private boolean counted;
    private boolean cancelled;

    TimerImpl(LoopCore loop, Runnable task, long periodNanos) {
        this.loop = loop;
        this.task = task;
        this.periodNanos = periodNanos;
    }

    void start(long delayNanos) {
        loop.timers().schedule(this, loop.now() + delayNanos);
        count(true);
    }

    private void count(boolean on) {
        boolean want = on && referenced;
        if (want != counted) {
            counted = want;
            loop.refTimer(want ? 1 : -1);
        }
    }

    @Override
    protected void expire() {
        if (periodNanos > 0) {
            // Rescheduled before the task runs, so the task can cancel its own interval.
            loop.timers().schedule(this, Math.max(deadline() + periodNanos, loop.now()));
        } else {
            count(false);
        }
        task.run();
    }

    @Override
    public void cancel() {
        onLoop(() -> {
            cancelled = true;
            loop.timers().remove(this);
            count(false);
        });
    }

    @Override
    public Timer unref() {
        onLoop(() -> {
            referenced = false;
            count(false);
        });
        return this;
    }

    @Override
    public Timer ref() {
        onLoop(() -> {
            referenced = true;
            count(isScheduled() && !cancelled);
        });
        return this;
    }

    @Override
    public boolean isActive() {
        return isScheduled() && !cancelled;
    }

    private void onLoop(Runnable r) {
        if (loop.inLoopThread()) {
            r.run();
        } else if (loop.isOpen()) {
            loop.execute(r);
        }
    }

    @Override
    public String toString() {
        return "Timer[" + (isActive() ? "active" : "inactive") + (periodNanos > 0 ? ", interval" : "") + "]";
    }
}
