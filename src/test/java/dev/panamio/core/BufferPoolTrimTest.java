package dev.panamio.core;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The buffer pool gives back slabs a burst needed, keeps what a steady load needs, and never frees a used one. */
@dev.panamio.testing.LeakChecked
class BufferPoolTrimTest {
    private static final int BUF = 1024;
    private static final long SLAB = (long) BUF * BufferPool.BUFFERS_PER_SLAB;
    private final NativeMemory memory = new NativeMemory();
    private int trimRequests;

    @AfterEach
    void close() {
        memory.close();
        assertThat(memory.bytes()).isZero();
    }

    private BufferPool pool(long retain) {
        BufferPool pool = new BufferPool(memory, BUF, retain);
        pool.onTrimDue(() -> trimRequests++);
        return pool;
    }

    private static List<PooledBuffer> take(BufferPool pool, int n) {
        List<PooledBuffer> taken = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            taken.add(pool.takeForUser());
        }
        return taken;
    }

    /** Runs trims as the loop would (each when the previous one asks) until the pool asks for none. */
    private static int trimUntilSettled(BufferPool pool) {
        int passes = 0;
        while (pool.trim() >= 0) {
            passes++;
            assertThat(passes).as("trim passes").isLessThan(1000);
        }
        return passes + 1;
    }

    @Test
    void aBurstsSlabsGoBackDownToTheRetainedBytesAndTheirMemoryWithThem() {
        BufferPool pool = pool(2 * SLAB);
        long before = memory.bytes();
        List<PooledBuffer> burst = take(pool, 20 * BufferPool.BUFFERS_PER_SLAB);
        assertThat(pool.allocatedBytes()).isEqualTo(20 * SLAB);
        assertThat(memory.bytes() - before).isEqualTo(20 * SLAB);
        burst.forEach(pool::release);
        assertThat(trimRequests).isEqualTo(1);
        assertThat(pool.trimRequested()).isTrue();

        // The first trim keeps what the window that just ended needed (the whole burst) and asks to look again.
        assertThat(pool.trim()).isEqualTo(BufferPool.TRIM_DELAY_NANOS);
        assertThat(pool.allocatedBytes()).isEqualTo(20 * SLAB);
        // The next window needed nothing: the pool goes back to what it retains, a few slabs per pass.
        trimUntilSettled(pool);
        assertThat(pool.allocatedBytes()).isEqualTo(2 * SLAB);
        assertThat(pool.freeBytes()).isEqualTo(2 * SLAB);
        assertThat(memory.bytes() - before).isEqualTo(2 * SLAB);
        assertThat(pool.trimmedSlabs()).isEqualTo(18);
        pool.checkInvariant();

        // The freed buffers' memory is gone for good: a stale segment fails instead of reading it.
        PooledBuffer stale = burst.stream().filter(b -> !b.segment().scope().isAlive()).findFirst().orElseThrow();
        assertThatThrownBy(() -> stale.segment().get(ValueLayout.JAVA_BYTE, 0)).isInstanceOf(IllegalStateException.class);

        // What is left works as before and grows again on demand.
        List<PooledBuffer> again = take(pool, 5 * BufferPool.BUFFERS_PER_SLAB);
        again.forEach(b -> b.segment().set(ValueLayout.JAVA_BYTE, BUF - 1, (byte) 7));
        assertThat(pool.allocatedBytes()).isEqualTo(5 * SLAB);
        again.forEach(pool::release);
        pool.checkInvariant();
    }

    @Test
    void aSlabWithOneBufferInUseStaysWhereverThatBufferIs() {
        BufferPool pool = pool(0);
        List<PooledBuffer> burst = take(pool, 6 * BufferPool.BUFFERS_PER_SLAB);
        // Keep one buffer of each of two slabs: lent to the kernel, and leased to user code.
        PooledBuffer lent = burst.get(10);
        PooledBuffer leased = burst.get(4 * BufferPool.BUFFERS_PER_SLAB + 3);
        pool.release(lent);
        PooledBuffer kernel = pool.takeForKernel();
        assertThat(kernel).isSameAs(lent);
        for (PooledBuffer b : burst) {
            if (b != lent && b != leased) {
                pool.release(b);
            }
        }
        pool.trim();
        trimUntilSettled(pool);
        assertThat(pool.allocatedBytes()).isEqualTo(2 * SLAB);
        assertThat(kernel.segment().scope().isAlive()).isTrue();
        assertThat(leased.segment().scope().isAlive()).isTrue();
        kernel.segment().fill((byte) 1);
        leased.segment().fill((byte) 2);
        pool.release(kernel);
        pool.release(leased);
        trimUntilSettled(pool);
        assertThat(pool.allocatedBytes()).isZero();
        assertThat(memory.bytes()).isZero();
        pool.checkInvariant();
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(longs = {0, 2 * SLAB})
    void aSteadyLoadKeepsTheSlabsItsPeakNeeds(long retain) {
        BufferPool pool = pool(retain);
        int peak = 5 * BufferPool.BUFFERS_PER_SLAB;
        java.util.Random random = new java.util.Random(5);
        for (int window = 0; window < 20; window++) {
            // Each window rises to the same peak and falls back to nothing. Every other window gives the
            // retained slabs' buffers back first, so that the next window takes them last (the free list is
            // last in, first out): its peak is reached in retained slabs, and must count all the same.
            List<PooledBuffer> taken = new ArrayList<>(take(pool, peak));
            java.util.Collections.shuffle(taken, random);
            if (window % 2 == 0) {
                taken.sort(java.util.Comparator.comparingInt(b -> b.slab == null ? 0 : 1));
            }
            taken.forEach(pool::release);
            long again = pool.trim();
            assertThat(pool.allocatedBytes()).as("window " + window).isEqualTo(5 * SLAB);
            assertThat(again).isNotEqualTo(BufferPool.TRIM_AGAIN_NANOS);
        }
        assertThat(pool.trimmedSlabs()).isZero();
    }

    @Test
    void aRecordingShowsEachTrim() throws Exception {
        BufferPool pool = pool(0);
        java.nio.file.Path file = java.nio.file.Files.createTempFile("trim", ".jfr");
        try (jdk.jfr.Recording recording = new jdk.jfr.Recording()) {
            recording.enable("dev.panamio.BufferPoolTrim");
            recording.start();
            take(pool, 3 * BufferPool.BUFFERS_PER_SLAB).forEach(pool::release);
            pool.trim();
            trimUntilSettled(pool);
            recording.stop();
            recording.dump(file);
            List<jdk.jfr.consumer.RecordedEvent> events = jdk.jfr.consumer.RecordingFile.readAllEvents(file).stream()
                    .filter(e -> e.getEventType().getName().equals("dev.panamio.BufferPoolTrim")).toList();
            assertThat(events).hasSize(1);
            assertThat(events.get(0).getLong("freedBytes")).isEqualTo(3 * SLAB);
            assertThat(events.get(0).getLong("poolBytes")).isZero();
        } finally {
            java.nio.file.Files.deleteIfExists(file);
        }
    }

    @Test
    void aPoolThatRetainsEverythingNeverAsksToTrim() {
        BufferPool pool = pool(Long.MAX_VALUE);
        take(pool, 10 * BufferPool.BUFFERS_PER_SLAB).forEach(pool::release);
        assertThat(trimRequests).isZero();
        assertThat(pool.trim()).isEqualTo(-1);
        assertThat(pool.allocatedBytes()).isEqualTo(10 * SLAB);
    }
}
