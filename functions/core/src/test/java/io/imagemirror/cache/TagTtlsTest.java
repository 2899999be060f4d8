package io.imagemirror.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.imagemirror.store.InMemoryIndex;
import io.imagemirror.store.SyncRule;
import io.imagemirror.upstream.Prefetch;
import io.imagemirror.sync.Rule;
import io.imagemirror.sync.Schedule;
import io.imagemirror.sync.TagSelector;
import io.imagemirror.upstream.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A sync rule's tagTtl is the pull-through freshness of its repository; the global one elsewhere. */
class TagTtlsTest {
    static final String ALPINE = "docker.io/library/alpine";
    final MutableClock clock = new MutableClock(Instant.parse("2026-12-01T10:00:00Z"));
    final InMemoryIndex index = new InMemoryIndex();
    final List<String> log = new ArrayList<>();
    final TagTtls ttls = new TagTtls(index, Duration.ofMinutes(5), clock, log::add);

    static SyncRule stored(String name, String source, Duration tagTtl) {
        Rule r = new Rule(name, source, TagSelector.all(), List.of(), false, Schedule.parse("rate(1 hour)"), tagTtl,
                Rule.RemovedUpstream.KEEP);
        return new SyncRule(r.name(), r.toTree().toString(), true);
    }

    @Test
    void aRulesTagTtlOverridesTheGlobalOneForItsRepositoryOnly() {
        index.putSyncRule(stored("alpine", ALPINE, Duration.ofSeconds(30)));
        index.putSyncRule(stored("alpine-fast", ALPINE, Duration.ofSeconds(10)));
        index.putSyncRule(stored("nginx", "docker.io/library/nginx", null));
        assertThat(ttls.of(ALPINE)).as("the shortest of two rules").isEqualTo(Duration.ofSeconds(10));
        assertThat(ttls.of("docker.io/library/nginx")).as("a rule without tagTtl").isEqualTo(Duration.ofMinutes(5));
        assertThat(ttls.of("docker.io/library/busybox")).isEqualTo(Duration.ofMinutes(5));
    }

    @Test
    void aNewRuleTakesEffectWithinTheRefreshTime() {
        assertThat(ttls.of(ALPINE)).isEqualTo(Duration.ofMinutes(5));
        index.putSyncRule(stored("alpine", ALPINE, Duration.ZERO));
        assertThat(ttls.of(ALPINE)).as("read at most every %s", TagTtls.REFRESH).isEqualTo(Duration.ofMinutes(5));
        clock.advance(TagTtls.REFRESH);
        assertThat(ttls.of(ALPINE)).isEqualTo(Duration.ZERO);
        assertThat(log).isEmpty();
    }

    @Test
    void aRulesPrefetchIsThePullThroughPrefetchOfItsRepository() {
        Rule all = new Rule("alpine-all", ALPINE, TagSelector.all(), List.of(), false, Schedule.parse("rate(1 hour)"),
                null, Rule.RemovedUpstream.KEEP, Prefetch.ALL);
        Rule pulled = new Rule("alpine-pulled", ALPINE, TagSelector.all(), List.of(), false,
                Schedule.parse("rate(1 hour)"), null, Rule.RemovedUpstream.KEEP, Prefetch.PULLED);
        index.putSyncRule(new SyncRule(all.name(), all.toTree().toString(), true));
        index.putSyncRule(new SyncRule(pulled.name(), pulled.toTree().toString(), true));
        index.putSyncRule(stored("nginx", "docker.io/library/nginx", null));
        assertThat(ttls.prefetch(ALPINE)).as("all wins when rules disagree").contains(Prefetch.ALL);
        assertThat(ttls.prefetch("docker.io/library/nginx")).as("the upstream's then").isEmpty();
        assertThat(ttls.of(ALPINE)).isEqualTo(Duration.ofMinutes(5));
        assertThat(log).isEmpty();
    }
}
