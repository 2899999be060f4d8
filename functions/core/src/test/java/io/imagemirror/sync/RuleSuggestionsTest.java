package io.imagemirror.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.imagemirror.cache.NameRouter;
import io.imagemirror.config.MirrorConfig;
import io.imagemirror.mirror.MirrorTestBase;
import io.imagemirror.mirror.MirrorRequest;
import io.imagemirror.oci.Digest;
import io.imagemirror.store.Cause;
import io.imagemirror.testbed.TestImage;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** {@code rules suggest} over what pulls left in the index. */
class RuleSuggestionsTest extends MirrorTestBase {

    @Test
    void suggestsPulledRepositoriesNoRuleCoversWithTheirTags() throws Exception {
        MirrorConfig config = MirrorConfig.defaults().withUpstream(new MirrorConfig.UpstreamConfig(
                upstream.hostPort(), URI.create(upstream.url().toString()), true, null, null, null, Set.of()));
        NameRouter names = new NameRouter(config);
        SyncRules rules = new SyncRules(metadata, metadata, names);
        TestImage a = TestImage.builder(71).build();
        TestImage b = TestImage.builder(72).build();
        upstream.pusher().pushImage("team/hot", "3.20", a);
        upstream.pusher().pushImage("team/cold", "1", b);
        upstream.pusher().pushImage("team/ruled", "1", b);
        for (String r : List.of("team/hot:3.20", "team/cold:1", "team/ruled:1")) {
            mirror.mirror(MirrorRequest.of(ref(r), Cause.CLI), io.imagemirror.mirror.MirrorListener.NONE);
        }
        for (int i = 0; i < 5; i++) {
            metadata.recordPull(repoKey("team/hot"), Digest.parse(a.digest()));
            metadata.recordPull(repoKey("team/ruled"), Digest.parse(b.digest()));
        }
        metadata.recordPull(repoKey("team/cold"), Digest.parse(b.digest()));
        rules.put(rules.parse(new com.fasterxml.jackson.databind.ObjectMapper().readTree("{\"name\":\"ruled\",\"source\":\""
                + repoKey("team/ruled") + "\",\"schedule\":\"rate(1 hour)\"}")));

        List<RuleSuggestions.Suggestion> got = new RuleSuggestions(metadata, metadata, rules, names)
                .suggest(3, Duration.ofDays(7), Instant.now());
        assertThat(got).extracting(RuleSuggestions.Suggestion::repository).containsExactly(repoKey("team/hot"));
        Rule rule = got.get(0).rule();
        assertThat(rule.name()).isEqualTo("hot");
        assertThat(rule.tags().select(List.of("3.20", "3.2", "latest"))).containsExactly("3.20");
        assertThat(got.get(0).pulls()).isEqualTo(5);
        assertThat(new RuleSuggestions(metadata, metadata, rules, names)
                .suggest(1, Duration.ofDays(7), Instant.now().plus(Duration.ofDays(30)))).isEmpty();
    }
}
