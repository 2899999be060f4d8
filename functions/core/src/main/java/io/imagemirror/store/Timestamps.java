package io.imagemirror.store;

import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * Stored times have microsecond precision, in every store: SQLite and DynamoDB keep them as
 * epoch microseconds, and records truncate on construction so a record reads back equal to what
 * was written. Microseconds, not milliseconds, because "touched since" races compare times taken
 * microseconds apart.
 */
public final class Timestamps {
    private Timestamps() {
    }

    /** {@code t} truncated to microseconds; {@code null} stays {@code null}. */
    public static Instant truncate(Instant t) {
        return t == null ? null : t.truncatedTo(ChronoUnit.MICROS);
    }

    /** Microseconds since the epoch (floor). */
    public static long toMicros(Instant t) {
        return Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000L), t.getNano() / 1_000);
    }

    public static Instant fromMicros(long micros) {
        return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1_000L);
    }
}
