package io.imagemirror.store;

import io.imagemirror.oci.Digest;
import java.time.Instant;
import java.util.Objects;

/** Where a tag points now. */
public record TagRecord(String repository, String tag, Digest digest, Instant updatedAt) {
    public TagRecord {
        Objects.requireNonNull(repository, "repository");
        Objects.requireNonNull(tag, "tag");
        Objects.requireNonNull(digest, "digest");
        Objects.requireNonNull(updatedAt, "updatedAt");
        updatedAt = Timestamps.truncate(updatedAt);
    }
}
