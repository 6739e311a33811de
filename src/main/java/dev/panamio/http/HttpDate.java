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

    /** {@code "Date: <IMF-fixdate>\r\n"} for the current second. Do not modify the array. */
    static byte[] now() {
        long second = Math.floorDiv(System.currentTimeMillis(), 1000L);
        Line line = current;
        if (line.second != second) {
            line = new Line(second, format(second));
            current = line;
        }
        return line.bytes;
    }

    static byte[] format(long epochSecond) {
        return ("Date: " + IMF_FIXDATE.format(Instant.ofEpochSecond(epochSecond)) + "\r\n").getBytes(StandardCharsets.US_ASCII);
    }
}
