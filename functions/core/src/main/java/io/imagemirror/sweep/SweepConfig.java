package io.imagemirror.sweep;

import io.imagemirror.config.ConfigException;
import io.imagemirror.sync.Schedule;
import java.time.Duration;
import java.util.Objects;

/**
 * The {@code sweep:} section of the configuration: {@code sweep: {grace: 24h, schedule: rate(1 day)}}.
 *
 * @param grace manifests dangling and blobs untouched for less than this are kept
 * @param schedule when {@code serve} sweeps (an EventBridge {@code rate()} or {@code cron()} expression)
 */
public record SweepConfig(Duration grace, Schedule schedule) {
    public static final String DEFAULT_SCHEDULE = "rate(1 day)";
    public static final SweepConfig DEFAULTS = new SweepConfig(Sweeper.DEFAULT_GRACE, Schedule.parse(DEFAULT_SCHEDULE));

    public SweepConfig {
        Objects.requireNonNull(grace, "grace");
        Objects.requireNonNull(schedule, "schedule");
        if (grace.isNegative()) {
            throw new ConfigException("sweep.grace cannot be negative");
        }
    }

    /** Parses the section's values ({@code null}: the default). */
    public static SweepConfig of(Duration grace, String schedule) {
        Schedule s;
        try {
            s = schedule == null ? DEFAULTS.schedule() : Schedule.parse(schedule);
        } catch (IllegalArgumentException e) { // an InvalidRuleException says what is wrong
            throw new ConfigException("sweep.schedule: " + e.getMessage(), e);
        }
        return new SweepConfig(grace == null ? DEFAULTS.grace() : grace, s);
    }
}
