package dev.panamio.sys.linux;

import dev.panamio.sys.linux.ffi.epoll_data;
import dev.panamio.sys.linux.ffi.linux_h;

import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.util.Locale;

/**
 * {@code struct epoll_event} for the running architecture. The kernel declares it
 * {@code __attribute__((packed))} only on x86-64 (12 bytes, {@code data} at offset 4); elsewhere it has natural
 * alignment (16 bytes, {@code data} at 8). The generated {@code epoll_event} is the x86-64 one; code uses this.
 */
public final class EpollEvents {
    private EpollEvents() {}

    private static final GroupLayout NATURAL = MemoryLayout.structLayout(
            linux_h.C_INT.withName("events"),
            MemoryLayout.paddingLayout(4),
            epoll_data.layout().withName("data")).withName("epoll_event");

    private static final GroupLayout CURRENT = layoutFor(System.getProperty("os.arch", ""));

    /**
     * The layout on {@code arch} ({@code os.arch} names: {@code amd64}/{@code x86_64} are packed, others natural).
     */
    public static GroupLayout layoutFor(String arch) {
        String a = arch.toLowerCase(Locale.ROOT);
        return a.equals("amd64") || a.equals("x86_64") ? dev.panamio.sys.linux.ffi.epoll_event.layout() : NATURAL;
    }

    /** The layout on this machine. */
    public static GroupLayout layout() {
        return CURRENT;
    }

    private static final long EVENTS_OFFSET = CURRENT.byteOffset(MemoryLayout.PathElement.groupElement("events"));
    private static final long DATA_OFFSET = CURRENT.byteOffset(MemoryLayout.PathElement.groupElement("data"));

    /** Offset of {@code events} (always 0). Computed once: every registration writes it. */
    public static long eventsOffset() {
        return EVENTS_OFFSET;
    }

    /** Offset of {@code data}: 4 on x86-64, 8 elsewhere. */
    public static long dataOffset() {
        return DATA_OFFSET;
    }
}
