package io.imagemirror.store;

/** A range that starts at or after the end of the object; carries the object's size for a 416 answer. */
public final class RangeNotSatisfiableException extends StoreException {
    private static final long serialVersionUID = 1L;

    private final long size;

    public RangeNotSatisfiableException(ByteRange range, long size) {
        super("range " + range.toHeader() + " is outside an object of " + size + " bytes", null, false);
        this.size = size;
    }

    /** The size of the whole object. */
    public long size() {
        return size;
    }
}
