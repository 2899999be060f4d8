package io.imagemirror.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

/**
 * The contract of {@link LeaseIndex} and {@link UpstreamLedger}, run against every adapter: versions
 * are compare-and-set (one winner among racers), what is written reads back the same.
 */
public abstract class CoordinationContract<C extends LeaseIndex & UpstreamLedger> {

    protected abstract C coordination();

    private static String unique(String prefix) {
        return prefix + " " + UUID.randomUUID();
    }

    private static final Instant T = Instant.parse("2026-12-01T10:00:00.123456Z");

    @Test
    void aLeaseIsWrittenOnceAtVersionOneAndReadsBack() {
        C c = coordination();
        String key = unique("blob");
        assertThat(c.getLease(key)).isEmpty();
        Lease first = new Lease(key, "a", T, 1);
        assertThat(c.replaceLease(first)).isTrue();
        assertThat(c.replaceLease(new Lease(key, "b", T, 1))).isFalse();
        assertThat(c.getLease(key)).contains(first);
        Lease renewed = first.next("a", T.plusSeconds(30));
        assertThat(c.replaceLease(renewed)).isTrue();
        assertThat(c.replaceLease(first.next("b", T.plusSeconds(60)))).as("stale version").isFalse();
        assertThat(c.getLease(key)).contains(renewed);
        Lease released = renewed.next("a", Instant.EPOCH);
        assertThat(c.replaceLease(released)).isTrue();
        assertThat(c.getLease(key)).contains(released);
        assertThat(released.heldAt(T)).isFalse();
    }

    @RepeatedTest(3)
    void racingInstancesTakeALeaseOnce() throws Exception {
        C c = coordination();
        String key = unique("manifest");
        List<Boolean> won = Concurrently.run(8, i -> () -> c.replaceLease(new Lease(key, "holder-" + i, T, 1)));
        assertThat(won.stream().filter(w -> w)).hasSize(1);
        Lease held = c.getLease(key).orElseThrow();
        assertThat(held.holder()).isEqualTo("holder-" + won.indexOf(true));
        // taking over an expired lease: again one winner among racers
        List<Boolean> over = Concurrently.run(8, i -> () -> c.replaceLease(held.next("next-" + i, T.plusSeconds(9))));
        assertThat(over.stream().filter(w -> w)).hasSize(1);
        assertThat(c.getLease(key).orElseThrow().version()).isEqualTo(2);
    }

    @Test
    void anUpstreamStateReadsBackAsWrittenAndIsReplacedByVersion() {
        C c = coordination();
        String name = unique("registry.example") .replace(' ', '-');
        assertThat(c.getUpstreamState(name)).isEmpty();
        UpstreamState first = UpstreamState.first(name);
        assertThat(c.replaceUpstreamState(first)).isTrue();
        assertThat(c.getUpstreamState(name)).contains(first);
        UpstreamState second = new UpstreamState(name, 100, 76, Duration.ofSeconds(21600), T, 12, 3, 1,
                "docker.io: GET /v2/library/alpine/manifests/latest: HTTP 429", T.plus(5, ChronoUnit.SECONDS), 2);
        assertThat(c.replaceUpstreamState(second)).isTrue();
        assertThat(c.replaceUpstreamState(new UpstreamState(name, 100, 1, null, T, 0, 0, 0, null, null, 2)))
                .as("stale version").isFalse();
        assertThat(c.getUpstreamState(name)).contains(second);
    }

    @RepeatedTest(3)
    void racingWritersOfTheLedgerHaveOneWinner() throws Exception {
        C c = coordination();
        String name = unique("ledger").replace(' ', '-');
        c.replaceUpstreamState(UpstreamState.first(name));
        List<Boolean> won = Concurrently.run(8, i -> () -> c.replaceUpstreamState(
                new UpstreamState(name, 100, i, Duration.ofHours(6), T.plusSeconds(i), i, 0, 0, null, null, 2)));
        assertThat(won.stream().filter(w -> w)).hasSize(1);
        assertThat(c.getUpstreamState(name).orElseThrow().remaining()).isEqualTo(won.indexOf(true));
    }
}
