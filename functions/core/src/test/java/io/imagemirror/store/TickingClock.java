package io.imagemirror.store;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A test clock that moves one microsecond on every reading, so any two readings differ (as a real
 * clock's readings do between two store calls), and that a test can jump forward.
 */
public final class TickingClock extends Clock {
    private final AtomicLong micros;

    public TickingClock(Instant start) {
        this.micros = new AtomicLong(Timestamps.toMicros(start));
    }

    public TickingClock() {
        this(Instant.now());
    }

    public void advance(Duration d) {
        micros.addAndGet(d.toNanos() / 1000);
    }

    @Override
    public Instant instant() {
        return Timestamps.fromMicros(micros.incrementAndGet());
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }
}
