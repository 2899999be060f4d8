package io.imagemirror.store;

import io.imagemirror.oci.Digest;
import java.time.Instant;
import java.util.Objects;

/**
 * A blob the sweeper should look at: its last reference may have gone at {@code since} (or it was
 * recorded without one), or a sweep began deleting it. {@code size} is 0 when the index has no
 * record of the blob's size.
 */
public record BlobCandidate(Digest digest, long size, Instant since) {
    public BlobCandidate {
        Objects.requireNonNull(digest, "digest");
        Objects.requireNonNull(since, "since");
        since = Timestamps.truncate(since);
    }
}
