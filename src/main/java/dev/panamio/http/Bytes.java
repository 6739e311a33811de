package dev.panamio.http;

import dev.panamio.Buffer;

import java.util.Arrays;

/** The bytes a connection has read and not yet consumed: what the HTTP server and client parse from. */
final class Bytes {
    private static final int INITIAL = 1024;
    private static final int SHRINK_ABOVE = 64 * 1024;

    byte[] data = new byte[INITIAL];
    int length;

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
            if (length == 0 && data.length > SHRINK_ABOVE) {
                data = new byte[INITIAL]; // a large body's array is not kept for the rest of the connection
            }
        }
    }

    /** The first index {@code >= from} where CR LF CR LF starts, or -1. */
    int indexOfHeadEnd(int from) {
        byte[] d = data;
        for (int i = from; i + 3 < length; i++) {
            if (d[i + 3] == '\n' && d[i + 2] == '\r' && d[i + 1] == '\n' && d[i] == '\r') {
                return i;
            }
        }
        return -1;
    }

    /** The first index in {@code [from, to - 1)} where CR LF starts, or {@code to - 2} (the caller's line end). */
    static int indexOfCrlf(byte[] d, int from, int to) {
        for (int i = from; i + 1 < to; i++) {
            if (d[i] == '\r' && d[i + 1] == '\n') {
                return i;
            }
        }
        return to - 2;
    }

    /** The first index {@code >= from} where the ASCII {@code pattern} starts, or -1. */
    int indexOf(String pattern, int from) {
        outer:
        for (int i = from; i + pattern.length() <= length; i++) {
            for (int k = 0; k < pattern.length(); k++) {
                if (data[i + k] != pattern.charAt(k)) {
                    continue outer;
                }
            }
            return i;
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
