package io.imagemirror.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.imagemirror.cache.NameRouter;
import io.imagemirror.config.MirrorConfig;
import io.imagemirror.jobs.MirrorJobs;
import io.imagemirror.mirror.MirrorTestBase;
import io.imagemirror.oci.Digest;
import io.imagemirror.store.Concurrently;
import io.imagemirror.store.TagEvent;
import io.imagemirror.store.TagRecord;
import io.imagemirror.testbed.TestImage;
import java.net.URI;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The planner against a real upstream (Debian's docker-registry), requests counted at the upstream. */
class SyncPlannerTest extends MirrorTestBase {

    private static final ObjectMapper JSON = new ObjectMapper();

    final List<String> queued = new CopyOnWriteArrayList<>();
    NameRouter names;
    SyncRules rules;
    MirrorJobs jobs;

    @BeforeEach
    void planner() {
        MirrorConfig config = MirrorConfig.defaults().withUpstream(new MirrorConfig.UpstreamConfig(
                upstream.hostPort(), URI.create(upstream.url().toString()), true, null, null, null, Set.of()));
        names = new NameRouter(config);
        rules = new SyncRules(metadata, metadata, names);
        jobs = new MirrorJobs(mirror, upstreams, metadata, queued::add, Clock.systemUTC());
    }

    SyncPlanner planner(int quotaFloor) {
        return new SyncPlanner(rules, metadata, metadata, upstreams, jobs, quotaFloor, Clock.systemUTC());
    }

    /** Stores a rule given as JSON with single quotes; SOURCE is the upstream repository. */
    Rule rule(String json) throws Exception {
        JsonNode tree = JSON.readTree(json.replace('\'', '"').replace("SOURCE", upstream.hostPort() + "/lib/app"));
        Rule r = rules.parse(tree);
        rules.put(r);
        return r;
    }

    /** Runs every queued copy job, as a worker would. */
    void runJobs() throws Exception {
        List<String> ids = new ArrayList<>(queued);
        queued.clear();
        for (String id : ids) {
            assertThat(jobs.run(id)).isEqualTo(MirrorJobs.Outcome.SUCCEEDED);
        }
    }

    /** 50 tags mixing versions, pre-releases, variants and names; all on one image. */
    static final List<String> FIFTY_TAGS = fiftyTags();

    private static List<String> fiftyTags() {
        List<String> t = new ArrayList<>();
        for (int minor = 17; minor <= 21; minor++) {
            t.add("3." + minor);
            for (int patch = 0; patch <= 2; patch++) {
                t.add("3." + minor + "." + patch);
            }
        }
        t.addAll(List.of("4.0", "4.0.0", "4.0.1", "3.21.0-rc1", "3.21.0-rc2", "4.1.0-rc1", "2.7", "2.7.1", "latest",
                "edge", "stable", "nightly-20240101", "nightly-20240102", "3.19-slim", "3.20-slim", "3.21-slim",
                "sha-abc123", "main"));
        for (int patch = 0; patch <= 11; patch++) {
            t.add("1.0." + patch);
        }
        return List.copyOf(t);
    }

    void pushFifty() {
        TestImage img = TestImage.builder(50).build();
        upstream.pusher().pushImage("lib/app", "latest", img);
        for (String tag : FIFTY_TAGS) {
            upstream.pusher().pushManifest("lib/app", tag, img.mediaType(), img.manifest());
        }
    }

    static Stream<Arguments> selections() {
        return Stream.of(
                Arguments.of("'include': ['^3\\\\.\\\\d+$']", List.of("3.17", "3.18", "3.19", "3.20", "3.21")),
                Arguments.of("'include': ['^3\\\\.'], 'exclude': ['-rc', '-slim']", Stream.of(17, 18, 19, 20, 21)
                        .flatMap(m -> Stream.of("3." + m, "3." + m + ".0", "3." + m + ".1", "3." + m + ".2")).toList()),
                Arguments.of("'include': ['^\\\\d+\\\\.\\\\d+\\\\.\\\\d+$'], 'semver': '>=3.19.1 <4'", List.of("3.19.1", "3.19.2",
                        "3.20.0", "3.20.1", "3.20.2", "3.21.0", "3.21.1", "3.21.2")),
                Arguments.of("'include': ['^1\\\\.0\\\\.\\\\d+$'], 'keepLatest': 3", List.of("1.0.11", "1.0.10", "1.0.9")),
                Arguments.of("'exclude': ['.']", List.of()));
    }

    @ParameterizedTest
    @MethodSource("selections")
    void fiftyTagsSelectExactlyTheExpectedSet(String tagsJson, List<String> expected) throws Exception {
        pushFifty();
        Rule r = rule("{'name': 'pick', 'source': 'SOURCE', 'schedule': 'rate(1 hour)', 'tags': {" + tagsJson + "}}");
        requests.reset();
        SyncRun run = planner(0).run(List.of(r), true, SyncListener.NONE).get(0);
        assertThat(run.listed()).isEqualTo(FIFTY_TAGS.size());
        assertThat(run.changed()).containsExactlyInAnyOrderElementsOf(expected);
        assertThat(run.selected()).isEqualTo(expected.size());
        // a dry run lists and HEADs, nothing else
        assertThat(requests.count("GET", s -> s.isManifest() || s.isBlob())).isZero();
        assertThat(requests.count("HEAD", s -> s.isManifest())).isEqualTo(expected.size());
        assertThat(queued).isEmpty();
    }

    @Test
    void secondRunWithNothingChangedListsOnceAndHeadsEachSelectedTag() throws Exception {
        pushFifty();
        Rule r = rule("{'name': 'minors', 'source': 'SOURCE', 'schedule': 'rate(1 minute)', 'tags': {'include': ['^3\\\\.\\\\d+$']}}");
        SyncRun first = planner(0).runDue(SyncListener.NONE).get(0);
        assertThat(first.changed()).hasSize(5);
        assertThat(first.jobs()).hasSize(5).containsExactlyInAnyOrderElementsOf(queued);
        io.imagemirror.store.Job job = metadata.getJob(queued.get(0)).orElseThrow();
        assertThat(job.kind()).isEqualTo(io.imagemirror.jobs.SyncCopy.KIND);
        assertThat(io.imagemirror.jobs.JobJson.request(job)).isInstanceOfSatisfying(io.imagemirror.jobs.SyncCopy.class,
                c -> {
                    assertThat(c.rule()).isEqualTo("minors");
                    assertThat(c.image().tag()).isPresent();
                    assertThat(c.seen()).isNotNull();
                });
        runJobs();
        for (String tag : first.changed()) {
            assertThat(metadata.getTag(repoKey("lib/app"), tag)).isPresent();
            assertThat(metadata.tagHistory(repoKey("lib/app"), tag, 10, null).items().get(0).cause())
                    .isEqualTo("sync rule minors");
        }

        requests.reset();
        SyncRun second = planner(0).run(List.of(r), false, SyncListener.NONE).get(0);
        assertThat(second.unchanged()).hasSize(5);
        assertThat(second.changed()).isEmpty();
        assertThat(second.jobs()).isEmpty();
        assertThat(requests.count("GET", s -> s.path().endsWith("/tags/list"))).isEqualTo(1);
        assertThat(requests.count("HEAD", s -> s.isManifest())).isEqualTo(5);
        assertThat(requests.count("GET", s -> s.isManifest())).isZero();
        assertThat(requests.seen.stream().filter(s -> s.isBlob())).isEmpty();
        assertThat(queued).isEmpty();
        assertThat(rules.runs("minors", 10)).extracting(SyncRun::id).containsExactly(second.id(), first.id());
    }

    @Test
    void aDisabledRuleIsNotRunWhenDueAndContactsNothingUntilEnabled() throws Exception {
        upstream.pusher().pushImage("lib/app", "3.20", TestImage.builder(1).build());
        Rule paused = rule("{'name': 'paused', 'source': 'SOURCE', 'schedule': 'rate(1 minute)', 'enabled': false}");
        assertThat(paused.enabled()).isFalse();
        assertThat(paused.toTree().path("enabled").asBoolean(true)).isFalse();
        assertThat(rules.get("paused")).contains(paused);
        requests.reset();
        assertThat(planner(0).runDue(SyncListener.NONE)).isEmpty();
        assertThat(requests.seen).isEmpty();
        assertThat(queued).isEmpty();
        assertThat(rules.runs("paused", 10)).isEmpty();

        Rule enabled = rule("{'name': 'paused', 'source': 'SOURCE', 'schedule': 'rate(1 minute)'}");
        assertThat(enabled.enabled()).isTrue();
        assertThat(enabled.toTree().has("enabled")).isFalse();
        assertThat(planner(0).runDue(SyncListener.NONE)).singleElement()
                .satisfies(run -> assertThat(run.changed()).containsExactly("3.20"));
    }

    @Test
    void enabledMustBeTrueOrFalse() {
        assertThatThrownBy(() -> rule("{'name': 'x', 'source': 'SOURCE', 'schedule': 'rate(1 minute)', 'enabled': 'no'}"))
                .isInstanceOfSatisfying(InvalidRuleException.class, e -> assertThat(e.field()).isEqualTo("enabled"));
    }

    @Test
    void aTagMovedUpstreamIsCopiedAgainAndItsHistoryShowsBothDigests() throws Exception {
        TestImage v1 = TestImage.builder(1).build();
        TestImage v2 = TestImage.builder(2).build();
        upstream.pusher().pushImage("lib/app", "3.20", v1);
        Rule r = rule("{'name': 'moving', 'source': 'SOURCE', 'schedule': 'rate(1 minute)'}");
        planner(0).run(List.of(r), false, SyncListener.NONE);
        runJobs();
        upstream.pusher().pushImage("lib/app", "3.20", v2);

        SyncRun run = planner(0).run(List.of(r), false, SyncListener.NONE).get(0);
        assertThat(run.changed()).containsExactly("3.20");
        runJobs();
        assertThat(metadata.getTag(repoKey("lib/app"), "3.20")).map(TagRecord::digest)
                .contains(Digest.parse(v2.digest()));
        List<TagEvent> history = metadata.tagHistory(repoKey("lib/app"), "3.20", 10, null).items();
        assertThat(history).extracting(TagEvent::newDigest)
                .containsExactly(Digest.parse(v2.digest()), Digest.parse(v1.digest()));
        assertThat(history.get(0).oldDigest()).isEqualTo(Digest.parse(v1.digest()));
        assertThat(history).extracting(TagEvent::cause).containsOnly("sync rule moving");
    }

    @Test
    void aTagDeletedUpstreamIsKeptUnderKeepAndUntaggedUnderUntag() throws Exception {
        TestImage stays = TestImage.builder(3).build();
        TestImage goes = TestImage.builder(4).build();
        upstream.pusher().pushImage("lib/app", "1.0", stays);
        upstream.pusher().pushImage("lib/app", "0.9", goes);
        Rule keep = rule("{'name': 'keeper', 'source': 'SOURCE', 'schedule': 'rate(1 minute)', 'removedUpstream': 'keep'}");
        planner(0).run(List.of(keep), false, SyncListener.NONE);
        runJobs();
        upstream.pusher().deleteManifest("lib/app", goes.digest());

        SyncRun kept = planner(0).run(List.of(keep), false, SyncListener.NONE).get(0);
        assertThat(kept.removedUpstream()).containsExactly("0.9");
        assertThat(kept.untagged()).isEmpty();
        assertThat(metadata.getTag(repoKey("lib/app"), "0.9")).isPresent();

        Rule untag = rule("{'name': 'keeper', 'source': 'SOURCE', 'schedule': 'rate(1 minute)', 'removedUpstream': 'untag'}");
        SyncRun untagged = planner(0).run(List.of(untag), false, SyncListener.NONE).get(0);
        assertThat(untagged.removedUpstream()).containsExactly("0.9");
        assertThat(untagged.untagged()).containsExactly("0.9");
        assertThat(metadata.getTag(repoKey("lib/app"), "0.9")).isEmpty();
        List<TagEvent> history = metadata.tagHistory(repoKey("lib/app"), "0.9", 10, null).items();
        assertThat(history).hasSize(2);
        assertThat(history.get(0).newDigest()).isNull();
        assertThat(history.get(0).cause()).isEqualTo("sync rule keeper");
        assertThat(metadata.getTag(repoKey("lib/app"), "1.0")).isPresent();
    }

    @Test
    void twoPlannersRacingOverOneDueRuleGiveOneRun() throws Exception {
        upstream.pusher().pushImage("lib/app", "1", TestImage.builder(5).build());
        for (int round = 0; round < 5; round++) {
            rule("{'name': 'race-" + round + "', 'source': 'SOURCE', 'schedule': 'rate(1 hour)'}");
            SyncPlanner a = planner(0);
            SyncPlanner b = planner(0);
            List<List<SyncRun>> runs = Concurrently.run(2, i -> () -> (i == 0 ? a : b).runDue(SyncListener.NONE));
            String name = "race-" + round;
            long ran = runs.stream().flatMap(List::stream).filter(x -> x.rule().equals(name)).count();
            assertThat(ran).as("round " + round).isEqualTo(1);
            assertThat(rules.runs(name, 10)).hasSize(1);
            // the rule is not due again until its schedule says so
            assertThat(planner(0).runDue(SyncListener.NONE)).extracting(SyncRun::rule).doesNotContain(name);
        }
    }
}
