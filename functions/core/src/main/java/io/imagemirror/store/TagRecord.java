package io.imagemirror.store;

import io.imagemirror.oci.Digest;
import java.time.Instant;
import java.util.Objects;

/**
 * Where a tag points now.
 *
 * @param updatedAt when the tag was last set (moved or created)
 * @param lastPulled when a client last pulled the tag (by tag, through the cache), or {@code null}
 *     if never since it was recorded; written at most once per {@link TagIndex#PULL_NOTE_INTERVAL},
 *     so it may be that much behind
 */
public record TagRecord(String repository, String tag, Digest digest, Instant updatedAt, Instant lastPulled) {
    public TagRecord {
        Objects.requireNonNull(repository, "repository");
        Objects.requireNonNull(tag, "tag");
        Objects.requireNonNull(digest, "digest");
        Objects.requireNonNull(updatedAt, "updatedAt");
        updatedAt = Timestamps.truncate(updatedAt);
        lastPulled = lastPulled == null ? null : Timestamps.truncate(lastPulled);
    }

    /** A tag never pulled. */
    public TagRecord(String repository, String tag, Digest digest, Instant updatedAt) {
        this(repository, tag, digest, updatedAt, null);
    }

    /** The last time the tag was used: its last pull, or when it was set if that is later (or it was never pulled). */
    public Instant lastUsed() {
        return lastPulled != null && lastPulled.isAfter(updatedAt) ? lastPulled : updatedAt;
    }

    /** Whether a pull now should be written to the index ({@link TagIndex#recordTagPull}): at most once per interval. */
    public boolean pullNoteDue(Instant now) {
        return lastPulled == null || !lastPulled.plus(TagIndex.PULL_NOTE_INTERVAL).isAfter(now);
    }
}
