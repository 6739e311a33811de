package dev.panamio.sys;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class RingsTest {
    @Test
    void aWrappedRingComesOutInOrderFromIndexZero() {
        // Capacity 4, head at 2: entries 10, 11 at the end, 12, 13 wrapped to the start.
        int[] ring = {12, 13, 10, 11};
        int[] grown = Rings.unwrapped(ring, 2, 4, 8);
        assertThat(grown).containsExactly(10, 11, 12, 13, 0, 0, 0, 0);
        String[] names = {"c", null, "a", "b"};
        assertThat(Rings.unwrapped(names, 2, 3, 6)).containsExactly("a", "b", "c", null, null, null);
    }

    @Test
    void anEmptyRingGrowsIntoAnEmptyArrayOfTheSameType() {
        long[] grown = Rings.unwrapped(new long[0], 0, 0, 8);
        assertThat(grown).hasSize(8).containsOnly(0L);
        assertThat(Rings.unwrapped(new boolean[] {true, false}, 1, 0, 4)).containsExactly(false, false, false, false);
    }
}
