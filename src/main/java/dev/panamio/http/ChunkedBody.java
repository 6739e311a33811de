package dev.panamio.http;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A chunked message body (RFC 9112 §7.1) decoded as it arrives, for the server's requests and the client's
 * responses alike. Each {@link #decode} takes what it can from the read bytes and says where it stopped, so a
 * body that comes in many reads is read once. Strict where a lenient decoder would let two parsers disagree on
 * where the body ends: the size is hex digits only (no sign, at most 8), only a space, a tab or {@code ;} may
 * follow it, no line holds a control byte, and each chunk's data ends with CR LF. Chunk extensions and
 * trailer fields are read and dropped, and together they may take only so many bytes: else a peer could make
 * the reader scan gigabytes of extensions for a small body.
 */
final class ChunkedBody {
    /** The longest chunk-size line (with its extensions) accepted. */
    static final int MAX_LINE = 4096;

    private final long maxBody;
    private final int maxMetadata;
    private final ByteArrayOutputStream body = new ByteArrayOutputStream();
    /** Bytes left of the current chunk's data; 0: its CRLF is due; -1: a chunk-size line is due. */
    private long left = -1;
    private boolean trailers;
    /** Bytes of chunk extensions and trailer fields read so far. */
    private long metadataBytes;
    private boolean done;

    /**
     * @param maxBody     the largest decoded body accepted
     * @param maxMetadata the most bytes of chunk extensions and trailer fields, together, accepted
     */
    ChunkedBody(long maxBody, int maxMetadata) {
        this.maxBody = maxBody;
        this.maxMetadata = maxMetadata;
    }

    /** Why a chunked body was refused: malformed, or larger than allowed ({@link #tooLarge}). */
    static final class Malformed extends Exception {
        final boolean tooLarge;

        Malformed(String message, boolean tooLarge) {
            super(message, null, false, false);
            this.tooLarge = tooLarge;
        }
    }

    /**
     * Decodes from {@code in} at {@code p} as far as the bytes there go.
     *
     * @return the index after the last byte taken (what is before it may be consumed); once {@link #done()}, the
     *         index after the body's last CRLF
     * @throws Malformed if the bytes are not a chunked body, or the body or its extensions and trailers are larger
     *                   than allowed
     */
    int decode(Bytes in, int p) throws Malformed {
        byte[] d = in.data;
        while (!done) {
            if (trailers) { // trailer fields, then a blank line
                int e = in.indexOf(Bytes.CRLF, p);
                if (e < 0) {
                    metadata(in.length - p, true);
                    return p;
                }
                checkLine(d, p, e, "trailer field");
                metadata(e + 2 - p, false);
                done = e == p;
                p = e + 2;
                continue;
            }
            if (left < 0) {
                int e = in.indexOf(Bytes.CRLF, p);
                if (e < 0) {
                    if (in.length - p > MAX_LINE) {
                        throw new Malformed("chunk-size line longer than " + MAX_LINE + " bytes", false);
                    }
                    return p;
                }
                int digits = digits(d, p, e);
                left = 0;
                for (int i = p; i < p + digits; i++) {
                    left = left * 16 + Character.digit(d[i], 16);
                }
                metadata(e - p - digits, false);
                p = e + 2;
                if (left == 0) {
                    trailers = true;
                    continue;
                }
                if (body.size() + left > maxBody) {
                    throw new Malformed("chunked body larger than " + maxBody + " bytes", true);
                }
            }
            if (left > 0) {
                int n = (int) Math.min(left, in.length - p);
                body.write(d, p, n);
                p += n;
                left -= n;
                if (left > 0) {
                    return p;
                }
            }
            if (in.length - p < 2) {
                return p; // the chunk's CRLF is still coming
            }
            if (d[p] != '\r' || d[p + 1] != '\n') {
                throw new Malformed("chunk data not followed by CRLF", false);
            }
            p += 2;
            left = -1;
        }
        return p;
    }

    /**
     * Counts {@code n} bytes of extensions or trailer fields, refused beyond the limit; {@code partial}: of a
     * line not yet whole (checked now, counted when it is).
     */
    private void metadata(long n, boolean partial) throws Malformed {
        if (metadataBytes + n > maxMetadata) {
            throw new Malformed("chunk extensions and trailer fields larger than " + maxMetadata + " bytes", true);
        }
        if (!partial) {
            metadataBytes += n;
        }
    }

    /** How many hex digits start the chunk-size line {@code d[p, e)} (checked: 1 to 8, then the line's rest). */
    private static int digits(byte[] d, int p, int e) throws Malformed {
        int end = p;
        while (end < e && end - p <= 8 && Character.digit(d[end], 16) >= 0) {
            end++;
        }
        byte after = end < e ? d[end] : (byte) ';';
        if (end == p || end - p > 8 || (after != ';' && after != ' ' && after != '\t')) {
            String line = new String(d, p, Math.min(e - p, 40), StandardCharsets.ISO_8859_1);
            throw new Malformed("bad chunk size '" + line + "'", false);
        }
        checkLine(d, end, e, "chunk extension");
        return end - p;
    }

    /** A line holds no control byte but tab ({@link Bytes#controlAt}). */
    private static void checkLine(byte[] d, int p, int e, String what) throws Malformed {
        int at = Bytes.controlAt(d, p, e);
        if (at >= 0) {
            throw new Malformed("control byte 0x" + Integer.toHexString(d[at]) + " in a " + what, false);
        }
    }

    /** Whether the last chunk and the trailer section have been read. */
    boolean done() {
        return done;
    }

    /** Decoded bytes so far. */
    int size() {
        return body.size();
    }

    /** The decoded body. */
    byte[] body() {
        return body.size() == 0 ? EMPTY : body.toByteArray();
    }

    private static final byte[] EMPTY = {};
}
