package io.imagemirror.sweep;

import io.imagemirror.metrics.Meter;
import io.imagemirror.metrics.Metrics;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * What one sweep did: shown by {@code image-mirror prune --status} and {@code GET /v1/sweeps}.
 *
 * @param pages how many index pages it read (its cost, with the deletes)
 * @param dryRun whether it only reported what it would delete
 */
public record SweepReport(Instant startedAt, Instant finishedAt, Instant cutoff, long manifestsDeleted,
                          long blobsDeleted, long bytesReclaimed, int pages, boolean dryRun) {
    public SweepReport {
        Objects.requireNonNull(startedAt, "startedAt");
        Objects.requireNonNull(finishedAt, "finishedAt");
        Objects.requireNonNull(cutoff, "cutoff");
    }

    /** What this sweep did after {@code earlier}, a report of the same sweep at an earlier checkpoint. */
    public SweepReport since(SweepReport earlier) {
        return new SweepReport(startedAt, finishedAt, cutoff, manifestsDeleted - earlier.manifestsDeleted,
                blobsDeleted - earlier.blobsDeleted, bytesReclaimed - earlier.bytesReclaimed, pages - earlier.pages,
                dryRun);
    }

    /**
     * Reports this sweep (or, with {@code outcome} {@code paused}, the part of it one invocation
     * did) to {@code metrics}: its time since {@code startNanos} and what it deleted.
     */
    public void recordTo(Metrics metrics, String outcome, long startNanos) {
        metrics.since(Meter.SWEEPS, startNanos, outcome);
        metrics.add(Meter.SWEEP_DELETED, manifestsDeleted, "manifest");
        metrics.add(Meter.SWEEP_DELETED, blobsDeleted, "blob");
        metrics.add(Meter.SWEEP_RECLAIMED, bytesReclaimed);
    }

    public Duration duration() {
        return Duration.between(startedAt, finishedAt);
    }

    static SweepReport of(Sweeper.Checkpoint c, Instant finishedAt, boolean dryRun) {
        return new SweepReport(c.startedAt(), finishedAt, c.cutoff(), c.manifestsDeleted(), c.blobsDeleted(),
                c.bytesReclaimed(), c.pages(), dryRun);
    }
}
