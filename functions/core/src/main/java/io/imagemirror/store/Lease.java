package io.imagemirror.store;

import java.time.Instant;
import java.util.Objects;

/**
 * Who fetches one cold thing from upstream right now, across every instance sharing the index: a
 * lease written only by compare-and-set on {@link #version()} ({@link LeaseIndex#replaceLease}). What
 * a lease means (taken, expired, released, taken over) is decided by {@code mirror/FillLeases};
 * stores only persist this.
 *
 * @param key what is being fetched, e.g. {@code manifest sha256:...} or {@code blob sha256:...}
 * @param holder the instance that holds it (a random id per process or wiring)
 * @param expiresAt until when the holder holds it unless it renews; a released lease has expired
 * @param version 1 for the first lease written for the key, one more with every write
 */
public record Lease(String key, String holder, Instant expiresAt, long version) {
    public Lease {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(holder, "holder");
        Objects.requireNonNull(expiresAt, "expiresAt");
        if (version < 1) {
            throw new IllegalArgumentException("version must be at least 1, got " + version);
        }
        expiresAt = Timestamps.truncate(expiresAt);
    }

    /** Whether the lease still holds at {@code now}. */
    public boolean heldAt(Instant now) {
        return expiresAt.isAfter(now);
    }

    /** The lease that follows this one (the version one higher). */
    public Lease next(String by, Instant until) {
        return new Lease(key, by, until, version + 1);
    }
}
