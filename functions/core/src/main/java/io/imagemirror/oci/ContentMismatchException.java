package io.imagemirror.oci;

import java.io.IOException;

/**
 * Bytes that did not match what was expected of them: a different digest, fewer bytes than the
 * declared size, or more. Carries both what was wanted and what was got, so a caller can report
 * the blob and the cause. It is an {@link IOException} because it surfaces from a stream read.
 */
public final class ContentMismatchException extends IOException {
    private static final long serialVersionUID = 1L;

    /** What did not match. */
    public enum Kind {
        /** The bytes hash to another digest. */
        DIGEST,
        /** The stream ended before the declared size. */
        TOO_SHORT,
        /** The stream went on past the declared size. */
        TOO_LONG
    }

    private final Kind kind;
    private final Digest wantDigest;
    private final transient Digest gotDigest;
    private final long wantSize;
    private final long gotSize;

    public ContentMismatchException(Kind kind, Digest wantDigest, Digest gotDigest, long wantSize, long gotSize) {
        super(message(kind, wantDigest, gotDigest, wantSize, gotSize));
        this.kind = kind;
        this.wantDigest = wantDigest;
        this.gotDigest = gotDigest;
        this.wantSize = wantSize;
        this.gotSize = gotSize;
    }

    private static String message(Kind kind, Digest want, Digest got, long wantSize, long gotSize) {
        return switch (kind) {
            case DIGEST -> "digest mismatch for " + want + ": got " + got;
            case TOO_SHORT -> "content of " + want + " ended early: got " + gotSize + " of " + wantSize + " bytes";
            case TOO_LONG -> "content of " + want + " is longer than its declared size of " + wantSize + " bytes";
        };
    }

    public Kind kind() {
        return kind;
    }

    public Digest wantDigest() {
        return wantDigest;
    }

    /** The digest of what was read, or {@code null} when the size check failed first. */
    public Digest gotDigest() {
        return gotDigest;
    }

    /** The declared size, or -1 when none was declared. */
    public long wantSize() {
        return wantSize;
    }

    /** The number of bytes read. */
    public long gotSize() {
        return gotSize;
    }
}
