package io.imagemirror.sweep;

import io.imagemirror.config.ConfigException;
import io.imagemirror.sync.Schedule;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The {@code sweep:} section of the configuration:
 * {@code sweep: {grace: 24h, schedule: rate(1 day), retention: [...]}}.
 *
 * @param grace manifests dangling and blobs untouched for less than this are kept
 * @param schedule when {@code serve} sweeps (an EventBridge {@code rate()} or {@code cron()} expression)
 * @param retention the retention policies ({@link RetentionPolicy}), in order; empty: no tag is untagged
 */
public record SweepConfig(Duration grace, Schedule schedule, List<RetentionPolicy> retention) {
    public static final String DEFAULT_SCHEDULE = "rate(1 day)";
    public static final SweepConfig DEFAULTS = new SweepConfig(Sweeper.DEFAULT_GRACE, Schedule.parse(DEFAULT_SCHEDULE),
            List.of());

    public SweepConfig {
        Objects.requireNonNull(grace, "grace");
        Objects.requireNonNull(schedule, "schedule");
        retention = List.copyOf(retention == null ? List.of() : retention);
        if (grace.isNegative()) {
            throw new ConfigException("sweep.grace cannot be negative");
        }
    }

    public SweepConfig(Duration grace, Schedule schedule) {
        this(grace, schedule, List.of());
    }

    /** Parses the section's values ({@code null}: the default). */
    public static SweepConfig of(Duration grace, String schedule) {
        return of(grace, schedule, List.of());
    }

    /** Parses the section's values ({@code null}: the default). */
    public static SweepConfig of(Duration grace, String schedule, List<RetentionPolicy> retention) {
        Schedule s;
        try {
            s = schedule == null ? DEFAULTS.schedule() : Schedule.parse(schedule);
        } catch (IllegalArgumentException e) { // an InvalidRuleException says what is wrong
            throw new ConfigException("sweep.schedule: " + e.getMessage(), e);
        }
        return new SweepConfig(grace == null ? DEFAULTS.grace() : grace, s, retention);
    }
}
