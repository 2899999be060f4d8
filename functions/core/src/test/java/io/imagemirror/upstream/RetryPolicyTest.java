package io.imagemirror.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The schedules {@link RetryPolicy} gives, computed (nothing sleeps). */
class RetryPolicyTest {

    @Test
    void sweepRacesWaits40MsDoublingTo2SecondsOverTenAttemptsWithinItsBudget() {
        RetryPolicy p = RetryPolicy.sweepRaces();
        assertThat(p.maxAttempts()).isEqualTo(10);
        List<Duration> longest = waits(withJitter(p, 1));
        assertThat(longest).extracting(Duration::toMillis)
                .containsExactly(40L, 80L, 160L, 320L, 640L, 1280L, 2000L, 2000L, 2000L);
        assertThat(longest.stream().reduce(Duration.ZERO, Duration::plus)).isEqualTo(Duration.ofMillis(8520))
                .isLessThanOrEqualTo(p.maxTotalWait());
        assertThat(waits(withJitter(p, 0))).extracting(Duration::toMillis)
                .as("jittered down to half at most")
                .containsExactly(20L, 40L, 80L, 160L, 320L, 640L, 1000L, 1000L, 1000L);
    }

    @Test
    void sweepRacesDrawsEachWaitAtRandom() {
        RetryPolicy p = RetryPolicy.sweepRaces();
        List<Long> draws = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            draws.add(p.delayAfter(9, null).toMillis());
        }
        assertThat(draws).allSatisfy(ms -> assertThat(ms).isBetween(1000L, 2000L));
        assertThat(draws.stream().distinct().count()).as("copies racing one sweep spread out").isGreaterThan(1);
    }

    /** The waits before attempts 2..maxAttempts. */
    private static List<Duration> waits(RetryPolicy p) {
        List<Duration> waits = new ArrayList<>();
        for (int failed = 1; failed < p.maxAttempts(); failed++) {
            waits.add(p.delayAfter(failed, null));
        }
        return waits;
    }

    private static RetryPolicy withJitter(RetryPolicy p, double jitter) {
        return new RetryPolicy(p.maxAttempts(), p.initialDelay(), p.maxDelay(), p.maxTotalWait(), p.sleeper(),
                () -> jitter);
    }
}
