package dev.panamio.http;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/** The {@code Date} header line (IMF-fixdate), formatted once per second and shared by every server. */
final class HttpDate {
    private HttpDate() {}

    private static final DateTimeFormatter IMF_FIXDATE =
            DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US).withZone(ZoneOffset.UTC);

    /** One second's line; immutable, so loops on other threads may share it without locks. */
    private record Line(long second, byte[] bytes) {}

    private static volatile Line current = new Line(Long.MIN_VALUE, new byte[0]);

    /**
     * {@code "Date: <IMF-fixdate>\r\n"} for {@code second} (since the epoch), formatted once however many
     * servers ask. Do not modify the array.
     */
    static byte[] line(long second) {
        Line line = current;
        if (line.second != second) {
            line = new Line(second, format(second));
            current = line;
        }
        return line.bytes;
    }

    /**
     * One loop's Date line, which reads the wall clock once per second: in between it goes by the loop's
     * clock, which the loop reads at every tick anyway. Loop thread only.
     */
    static final class Cache {
        private final dev.panamio.EventLoop loop;
        private byte[] line;
        /** When the next second starts, on the loop's clock. */
        private long until = Long.MIN_VALUE;

        Cache(dev.panamio.EventLoop loop) {
            this.loop = loop;
        }

        byte[] now() {
            long t = loop.now();
            if (line == null || t - until >= 0) {
                long millis = System.currentTimeMillis();
                line = line(Math.floorDiv(millis, 1000L));
                until = t + (1000 - Math.floorMod(millis, 1000L)) * 1_000_000L;
            }
            return line;
        }
    }

    static byte[] format(long epochSecond) {
        return ("Date: " + IMF_FIXDATE.format(Instant.ofEpochSecond(epochSecond)) + "\r\n").getBytes(StandardCharsets.US_ASCII);
    }
}
