package io.imagemirror.store;

/**
 * A byte range of a stored object, as an HTTP {@code Range: bytes=first-last} names it:
 * {@code first} is inclusive, {@code last} is inclusive or {@code -1} for "to the end".
 * A {@code last} past the end of the object is cut to the end, as HTTP does.
 */
public record ByteRange(long first, long last) {

    /** The whole object. */
    public static final ByteRange ALL = new ByteRange(0, -1);

    public ByteRange {
        if (first < 0) {
            throw new IllegalArgumentException("range start must be >= 0, got " + first);
        }
        if (last != -1 && last < first) {
            throw new IllegalArgumentException("range end " + last + " is before its start " + first);
        }
    }

    /** Bytes {@code first..last}, both inclusive. */
    public static ByteRange of(long first, long last) {
        return new ByteRange(first, last);
    }

    /** From {@code first} to the end. */
    public static ByteRange from(long first) {
        return new ByteRange(first, -1);
    }

    public boolean isAll() {
        return first == 0 && last == -1;
    }

    /** The number of bytes this range covers in an object of {@code size} bytes (0 if unsatisfiable). */
    public long lengthWithin(long size) {
        if (first >= size) {
            return 0;
        }
        long end = last == -1 ? size - 1 : Math.min(last, size - 1);
        return end - first + 1;
    }

    /** Whether an object of {@code size} bytes has any byte of this range (an empty object satisfies only ALL). */
    public boolean satisfiableWithin(long size) {
        return isAll() || first < size;
    }

    /** The {@code Range} header value. */
    public String toHeader() {
        return "bytes=" + first + "-" + (last == -1 ? "" : Long.toString(last));
    }
}
