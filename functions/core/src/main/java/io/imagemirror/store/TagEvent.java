package io.imagemirror.store;

import io.imagemirror.oci.Digest;
import java.time.Instant;
import java.util.Objects;

/**
 * One move of a tag: created ({@code oldDigest == null}), moved, or deleted
 * ({@code newDigest == null}), with when and why ({@link Cause#value()}: {@code "api"},
 * {@code "sync rule nightly"}, ...).
 */
public record TagEvent(String repository, String tag, Digest oldDigest, Digest newDigest, Instant time,
                       String cause) {
    public TagEvent {
        Objects.requireNonNull(repository, "repository");
        Objects.requireNonNull(tag, "tag");
        Objects.requireNonNull(time, "time");
        Objects.requireNonNull(cause, "cause");
        if (oldDigest == null && newDigest == null) {
            throw new IllegalArgumentException("a tag event needs an old or a new digest");
        }
        time = Timestamps.truncate(time);
    }
}
