package io.imagemirror.sweep;

import static org.assertj.core.api.Assertions.assertThat;

import io.imagemirror.metrics.Meter;
import io.imagemirror.metrics.RecordingMetrics;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class SweepReportMetricsTest {

    @Test
    void anInvocationReportsOnlyWhatItDeletedItselfOfAContinuedSweep() {
        Instant t = Instant.parse("2026-12-02T01:00:00Z");
        SweepReport earlier = new SweepReport(t, t.plusSeconds(60), t, 3, 10, 1000, 4, false);
        SweepReport now = new SweepReport(t, t.plusSeconds(120), t, 5, 12, 1500, 7, false);
        RecordingMetrics m = new RecordingMetrics();
        now.since(earlier).recordTo(m, "paused", System.nanoTime());
        assertThat(m.observations(Meter.SWEEPS, "paused")).isEqualTo(1);
        assertThat(m.value(Meter.SWEEP_DELETED, "manifest")).isEqualTo(2);
        assertThat(m.value(Meter.SWEEP_DELETED, "blob")).isEqualTo(2);
        assertThat(m.value(Meter.SWEEP_RECLAIMED)).isEqualTo(500);
    }
}
