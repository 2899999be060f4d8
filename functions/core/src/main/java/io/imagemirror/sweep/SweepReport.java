package io.imagemirror.sweep;

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

    public Duration duration() {
        return Duration.between(startedAt, finishedAt);
    }

    static SweepReport of(Sweeper.Checkpoint c, Instant finishedAt, boolean dryRun) {
        return new SweepReport(c.startedAt(), finishedAt, c.cutoff(), c.manifestsDeleted(), c.blobsDeleted(),
                c.bytesReclaimed(), c.pages(), dryRun);
    }
}
