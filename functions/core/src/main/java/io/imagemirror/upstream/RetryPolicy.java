package io.imagemirror.upstream;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;

/**
 * A retry schedule. The registry client retries 429s, 5xx answers and transport failures by it
 * ({@link #defaults()}), the mirror the copies a concurrent sweep made obsolete
 * ({@link #sweepRaces()}): at most {@code maxAttempts} attempts, jittered exponential backoff from {@code initialDelay} up to {@code maxDelay} (each wait
 * is drawn from [½d, d]), a registry's {@code Retry-After} honoured as given, and at most
 * {@code maxTotalWait} slept over one operation — a {@code Retry-After} beyond that budget ends the
 * operation at once so the caller can reschedule instead of holding a function open. The
 * {@link Sleeper} and jitter source are injectable so tests never sleep.
 */
public record RetryPolicy(int maxAttempts, Duration initialDelay, Duration maxDelay, Duration maxTotalWait,
                          Sleeper sleeper, DoubleSupplier jitter) {

    /** Waits; {@link Thread#sleep} in production, a recorder in tests. */
    @FunctionalInterface
    public interface Sleeper {
        void sleep(Duration duration) throws InterruptedException;

        static Sleeper real() {
            return d -> Thread.sleep(d.toMillis());
        }
    }

    public RetryPolicy {
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be at least 1");
        }
        Objects.requireNonNull(initialDelay, "initialDelay");
        Objects.requireNonNull(maxDelay, "maxDelay");
        Objects.requireNonNull(maxTotalWait, "maxTotalWait");
        Objects.requireNonNull(sleeper, "sleeper");
        Objects.requireNonNull(jitter, "jitter");
    }

    /** 5 attempts, 0.5 s doubling up to 20 s, at most 60 s of waiting per operation, real sleeps. */
    public static RetryPolicy defaults() {
        return new RetryPolicy(5, Duration.ofMillis(500), Duration.ofSeconds(20), Duration.ofSeconds(60),
                Sleeper.real(), RetryPolicy::randomJitter);
    }

    /**
     * For a copy that lost a blob or manifest to a concurrent sweep (it copies again what the sweep
     * took): 10 attempts, 40 ms doubling up to 2 s, jittered so that copies racing the same sweep
     * spread out; at most 8.5 s of waiting in all (under the 10 s budget). Only a sweep with a grace
     * period shorter than a copy can cause one.
     */
    public static RetryPolicy sweepRaces() {
        return new RetryPolicy(10, Duration.ofMillis(40), Duration.ofSeconds(2), Duration.ofSeconds(10),
                Sleeper.real(), RetryPolicy::randomJitter);
    }

    /** The production jitter: uniform in [0, 1), per thread. */
    private static double randomJitter() {
        return ThreadLocalRandom.current().nextDouble();
    }

    /** One attempt, no waiting. */
    public static RetryPolicy none() {
        return new RetryPolicy(1, Duration.ZERO, Duration.ZERO, Duration.ZERO, d -> { }, () -> 0);
    }

    public RetryPolicy withSleeper(Sleeper sleeper) {
        return new RetryPolicy(maxAttempts, initialDelay, maxDelay, maxTotalWait, sleeper, jitter);
    }

    public RetryPolicy withMaxAttempts(int maxAttempts) {
        return new RetryPolicy(maxAttempts, initialDelay, maxDelay, maxTotalWait, sleeper, jitter);
    }

    /**
     * The wait before attempt {@code failedAttempts + 1}: the registry's {@code retryAfter} when it
     * gave one, else {@code initialDelay · 2^(failedAttempts-1)} capped at {@code maxDelay}, jittered.
     */
    public Duration delayAfter(int failedAttempts, Duration retryAfter) {
        if (retryAfter != null) {
            return retryAfter.isNegative() ? Duration.ZERO : retryAfter;
        }
        long base = initialDelay.toMillis();
        long cap = maxDelay.toMillis();
        long exp = base << Math.min(Math.max(failedAttempts - 1, 0), 30);
        long d = Math.min(cap, exp < 0 ? cap : exp);
        double j = Math.min(1.0, Math.max(0.0, jitter.getAsDouble()));
        return Duration.ofMillis(d / 2 + Math.round(j * (d - d / 2)));
    }
}
