package dev.panamio.core;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.FlightRecorder;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/**
 * panamio's JDK Flight Recorder events, so that a recording shows the loop in JDK Mission Control:
 * operation completions (kind, bytes, latency), deadlines hit, the high watermark reached, overload
 * rejections, and buffer-pool growth and trims. They cost nothing without a recording (their classes are not
 * even loaded until Flight Recorder runs). A recording with the default
 * settings takes all but {@code OpCompleted}, which is one event per operation and has to be enabled
 * explicitly; it then also costs one {@code System.nanoTime()} per operation at submit.
 */
public final class LoopEvents {
    private LoopEvents() {}

    /**
     * Whether Flight Recorder runs in this JVM (a recording was started, from the command line, by
     * {@code jcmd JFR.start} or in code). Every event site asks this before it touches an event class: the first
     * use of one registers panamio's events, and that starts Flight Recorder's metadata repository, ~100 ms of
     * one thread that a program which records nothing should not pay at its first I/O operation.
     */
    static boolean recording() {
        return FlightRecorder.isInitialized();
    }

    /** Whether {@code OpCompleted} is recorded now (its submit time is then taken). Only when {@link #recording()}. */
    static boolean opCompletedEnabled() {
        return new OpCompleted().isEnabled();
    }

    /** One operation left the kernel. Off by default (one event per operation): enable it explicitly. */
    @Name("dev.panamio.OpCompleted")
    @jdk.jfr.Enabled(false)
    @Label("Operation Completed")
    @Category({"panamio", "I/O"})
    @Description("An operation's final completion: its kind, result and time from submission to completion")
    @StackTrace(false)
    public static final class OpCompleted extends Event {
        @Label("Kind")
        public String kind;
        @Label("Result")
        @Description("Bytes transferred (or the new handle), or a negative error code")
        public long result;
        @Label("Latency")
        @Timespan(Timespan.NANOSECONDS)
        public long latency;
        @Label("Timed Out")
        public boolean timedOut;
    }

    /** An operation reached its deadline. */
    @Name("dev.panamio.OpTimeout")
    @Label("Operation Timed Out")
    @Category({"panamio", "I/O"})
    @StackTrace(false)
    public static final class OpTimeout extends Event {
        @Label("Kind")
        public String kind;
        @Label("Was Queued")
        @Description("Whether it was still waiting at the watermark (otherwise it was in the kernel)")
        public boolean queued;
    }

    /** An operation had to wait in user space at the high watermark. */
    @Name("dev.panamio.WatermarkReached")
    @Label("High Watermark Reached")
    @Category({"panamio", "Memory"})
    @StackTrace(false)
    public static final class WatermarkReached extends Event {
        @Label("Kind")
        public String kind;
        @Label("Queued")
        @Description("Operations waiting at the watermark, this one included")
        public int queued;
        @Label("Lent")
        @DataAmount
        public long lentBytes;
    }

    /** An operation was refused because maxQueued was reached. */
    @Name("dev.panamio.Overload")
    @Label("Overload Rejection")
    @Category({"panamio", "Memory"})
    @StackTrace(false)
    public static final class Overload extends Event {
        @Label("Queued")
        public long queued;
        @Label("Max Queued")
        public int maxQueued;
    }

    /** The buffer pool allocated another slab. */
    @Name("dev.panamio.BufferPoolGrowth")
    @Label("Buffer Pool Growth")
    @Category({"panamio", "Memory"})
    @StackTrace(false)
    public static final class BufferPoolGrowth extends Event {
        @Label("Slab")
        @DataAmount
        public long slabBytes;
        @Label("Pool Size")
        @DataAmount
        public long poolBytes;
    }

    /** The buffer pool gave slabs of free buffers back. */
    @Name("dev.panamio.BufferPoolTrim")
    @Label("Buffer Pool Trim")
    @Category({"panamio", "Memory"})
    @StackTrace(false)
    public static final class BufferPoolTrim extends Event {
        @Label("Freed")
        @DataAmount
        public long freedBytes;
        @Label("Pool Size")
        @DataAmount
        public long poolBytes;
    }
}
