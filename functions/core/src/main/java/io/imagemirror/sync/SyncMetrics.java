package io.imagemirror.sync;

import io.imagemirror.metrics.Meter;
import io.imagemirror.metrics.Metrics;

/** What a finished sync run reports: its time, its outcome and what it found per tag. */
final class SyncMetrics {
    private SyncMetrics() {
    }

    static void record(Metrics metrics, SyncRun run) {
        metrics.observe(Meter.SYNC_RUNS, java.time.Duration.between(run.started(), run.finished()).toNanos() / 1e9,
                run.hasFailures() ? "failed" : "ok");
        metrics.add(Meter.SYNC_TAGS, run.unchanged().size(), "unchanged");
        metrics.add(Meter.SYNC_TAGS, run.changed().size(), "changed");
        metrics.add(Meter.SYNC_TAGS, run.deferred().size(), "deferred");
        metrics.add(Meter.SYNC_TAGS, run.failed().size(), "failed");
    }
}
