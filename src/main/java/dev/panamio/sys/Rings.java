package dev.panamio.sys;

import java.lang.reflect.Array;

/** Growing the rings of parallel arrays the loop keeps (ready completions, queued writes). */
public final class Rings {
    private Rings() {}

    /**
     * Returns a new array of {@code capacity} elements, of {@code ring}'s type, holding the ring's {@code size}
     * entries in order from index 0: those from {@code head} to the array's end, then those that wrapped to its
     * start.
     *
     * @param ring     a ring's array (of any element type)
     * @param head     index of the ring's first entry
     * @param size     entries in the ring ({@code <= capacity})
     * @param capacity length of the new array
     * @param <A>      the array type
     * @return the new array
     */
    @SuppressWarnings("unchecked")
    public static <A> A unwrapped(A ring, int head, int size, int capacity) {
        A to = (A) Array.newInstance(ring.getClass().getComponentType(), capacity);
        int first = Math.min(size, Array.getLength(ring) - head);
        System.arraycopy(ring, head, to, 0, first);
        System.arraycopy(ring, 0, to, first, size - first);
        return to;
    }
}
