package io.imagemirror.store;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * The shared ledger's item of one upstream: the pull quota its last answer stated
 * ({@code ratelimit-limit} / {@code ratelimit-remaining} and the window), the requests every
 * instance sent it, and its last error. Written only by compare-and-set on {@link #version()}
 * ({@link UpstreamLedger#replaceUpstreamState}); how observations merge is decided by
 * {@code upstream/QuotaLedger}.
 *
 * @param upstream the registry's canonical name
 * @param limit pulls allowed per window, or -1 when no answer stated one
 * @param remaining pulls left at {@code observedAt}, or -1 when unknown
 * @param window the window the quota counts over, or null when not stated
 * @param observedAt when the answer carrying the quota arrived, or null when none did
 * @param requests requests sent to the upstream (every instance, every attempt)
 * @param manifestGets of those, manifest GETs (what Docker Hub counts as pulls)
 * @param failures requests that ended in an error answer (429, 5xx, 401/403) or a transport failure
 * @param lastError the last failure's description (never credentials or query strings), or null
 * @param lastErrorAt when it happened, or null
 * @param version 1 for the first state written, one more with every write
 */
public record UpstreamState(String upstream, long limit, long remaining, Duration window, Instant observedAt,
                            long requests, long manifestGets, long failures, String lastError, Instant lastErrorAt,
                            long version) {
    public UpstreamState {
        Objects.requireNonNull(upstream, "upstream");
        if (version < 1) {
            throw new IllegalArgumentException("version must be at least 1, got " + version);
        }
        observedAt = observedAt == null ? null : Timestamps.truncate(observedAt);
        lastErrorAt = lastErrorAt == null ? null : Timestamps.truncate(lastErrorAt);
    }

    /** The first state of {@code upstream} (version 1), nothing known yet. */
    public static UpstreamState first(String upstream) {
        return new UpstreamState(upstream, -1, -1, null, null, 0, 0, 0, null, null, 1);
    }
}
