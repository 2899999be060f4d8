package io.imagemirror.store;

import io.imagemirror.oci.Digest;
import java.time.Instant;
import java.util.Objects;

/**
 * The index's entry for a stored blob. {@code lastTouched} moves forward whenever a copy reuses
 * the blob, so a sweeper's delete conditional on it loses to a concurrent reuse (invariant 4).
 */
public record BlobRecord(Digest digest, long size, Instant lastTouched) {
    public BlobRecord {
        Objects.requireNonNull(digest, "digest");
        Objects.requireNonNull(lastTouched, "lastTouched");
        lastTouched = Timestamps.truncate(lastTouched);
    }
}
