package io.imagemirror.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.imagemirror.metrics.Meter;
import io.imagemirror.metrics.RecordingMetrics;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class SyncMetricsTest {

    @Test
    void aRunCountsItsTagsByResultAndFailsWhenATagFailed() {
        RecordingMetrics m = new RecordingMetrics();
        Instant t = Instant.parse("2026-12-02T01:00:00Z");
        SyncMetrics.record(m, new SyncRun("r", "1", false, t, t.plusSeconds(2), null, 5, 4, List.of("a", "b"),
                List.of("c"), List.of("d"), List.of(), List.of(), List.of(), List.of("job-1")));
        SyncMetrics.record(m, new SyncRun("r", "2", false, t, t.plusSeconds(1), null, 5, 1, List.of(), List.of(),
                List.of(), List.of(new SyncRun.Failure("e", "HEAD: 500")), List.of(), List.of(), List.of()));
        assertThat(m.observations(Meter.SYNC_RUNS, "ok")).isEqualTo(1);
        assertThat(m.observations(Meter.SYNC_RUNS, "failed")).isEqualTo(1);
        assertThat(m.value(Meter.SYNC_TAGS, "unchanged")).isEqualTo(2);
        assertThat(m.value(Meter.SYNC_TAGS, "changed")).isEqualTo(1);
        assertThat(m.value(Meter.SYNC_TAGS, "deferred")).isEqualTo(1);
        assertThat(m.value(Meter.SYNC_TAGS, "failed")).isEqualTo(1);
    }
}
