package io.imagemirror.store;

import io.imagemirror.oci.Digest;
import java.time.Instant;
import java.util.Objects;

/** A manifest mirrored by digest: it stays (is not dangling) without a tag. */
public record Pin(String repository, Digest digest, Instant time) {
    public Pin {
        Objects.requireNonNull(repository, "repository");
        Objects.requireNonNull(digest, "digest");
        Objects.requireNonNull(time, "time");
        time = Timestamps.truncate(time);
    }
}
