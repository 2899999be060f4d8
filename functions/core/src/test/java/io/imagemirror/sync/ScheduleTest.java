package io.imagemirror.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class ScheduleTest {
    private static final Instant T = Instant.parse("2026-12-01T10:17:30Z");

    @Test
    void ratesStepByTheirInterval() {
        assertThat(Schedule.parse("rate(15 minutes)").nextAfter(T)).contains(T.plusSeconds(900));
        assertThat(Schedule.parse("rate(1 hour)").nextAfter(T)).contains(T.plusSeconds(3600));
        assertThat(Schedule.parse("rate(2 days)").nextAfter(T)).contains(T.plusSeconds(2 * 86400));
        assertThat(Schedule.parse("rate(1 minute)").firstRun(T)).contains(T);
    }

    @Test
    void cronsAreEventBridgesSixFieldsInUtc() {
        Schedule daily = Schedule.parse("cron(0 3 * * ? *)");
        assertThat(daily.nextAfter(T)).contains(Instant.parse("2026-12-02T03:00:00Z"));
        assertThat(daily.firstRun(T)).contains(Instant.parse("2026-12-02T03:00:00Z"));
        assertThat(Schedule.parse("cron(0/15 * * * ? *)").nextAfter(T)).contains(Instant.parse("2026-12-01T10:30:00Z"));
        // Mondays at 08:00 (day-of-week 2 = MON, as EventBridge numbers them).
        assertThat(Schedule.parse("cron(0 8 ? * 2 *)").nextAfter(T)).contains(Instant.parse("2026-12-07T08:00:00Z"));
        assertThat(Schedule.parse("cron(0 8 ? * MON-FRI *)").nextAfter(T)).contains(Instant.parse("2026-12-02T08:00:00Z"));
        assertThat(Schedule.parse("cron(0 12 L * ? *)").nextAfter(T)).contains(Instant.parse("2026-12-31T12:00:00Z"));
        assertThat(Schedule.parse("cron(0 0 1 1 ? 2020)").nextAfter(T)).isEmpty();
    }

    @Test
    void badExpressionsAreRefusedWithTheReason() {
        assertThatThrownBy(() -> Schedule.parse("rate(1 minutes)")).isInstanceOf(InvalidRuleException.class)
                .hasMessageContaining("rate(1 minute)");
        assertThatThrownBy(() -> Schedule.parse("rate(5 minute)")).hasMessageContaining("rate(5 minutes)");
        assertThatThrownBy(() -> Schedule.parse("rate(0 minutes)")).hasMessageContaining("at least 1");
        assertThatThrownBy(() -> Schedule.parse("rate(5 weeks)")).hasMessageStartingWith("schedule: expected");
        assertThatThrownBy(() -> Schedule.parse("cron(0 3 * * *)")).hasMessageContaining("6 fields");
        assertThatThrownBy(() -> Schedule.parse("cron(61 3 * * ? *)")).hasMessageStartingWith("schedule: invalid cron");
        assertThatThrownBy(() -> Schedule.parse("*/5 * * * *")).hasMessageStartingWith("schedule: expected");
    }
}
