package io.imagemirror.mirror;

import io.imagemirror.oci.Digest;

/**
 * What happened to one blob during a mirror.
 *
 * @param digest the blob
 * @param size its size
 * @param status what was done
 * @param bytesCopied bytes transferred from upstream for it (0 unless {@link Status#COPIED})
 */
public record BlobOutcome(Digest digest, long size, Status status, long bytesCopied) {

    /** The outcomes {@code docker pull} would show, plus the foreign-layer case. */
    public enum Status {
        /** Fetched from upstream, verified and stored by this run. */
        COPIED,
        /** Already stored (by an earlier run, another image, or a concurrent copy): only touched. */
        ALREADY_EXISTS,
        /** A foreign / non-distributable layer: recorded, not copied. */
        SKIPPED_NON_DISTRIBUTABLE
    }

    /** Bytes that did not have to be transferred because they were stored already. */
    public long bytesReused() {
        return status == Status.ALREADY_EXISTS ? size : 0;
    }
}
