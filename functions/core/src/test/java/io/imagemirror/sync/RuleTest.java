package io.imagemirror.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.imagemirror.cache.NameRouter;
import io.imagemirror.config.MirrorConfig;
import io.imagemirror.oci.Platform;
import io.imagemirror.store.Cause;
import io.imagemirror.upstream.Prefetch;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RuleTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final NameRouter CONFIGURED = new NameRouter(MirrorConfig.defaults().withUpstream(
            new MirrorConfig.UpstreamConfig("127.0.0.1:5000", null, true, null, null, null, Set.of())));

    private static JsonNode tree(String json) throws Exception {
        return JSON.readTree(json.replace('\'', '"'));
    }

    @Test
    void theIssuesExampleRuleReadsAndRoundTrips() throws Exception {
        Rule r = Rule.fromTree(tree("""
                {'name': 'alpine-3', 'source': 'alpine',
                 'tags': {'include': ['^3\\\\.\\\\d+(\\\\.\\\\d+)?$'], 'exclude': ['-rc'], 'semver': '>=3.19 <4', 'keepLatest': 5},
                 'platforms': ['linux/amd64', 'linux/arm64'], 'referrers': true,
                 'schedule': 'rate(15 minutes)', 'tagTtl': '1h', 'removedUpstream': 'untag', 'prefetch': 'all'}"""),
                CONFIGURED);
        assertThat(r.name()).isEqualTo("alpine-3");
        assertThat(r.source()).isEqualTo("docker.io/library/alpine");
        assertThat(r.tags().include()).containsExactly("^3\\.\\d+(\\.\\d+)?$");
        assertThat(r.tags().keepLatest()).contains(5);
        assertThat(r.platforms()).containsExactly(Platform.parse("linux/amd64"), Platform.parse("linux/arm64"));
        assertThat(r.referrers()).isTrue();
        assertThat(r.tagTtl()).isEqualTo(Duration.ofHours(1));
        assertThat(r.removedUpstream()).isEqualTo(Rule.RemovedUpstream.UNTAG);
        assertThat(r.prefetch()).isEqualTo(Prefetch.ALL);
        assertThat(r.cause()).isEqualTo(Cause.syncRule("alpine-3")).hasToString("sync rule alpine-3");
        assertThat(Rule.fromTree(r.toTree(), CONFIGURED)).isEqualTo(r);
    }

    @Test
    void defaultsAreAllTagsAllPlatformsNoReferrersKeep() throws Exception {
        Rule r = Rule.fromTree(tree("{'name': 'b', 'source': '127.0.0.1:5000/team/base', 'schedule': 'cron(0 3 * * ? *)'}"),
                CONFIGURED);
        assertThat(r.source()).isEqualTo("127.0.0.1:5000/team/base");
        assertThat(r.tags()).isEqualTo(TagSelector.all());
        assertThat(r.platforms()).isEmpty();
        assertThat(r.referrers()).isFalse();
        assertThat(r.tagTtl()).isNull();
        assertThat(r.prefetch()).as("the upstream's").isNull();
        assertThat(r.removedUpstream()).isEqualTo(Rule.RemovedUpstream.KEEP);
        assertThat(Rule.fromTree(r.toTree(), CONFIGURED)).isEqualTo(r);
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', value = {
            "{'name': 'Alpine', 'source': 'alpine', 'schedule': 'rate(1 hour)'}                          | name",
            "{'name': 'a', 'schedule': 'rate(1 hour)'}                                                   | source",
            "{'name': 'a', 'source': 'alpine:3', 'schedule': 'rate(1 hour)'}                             | source",
            "{'name': 'a', 'source': 'ghcr.io/x/y', 'schedule': 'rate(1 hour)'}                          | source",
            "{'name': 'a', 'source': 'UPPER//bad', 'schedule': 'rate(1 hour)'}                           | source",
            "{'name': 'a', 'source': 'alpine'}                                                           | schedule",
            "{'name': 'a', 'source': 'alpine', 'schedule': 'every hour'}                                 | schedule",
            "{'name': 'a', 'source': 'alpine', 'schedule': 'rate(1 hour)', 'tags': {'include': ['(']}}   | tags.include[0]",
            "{'name': 'a', 'source': 'alpine', 'schedule': 'rate(1 hour)', 'tags': {'semver': '>>1'}}    | tags.semver",
            "{'name': 'a', 'source': 'alpine', 'schedule': 'rate(1 hour)', 'tags': {'keepLatest': 0}}    | tags.keepLatest",
            "{'name': 'a', 'source': 'alpine', 'schedule': 'rate(1 hour)', 'tags': {'keepLatest': 1.5}}  | tags.keepLatest",
            "{'name': 'a', 'source': 'alpine', 'schedule': 'rate(1 hour)', 'tags': {'latest': 1}}        | tags.latest",
            "{'name': 'a', 'source': 'alpine', 'schedule': 'rate(1 hour)', 'platform': ['linux/amd64']}  | platform",
            "{'name': 'a', 'source': 'alpine', 'schedule': 'rate(1 hour)', 'platforms': ['linux']}       | platforms[0]",
            "{'name': 'a', 'source': 'alpine', 'schedule': 'rate(1 hour)', 'referrers': 'yes'}           | referrers",
            "{'name': 'a', 'source': 'alpine', 'schedule': 'rate(1 hour)', 'tagTtl': 'soon'}             | tagTtl",
            "{'name': 'a', 'source': 'alpine', 'schedule': 'rate(1 hour)', 'prefetch': 'some'}           | prefetch",
            "{'name': 'a', 'source': 'alpine', 'schedule': 'rate(1 hour)', 'removedUpstream': 'delete'}  | removedUpstream",
    })
    void aBadRuleIsRefusedNamingTheField(String json, String field) {
        assertThatThrownBy(() -> Rule.fromTree(tree(json), CONFIGURED))
                .isInstanceOfSatisfying(InvalidRuleException.class, e -> assertThat(e.field()).isEqualTo(field));
    }

    @Test
    void theSourceMeansWhatTheSameNameMeansOnV2() throws Exception {
        String rule = "{'name': 'b', 'source': 'SOURCE', 'schedule': 'rate(1 hour)'}";
        assertThat(Rule.fromTree(tree(rule.replace("SOURCE", "registry-1.docker.io/alpine")), CONFIGURED).source())
                .isEqualTo("docker.io/library/alpine");
        NameRouter local = new NameRouter(MirrorConfig.defaults().withUpstream(
                new MirrorConfig.UpstreamConfig("127.0.0.1:5000", null, true, null, null, null, Set.of()))
                .withDefaultUpstream("127.0.0.1:5000"));
        assertThat(Rule.fromTree(tree(rule.replace("SOURCE", "library/base")), local).source())
                .isEqualTo("127.0.0.1:5000/library/base");
        assertThat(Rule.fromTree(tree(rule.replace("SOURCE", "base")), local).source()).isEqualTo("127.0.0.1:5000/base");
    }

    @Test
    void aFaultCanBePlacedWhereTheRuleStands() {
        InvalidRuleException e = new InvalidRuleException("tags.semver", "invalid range").under("rules[2]");
        assertThat(e.field()).isEqualTo("rules[2].tags.semver");
        assertThat(e).hasMessage("rules[2].tags.semver: invalid range");
        assertThat(List.of(e.getCause())).hasSize(1);
    }
}
