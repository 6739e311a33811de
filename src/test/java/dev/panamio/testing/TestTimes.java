package dev.panamio.testing;

import java.time.Duration;

/**
 * Deadlines for tests that wait: generous for a loaded 2-core machine, and scaled by the system property
 * {@code panamio.test.timeMultiplier} (default 1) for slower ones.
 */
public final class TestTimes {
    private TestTimes() {}

    private static final double MULTIPLIER = Double.parseDouble(System.getProperty("panamio.test.timeMultiplier", "1"));

    /** {@code d} scaled by the multiplier. */
    public static Duration scaled(Duration d) {
        return Duration.ofNanos((long) (d.toNanos() * MULTIPLIER));
    }

    /** The default wait for something that should happen promptly: 30 s scaled. */
    public static Duration patience() {
        return scaled(Duration.ofSeconds(30));
    }
}
