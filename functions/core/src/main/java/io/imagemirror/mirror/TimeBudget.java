package io.imagemirror.mirror;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * How long a copy may go on before it has to stop at a point it can resume from: on Lambda, the
 * invocation's remaining time less a margin for finishing the parts in flight and saving the job.
 * Immutable and thread-safe.
 */
public final class TimeBudget {

    /** No limit: a copy runs to its end (the CLI, {@code serve}). */
    public static final TimeBudget UNLIMITED = new TimeBudget(null, Clock.systemUTC());

    private final Instant deadline;
    private final Clock clock;

    private TimeBudget(Instant deadline, Clock clock) {
        this.deadline = deadline;
        this.clock = clock;
    }

    /** A budget that is spent at {@code deadline} by {@code clock}. */
    public static TimeBudget until(Instant deadline, Clock clock) {
        return new TimeBudget(Objects.requireNonNull(deadline, "deadline"), Objects.requireNonNull(clock, "clock"));
    }

    /** A budget of {@code length} from now, less {@code margin} (never negative). */
    public static TimeBudget of(Duration length, Duration margin, Clock clock) {
        Duration usable = length.minus(margin);
        return until(clock.instant().plus(usable.isNegative() ? Duration.ZERO : usable), clock);
    }

    /** Whether the time is up: a copy stops at its next part boundary. */
    public boolean spent() {
        return deadline != null && !clock.instant().isBefore(deadline);
    }

    @Override
    public String toString() {
        return deadline == null ? "unlimited" : "until " + deadline;
    }
}
