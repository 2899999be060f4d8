package io.imagemirror.mirror;

import io.imagemirror.oci.Digest;

/**
 * Progress of a mirror, for a terminal display or a job's progress record. Called from the
 * copying threads, concurrently for different blobs; implementations must be thread-safe and fast.
 */
public interface MirrorListener {

    /** A listener that ignores everything. */
    MirrorListener NONE = new MirrorListener() {
    };

    /** Resolving a reference (a HEAD upstream for a tag). */
    default void resolving(String reference) {
    }

    /** The tag already points at {@code digest} here: nothing to copy. */
    default void upToDate(String reference, Digest digest) {
    }

    /** A manifest was found; {@code stored} when it was recorded already. */
    default void manifest(Digest digest, String mediaType, boolean stored) {
    }

    /** A blob copy starts. */
    default void blobStarted(Digest digest, long size) {
    }

    /** {@code done} of {@code size} bytes of a blob have been transferred. */
    default void blobProgress(Digest digest, long done, long size) {
    }

    /** A blob is settled. */
    default void blobFinished(BlobOutcome outcome) {
    }

    /** A tag was recorded at {@code digest} ({@code previous} is null for a new tag). */
    default void tagged(String reference, Digest previous, Digest digest) {
    }
}
