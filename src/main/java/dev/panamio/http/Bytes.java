package dev.panamio.http;

import dev.panamio.Buffer;

import java.util.Arrays;

/** The bytes a connection has read and not yet consumed: what the HTTP server and client parse from. */
final class Bytes {
    private static final int INITIAL = 1024;
    private static final int SHRINK_ABOVE = 64 * 1024;
    /** The end of a line, and of a head. */
    static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] CRLFCRLF = {'\r', '\n', '\r', '\n'};

    byte[] data = new byte[INITIAL];
    int length;
    /** No head ends before this index ({@link #headEnd} searched up to here and found none). */
    private int searched;

    /** Appends a read's bytes and releases its lease (copied without a view: a view would need an arena per read). */
    void append(Buffer read) {
        int n = read.length();
        if (length + n > data.length) {
            data = Arrays.copyOf(data, Math.max(data.length * 2, length + n));
        }
        read.copyTo(0, data, length, n);
        length += n;
        read.release();
    }

    /** Drops the first {@code n} bytes. */
    void consume(int n) {
        if (n > 0) {
            System.arraycopy(data, n, data, 0, length - n);
            length -= n;
            searched = Math.max(0, searched - n);
            if (length == 0 && data.length > SHRINK_ABOVE) {
                data = new byte[INITIAL]; // a large body's array is not kept for the rest of the connection
            }
        }
    }

    /**
     * The first index {@code >= from} where CR LF CR LF (the end of a head) starts, or -1. A miss is remembered:
     * the next search starts where this one stopped, so a head that arrives in many reads is searched once.
     */
    int headEnd(int from) {
        int at = indexOf(CRLFCRLF, Math.max(from, searched));
        if (at < 0) {
            searched = Math.max(from, length - 3);
        }
        return at;
    }

    /** The first index {@code >= from} where {@code pattern} starts, or -1. */
    int indexOf(byte[] pattern, int from) {
        byte[] d = data;
        int n = pattern.length;
        byte first = pattern[0];
        outer:
        for (int i = from, last = length - n; i <= last; i++) {
            if (d[i] != first) {
                continue;
            }
            for (int k = 1; k < n; k++) {
                if (d[i + k] != pattern[k]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** Token characters (RFC 9110 §5.6.2), by ASCII code. */
    static final boolean[] TCHAR = new boolean[128];

    static {
        for (int c = '0'; c <= '9'; c++) {
            TCHAR[c] = true;
        }
        for (int c = 'a'; c <= 'z'; c++) {
            TCHAR[c] = true;
            TCHAR[c - 32] = true;
        }
        for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
            TCHAR[c] = true;
        }
    }

    /** Whether {@code s} is a token: a method, a field name, a transfer coding. */
    static boolean isToken(String s) {
        return !s.isEmpty() && s.chars().allMatch(ch -> ch < TCHAR.length && TCHAR[ch]);
    }

    /**
     * The first control byte other than tab in {@code d[from, to)}, or -1: a field value or a chunk line holds
     * none (a bare CR or LF would end it for some parsers and not for others; NUL and DEL are refused too).
     */
    static int controlAt(byte[] d, int from, int to) {
        for (int i = from; i < to; i++) {
            byte b = d[i];
            if ((b >= 0 && b < 0x20 && b != '\t') || b == 0x7f) { // bytes >= 0x80 are negative: allowed
                return i;
            }
        }
        return -1;
    }

    /** A decimal field value of digits only (no sign, no spaces, no list), or -1. */
    static long digits(String s) {
        if (s.isEmpty() || s.length() > 18) {
            return -1;
        }
        long n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            n = n * 10 + (c - '0');
        }
        return n;
    }
}
