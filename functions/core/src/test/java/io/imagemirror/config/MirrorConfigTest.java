package io.imagemirror.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.imagemirror.upstream.Prefetch;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MirrorConfigTest {

    static JsonNode json(String s) throws Exception {
        return new ObjectMapper().readTree(s.replace('\'', '"'));
    }

    @Test
    void emptyConfigMeansDockerHubAnonymously() throws Exception {
        MirrorConfig c = MirrorConfig.fromTree(json("{}"), k -> null);
        assertThat(c.upstreams()).containsOnlyKeys("docker.io");
        assertThat(c.defaultUpstream()).isEqualTo("docker.io");
        assertThat(c.tagTtl()).isEqualTo(Duration.ofMinutes(5));
        assertThat(c.parallelism()).isEqualTo(4);
        assertThat(MirrorConfig.fromTree(null, k -> null)).isEqualTo(MirrorConfig.defaults());
    }

    @Test
    void readsUpstreamsWithSecretsFromEnvironment() throws Exception {
        MirrorConfig c = MirrorConfig.fromTree(json("""
                {'defaultUpstream':'index.docker.io','tagTtl':'90s','parallelism':8,
                 'upstreams':[{'name':'docker.io','username':'me','password':'${HUB_TOKEN}'},
                              {'name':'127.0.0.1:5000','endpoint':'http://127.0.0.1:5000','insecure':true,'prefix':'local'},
                              {'name':'ghcr.io','authHosts':['ghcr.io']}]}"""),
                Map.of("HUB_TOKEN", "t0ps3cret")::get);
        assertThat(c.defaultUpstream()).isEqualTo("docker.io");
        assertThat(c.tagTtl()).isEqualTo(Duration.ofSeconds(90));
        assertThat(c.parallelism()).isEqualTo(8);
        assertThat(c.upstream("docker.io")).hasValueSatisfying(u -> assertThat(u.password()).isEqualTo("t0ps3cret"));
        assertThat(c.upstreamByPrefix("local")).hasValueSatisfying(u -> assertThat(u.insecure()).isTrue());
        assertThat(c.upstreamByPrefix("ghcr.io")).isPresent();
        assertThat(c.toString()).doesNotContain("t0ps3cret").contains("***");
    }

    @Test
    void sweepSectionHasAGracePeriodAndASchedule() throws Exception {
        assertThat(MirrorConfig.defaults().sweep().grace()).isEqualTo(Duration.ofHours(24));
        assertThat(MirrorConfig.defaults().sweep().schedule().toString()).isEqualTo("rate(1 day)");
        MirrorConfig c = MirrorConfig.fromTree(json("{'sweep':{'grace':'2h','schedule':'rate(6 hours)'}}"), k -> null);
        assertThat(c.sweep().grace()).isEqualTo(Duration.ofHours(2));
        assertThat(c.sweep().schedule().toString()).isEqualTo("rate(6 hours)");
        assertThat(c.withParallelism(2).sweep()).isEqualTo(c.sweep());
        assertThatThrownBy(() -> MirrorConfig.fromTree(json("{'sweep':{'grase':'2h'}}"), k -> null))
                .isInstanceOf(ConfigException.class).hasMessageContaining("sweep.grase");
        assertThatThrownBy(() -> MirrorConfig.fromTree(json("{'sweep':{'schedule':'rate(1 days)'}}"), k -> null))
                .isInstanceOf(ConfigException.class).hasMessageContaining("sweep.schedule");
    }

    @Test
    void largeBlobsSectionSetsTheRangedFetchPolicyWithSizesInUnits() throws Exception {
        assertThat(MirrorConfig.defaults().largeBlobs()).isEqualTo(io.imagemirror.upstream.RangedFetch.DEFAULTS);
        MirrorConfig c = MirrorConfig.fromTree(
                json("{'largeBlobs':{'threshold':'1GiB','partSize':'512KiB','parallelism':8}}"), k -> null);
        assertThat(c.largeBlobs()).isEqualTo(new io.imagemirror.upstream.RangedFetch(1L << 30, 512 << 10, 8,
                io.imagemirror.upstream.RangedFetch.FAST_STREAM));
        assertThat(c.withParallelism(2).largeBlobs()).isEqualTo(c.largeBlobs());
        assertThat(MirrorConfig.fromTree(json("{'largeBlobs':{'threshold':1048576}}"), k -> null).largeBlobs().threshold())
                .isEqualTo(1 << 20);
        assertThat(MirrorConfig.fromTree(json("{'largeBlobs':{'parallelism':1}}"), k -> null).largeBlobs().ranged(1L << 40))
                .as("parallelism 1 turns ranged fetches off").isFalse();
        assertThatThrownBy(() -> MirrorConfig.fromTree(json("{'largeBlobs':{'partSize':'8 parsecs'}}"), k -> null))
                .isInstanceOf(ConfigException.class).hasMessageContaining("largeBlobs.partSize");
        assertThatThrownBy(() -> MirrorConfig.fromTree(json("{'largeBlobs':{'partSize':'1KiB'}}"), k -> null))
                .isInstanceOf(ConfigException.class).hasMessageContaining("largeBlobs.partSize");
        assertThatThrownBy(() -> MirrorConfig.fromTree(json("{'largeBlobs':{'treshold':'1GiB'}}"), k -> null))
                .isInstanceOf(ConfigException.class).hasMessageContaining("largeBlobs.treshold");
    }

    @Test
    void largeBlobsFastStreamIsARateAndZeroMeansPartsFromTheStart() throws Exception {
        assertThat(MirrorConfig.fromTree(json("{'largeBlobs':{'fastStream':'50MiB/s'}}"), k -> null).largeBlobs()
                .fastStream()).isEqualTo(50L << 20);
        assertThat(MirrorConfig.fromTree(json("{'largeBlobs':{'fastStream':'1GiB'}}"), k -> null).largeBlobs()
                .fastStream()).as("the /s may be left out").isEqualTo(1L << 30);
        io.imagemirror.upstream.RangedFetch zero = MirrorConfig.fromTree(json("{'largeBlobs':{'fastStream':0}}"),
                k -> null).largeBlobs();
        assertThat(zero.adaptive()).isFalse();
        assertThat(zero).isEqualTo(new io.imagemirror.upstream.RangedFetch(64L << 20, 8 << 20, 4));
        assertThatThrownBy(() -> MirrorConfig.fromTree(json("{'largeBlobs':{'fastStream':'fast'}}"), k -> null))
                .isInstanceOf(ConfigException.class).hasMessageContaining("largeBlobs.fastStream")
                .hasMessageContaining("100MiB/s");
        assertThatThrownBy(() -> MirrorConfig.fromTree(json("{'largeBlobs':{'fastStream':-1}}"), k -> null))
                .isInstanceOf(ConfigException.class).hasMessageContaining("largeBlobs.fastStream");
    }

    @Test
    void defaultIsFirstUpstreamWhenDockerHubIsNotListed() throws Exception {
        MirrorConfig c = MirrorConfig.fromTree(json("{'upstreams':[{'name':'quay.io'},{'name':'ghcr.io'}]}"), k -> null);
        assertThat(c.defaultUpstream()).isEqualTo("quay.io");
        assertThat(c.upstream("docker.io")).isEmpty();
    }

    @Test
    void mistakesAreNamed() {
        assertThatThrownBy(() -> MirrorConfig.fromTree(json("{'upstream':[]}"), k -> null))
                .isInstanceOf(ConfigException.class).hasMessageContaining("unknown configuration key upstream");
        assertThatThrownBy(() -> MirrorConfig.fromTree(json("{'upstreams':[{'name':'a.io','pasword':'x'}]}"), k -> null))
                .hasMessageContaining("upstreams[0].pasword");
        assertThatThrownBy(() -> MirrorConfig.fromTree(json("{'upstreams':[{'name':'a.io','endpoint':'http://a.io'}]}"), k -> null))
                .hasMessageContaining("insecure: true");
        assertThatThrownBy(() -> MirrorConfig.fromTree(json("{'upstreams':[{'name':'a.io','password':'${NOPE}','username':'u'}]}"), k -> null))
                .hasMessageContaining("NOPE is not set");
        assertThatThrownBy(() -> MirrorConfig.fromTree(json("{'defaultUpstream':'b.io','upstreams':[{'name':'a.io'}]}"), k -> null))
                .hasMessageContaining("defaultUpstream b.io");
        assertThatThrownBy(() -> MirrorConfig.fromTree(json("{'tagTtl':'soon'}"), k -> null))
                .hasMessageContaining("tagTtl");
        assertThatThrownBy(() -> MirrorConfig.fromTree(json("{'parallelism':0}"), k -> null))
                .hasMessageContaining("parallelism");
        assertThatThrownBy(() -> MirrorConfig.fromTree(json("{'upstreams':[{'name':'a.io','prefix':'x'},{'name':'b.io','prefix':'x'}]}"), k -> null))
                .hasMessageContaining("prefix x");
        assertThatThrownBy(() -> MirrorConfig.fromTree(json("{'upstreams':[{'name':'a.io','username':'u'}]}"), k -> null))
                .hasMessageContaining("go together");
        assertThatThrownBy(() -> MirrorConfig.fromTree(json("{'upstreams':[{'name':'registry'}]}"), k -> null))
                .hasMessageContaining("upstreams[0].name registry is not a registry");
        assertThatThrownBy(() -> MirrorConfig.fromTree(json("{'upstreams':[{'name':'a.io:0'}]}"), k -> null))
                .hasMessageContaining("is not a registry");
        // a prefix naming another upstream would take that upstream's own names away from it
        assertThatThrownBy(() -> MirrorConfig.fromTree(json(
                "{'upstreams':[{'name':'docker.io'},{'name':'127.0.0.1:5000','prefix':'index.docker.io'}]}"), k -> null))
                .hasMessageContaining("prefix index.docker.io of 127.0.0.1:5000 is the name of upstream docker.io");
    }

    @Test
    void durations() {
        assertThat(MirrorConfig.parseDuration("300", "x")).isEqualTo(Duration.ofMinutes(5));
        assertThat(MirrorConfig.parseDuration("2h", "x")).isEqualTo(Duration.ofHours(2));
        assertThat(MirrorConfig.parseDuration("PT1M", "x")).isEqualTo(Duration.ofMinutes(1));
        assertThat(MirrorConfig.parseDuration("250ms", "x")).isEqualTo(Duration.ofMillis(250));
        assertThat(MirrorConfig.parseDuration("1d", "x")).isEqualTo(Duration.ofDays(1));
    }

    @Test
    void rulesAreReadAgainstTheConfiguredUpstreams() throws Exception {
        MirrorConfig c = MirrorConfig.fromTree(json("""
                {'upstreams':[{'name':'docker.io'},{'name':'ghcr.io'}],'syncQuotaFloor':25,
                 'rules':[{'name':'alpine-3','source':'alpine','schedule':'rate(15 minutes)',
                           'tags':{'include':['^3\\\\.'],'keepLatest':5}},
                          {'name':'app','source':'ghcr.io/org/app','schedule':'cron(0 3 * * ? *)'}]}"""), k -> null);
        assertThat(c.rules()).extracting(io.imagemirror.sync.Rule::name).containsExactly("alpine-3", "app");
        assertThat(c.rules().get(0).source()).isEqualTo("docker.io/library/alpine");
        assertThat(c.syncQuotaFloor()).isEqualTo(25);
        assertThat(MirrorConfig.defaults().rules()).isEmpty();
    }

    @Test
    void aBadRuleInTheFileNamesItsPlaceAndField() {
        assertThatThrownBy(() -> MirrorConfig.fromTree(json("""
                {'rules':[{'name':'ok','source':'alpine','schedule':'rate(1 hour)'},
                          {'name':'bad','source':'alpine','schedule':'rate(1 hour)','tags':{'semver':'>=x'}}]}"""),
                k -> null)).isInstanceOf(io.imagemirror.sync.InvalidRuleException.class)
                .hasMessageStartingWith("rules[1].tags.semver: ");
        assertThatThrownBy(() -> MirrorConfig.fromTree(json("""
                {'rules':[{'name':'x','source':'quay.io/a/b','schedule':'rate(1 hour)'}]}"""), k -> null))
                .hasMessageStartingWith("rules[0].source: ");
        assertThatThrownBy(() -> MirrorConfig.fromTree(json("""
                {'rules':[{'name':'x','source':'alpine','schedule':'rate(1 hour)'},
                          {'name':'x','source':'busybox','schedule':'rate(1 hour)'}]}"""), k -> null))
                .hasMessageStartingWith("rules[1].name: ");
    }

    @Test
    void prefetchIsPerUpstreamPulledByDefaultAndValidated() throws Exception {
        MirrorConfig c = MirrorConfig.fromTree(json(
                "{'upstreams':[{'name':'a.io','prefetch':'all'},{'name':'b.io','prefetch':'pulled'},{'name':'c.io'}]}"),
                k -> null);
        assertThat(c.upstream("a.io").orElseThrow().prefetch()).isEqualTo(Prefetch.ALL);
        assertThat(c.upstream("b.io").orElseThrow().prefetch()).isEqualTo(Prefetch.PULLED);
        assertThat(c.upstream("c.io").orElseThrow().prefetch()).isEqualTo(Prefetch.PULLED);
        assertThat(c.toUpstreamList()).filteredOn(u -> u.name().equals("a.io")).singleElement()
                .satisfies(u -> assertThat(u.prefetch()).isEqualTo(Prefetch.ALL));
        assertThat(MirrorConfig.defaults().toUpstreamList().get(0).prefetch()).isEqualTo(Prefetch.PULLED);
        assertThatThrownBy(() -> MirrorConfig.fromTree(json("{'upstreams':[{'name':'a.io','prefetch':'some'}]}"),
                k -> null)).isInstanceOf(ConfigException.class)
                .hasMessage("upstreams[0].prefetch must be pulled or all, got \"some\"");
    }
}
