package io.imagemirror.sync;

import com.cronutils.model.Cron;
import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * When a sync rule runs, in EventBridge's schedule syntax so one expression means the same locally
 * and on AWS: {@code rate(15 minutes)} (value ≥ 1; unit {@code minute}/{@code hour}/{@code day},
 * singular exactly when the value is 1) or {@code cron(0 3 * * ? *)} (minutes, hours,
 * day-of-month, month, day-of-week, year, in UTC; one of the two day fields is {@code ?}).
 *
 * <p>EventBridge's cron is Quartz's without the seconds field, so it is parsed and stepped by
 * cron-utils' Quartz definition with seconds fixed at 0. Immutable.
 */
public final class Schedule {
    private static final Pattern RATE = Pattern.compile("rate\\((\\d{1,9}) (minute|minutes|hour|hours|day|days)\\)");
    private static final Pattern CRON = Pattern.compile("cron\\((.+)\\)");

    /** Built on the first cron(): rate() schedules (the defaults) need no cron-utils classes. */
    private static final class Quartz {
        static final CronParser PARSER = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.QUARTZ));
    }

    private final String expression;
    private final Duration rate;
    private final ExecutionTime cron;

    private Schedule(String expression, Duration rate, ExecutionTime cron) {
        this.expression = expression;
        this.rate = rate;
        this.cron = cron;
    }

    /**
     * Parses a schedule expression.
     *
     * @throws InvalidRuleException ({@code schedule}) saying what is wrong with it
     */
    public static Schedule parse(String expression) {
        Objects.requireNonNull(expression, "expression");
        String e = expression.trim();
        Matcher r = RATE.matcher(e);
        if (r.matches()) {
            long value = Long.parseLong(r.group(1));
            String unit = r.group(2);
            if (value < 1) {
                throw new InvalidRuleException("schedule", "a rate must be at least 1 " + unit);
            }
            if ((value == 1) == unit.endsWith("s")) {
                throw new InvalidRuleException("schedule", "write rate(" + value + " "
                        + (value == 1 ? unit.substring(0, unit.length() - 1) : unit + "s")
                        + "): EventBridge takes the singular unit for 1 and the plural otherwise");
            }
            Duration d = switch (unit.replaceAll("s$", "")) {
                case "minute" -> Duration.ofMinutes(value);
                case "hour" -> Duration.ofHours(value);
                default -> Duration.ofDays(value);
            };
            return new Schedule(e, d, null);
        }
        Matcher c = CRON.matcher(e);
        if (c.matches()) {
            String[] fields = c.group(1).trim().split("\\s+");
            if (fields.length != 6) {
                throw new InvalidRuleException("schedule", "cron() takes 6 fields (minutes hours day-of-month month "
                        + "day-of-week year), got " + fields.length);
            }
            try {
                Cron parsed = Quartz.PARSER.parse("0 " + String.join(" ", fields).toUpperCase(Locale.ROOT));
                parsed.validate();
                return new Schedule(e, null, ExecutionTime.forCron(parsed));
            } catch (IllegalArgumentException ex) {
                throw new InvalidRuleException("schedule", "invalid cron expression \"" + c.group(1).trim() + "\": "
                        + ex.getMessage());
            }
        }
        throw new InvalidRuleException("schedule", "expected rate(N minutes|hours|days) or cron(6 fields), got \""
                + io.imagemirror.oci.EchoedInput.of(expression) + "\"");
    }

    /**
     * The first run strictly after {@code after}: {@code after} plus the rate, or the cron's next
     * time. Empty when a cron has no future run (e.g. its year is past).
     */
    public Optional<Instant> nextAfter(Instant after) {
        if (rate != null) {
            return Optional.of(after.plus(rate));
        }
        return cron.nextExecution(ZonedDateTime.ofInstant(after, ZoneOffset.UTC)).map(ZonedDateTime::toInstant);
    }

    /**
     * When a rule with this schedule that was created (or last claimed) at {@code now} runs first:
     * at once for a rate, at the cron's next time for a cron.
     */
    public Optional<Instant> firstRun(Instant now) {
        return rate != null ? Optional.of(now) : nextAfter(now);
    }

    /** The expression as written. */
    @Override
    public String toString() {
        return expression;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Schedule s && s.expression.equals(expression);
    }

    @Override
    public int hashCode() {
        return expression.hashCode();
    }
}
