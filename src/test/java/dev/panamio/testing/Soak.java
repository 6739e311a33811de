package dev.panamio.testing;

/**
 * How much bigger the reliability scenarios run: the system property {@code panamio.soak.scale} (default 1;
 * {@code scripts/soak} sets it higher for manual runs).
 */
public final class Soak {
    private Soak() {}

    private static final int SCALE = Math.max(1, Integer.getInteger("panamio.soak.scale", 1));

    /** @return the multiplier for connection counts, op counts and rounds */
    public static int scale() {
        return SCALE;
    }
}
