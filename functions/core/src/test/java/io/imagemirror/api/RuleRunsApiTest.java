package io.imagemirror.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.imagemirror.cache.NameRouter;
import io.imagemirror.config.MirrorConfig;
import io.imagemirror.jobs.MirrorJobs;
import io.imagemirror.mirror.MirrorTestBase;
import io.imagemirror.sync.Rule;
import io.imagemirror.sync.SyncListener;
import io.imagemirror.sync.SyncPlanner;
import io.imagemirror.sync.SyncRules;
import io.imagemirror.sync.SyncRun;
import io.imagemirror.testbed.TestImage;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code POST /v1/rules/<name>/runs} ("run this rule now") through the core API, over a real upstream
 * (Debian's docker-registry) with its requests counted, copy jobs queued as a scheduled pass queues them.
 */
class RuleRunsApiTest extends MirrorTestBase {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, List<String>> JSON_TYPE = Map.of("Content-Type", List.of("application/json"));

    final List<String> queued = new CopyOnWriteArrayList<>();
    SyncRules rules;
    MirrorJobs jobs;
    MirrorApi api;

    @BeforeEach
    void api() throws Exception {
        MirrorConfig config = MirrorConfig.defaults().withUpstream(new MirrorConfig.UpstreamConfig(
                upstream.hostPort(), URI.create(upstream.url().toString()), true, null, null, null, Set.of()));
        NameRouter names = new NameRouter(config);
        rules = new SyncRules(metadata, metadata, names);
        jobs = new MirrorJobs(mirror, upstreams, metadata, queued::add, Clock.systemUTC());
        api = new MirrorApi(jobs, names, rules).withPlanner(planner());
        for (String tag : List.of("1.0", "1.1", "2.0")) {
            upstream.pusher().pushImage("lib/app", tag, TestImage.builder(tag.hashCode()).build());
        }
        rules.put(rules.parse(JSON.readTree(("{'name': 'app', 'source': '" + upstream.hostPort()
                + "/lib/app', 'schedule': 'rate(1 hour)', 'tags': {'include': ['^1\\\\.']}}").replace('\'', '"'))));
    }

    SyncPlanner planner() {
        return new SyncPlanner(rules, metadata, metadata, upstreams, jobs, 0, Clock.systemUTC());
    }

    ApiResponse call(String method, String path, String body, Map<String, List<String>> headers) throws Exception {
        return api.handle(new ApiRequest(method, path, Map.of(), headers,
                body == null ? null : new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8)), true));
    }

    ApiResponse post(String body) throws Exception {
        return call("POST", "/v1/rules/app/runs", body, JSON_TYPE);
    }

    static JsonNode json(ApiResponse r) throws Exception {
        return JSON.readTree(r.body());
    }

    void runJobs() throws Exception {
        List<String> ids = new ArrayList<>(queued);
        queued.clear();
        for (String id : ids) {
            assertThat(jobs.run(id)).isEqualTo(MirrorJobs.Outcome.SUCCEEDED);
        }
    }

    @Test
    void postRunsTheRuleNowAndASecondPostWithNothingChangedHeadsOnly() throws Exception {
        ApiResponse first = post("{}");
        assertThat(first.status()).as(first.bodyText()).isEqualTo(201);
        assertThat(first.headers()).containsEntry("Location", "/v1/rules/app/runs");
        JsonNode run = json(first);
        assertThat(run.get("rule").asText()).isEqualTo("app");
        assertThat(run.get("dryRun").asBoolean()).isFalse();
        assertThat(run.at("/tags/listed").asInt()).isEqualTo(3);
        assertThat(run.at("/tags/selected").asInt()).isEqualTo(2);
        assertThat(run.at("/tags/unchanged").asInt()).isZero();
        assertThat(run.at("/tags/changed").asInt()).isEqualTo(2);
        assertThat(run.get("jobs")).hasSize(2);
        // the jobs were queued, not run: the answer comes after planning
        assertThat(queued).hasSize(2);
        assertThat(run.get("jobsFinished").asInt()).isZero();
        runJobs();

        // Not due for an hour, run anyway; nothing moved upstream: one tag list, one HEAD per selected tag.
        requests.reset();
        ApiResponse second = post("{}");
        assertThat(second.status()).as(second.bodyText()).isEqualTo(201);
        JsonNode again = json(second);
        assertThat(again.at("/tags/unchanged").asInt()).isEqualTo(2);
        assertThat(again.at("/tags/changed").asInt()).isZero();
        assertThat(again.get("jobs")).isEmpty();
        assertThat(queued).isEmpty();
        assertThat(requests.count("GET", s -> s.path().endsWith("/tags/list"))).isEqualTo(1);
        assertThat(requests.count("HEAD", s -> s.isManifest())).isEqualTo(2);
        assertThat(requests.count("GET", s -> s.isManifest())).isZero();
        assertThat(requests.seen.stream().filter(s -> s.isBlob())).isEmpty();

        // The answer is the run as GET .../runs shows it; the first run now counts its finished jobs.
        JsonNode listed = json(call("GET", "/v1/rules/app/runs", null, Map.of()));
        assertThat(listed.get("runs")).hasSize(2);
        assertThat(listed.at("/runs/0")).isEqualTo(again);
        assertThat(listed.at("/runs/1/id").asText()).isEqualTo(run.get("id").asText());
        assertThat(listed.at("/runs/1/jobsFinished").asInt()).isEqualTo(2);
    }

    @Test
    void aDryRunHeadsOnlyAndRecordsNothing() throws Exception {
        ApiResponse dry = post("{\"dryRun\": true}");
        assertThat(dry.status()).as(dry.bodyText()).isEqualTo(200);
        assertThat(dry.headers()).doesNotContainKey("Location");
        JsonNode run = json(dry);
        assertThat(run.get("dryRun").asBoolean()).isTrue();
        assertThat(run.get("changed")).extracting(JsonNode::asText).containsExactlyInAnyOrder("1.0", "1.1");
        assertThat(run.get("jobs")).isEmpty();
        assertThat(queued).isEmpty();
        assertThat(requests.count("GET", s -> s.isManifest() || s.isBlob())).isZero();
        assertThat(rules.runs("app", 10)).isEmpty();
        assertThat(metadata.getRuleState("app")).isEmpty();
    }

    @Test
    void aRuleAnotherPlannerHoldsAnswers409AndIsRunOnce() throws Exception {
        for (int round = 0; round < 3; round++) {
            CountDownLatch inside = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            SyncListener holding = new SyncListener() {
                @Override
                public void ruleStarted(Rule rule) {
                    inside.countDown();
                    try {
                        release.await(30, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            };
            Rule rule = rules.get("app").orElseThrow();
            CompletableFuture<List<SyncRun>> other = CompletableFuture.supplyAsync(
                    () -> planner().run(List.of(rule), false, holding));
            assertThat(inside.await(30, TimeUnit.SECONDS)).isTrue();
            int before = rules.runs("app", 30).size();
            ApiResponse held = post("{}");
            assertThat(held.status()).as(held.bodyText()).isEqualTo(409);
            assertThat(json(held).at("/errors/0/code").asText()).isEqualTo("DENIED");
            release.countDown();
            assertThat(other.get(30, TimeUnit.SECONDS)).hasSize(1);
            assertThat(rules.runs("app", 30)).hasSize(before + 1);
            // released: the next POST runs it
            assertThat(post("{}").status()).isEqualTo(201);
        }
    }

    @Test
    void anUnknownRuleIs404() throws Exception {
        ApiResponse r = call("POST", "/v1/rules/nope/runs", "{}", JSON_TYPE);
        assertThat(r.status()).isEqualTo(404);
        assertThat(json(r).at("/errors/0/message").asText()).contains("no sync rule nope");
        assertThat(call("POST", "/v1/rules/Not_A_Name/runs", "{}", JSON_TYPE).status()).isEqualTo(404);
        assertThat(requests.seen).isEmpty();
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "415 | text/plain       |                     | {}",
        "415 | `` |                     | {}",
        "403 | application/json | https://evil.example | {}",
        "400 | application/json |                     | ``",
        "400 | application/json |                     | []",
        "400 | application/json |                     | {'dryrun': true}",
        "400 | application/json |                     | {'dryRun': 'yes'}",
    })
    void refusedLikeEveryV1WriteAndNothingRuns(int status, String type, String origin, String body) throws Exception {
        Map<String, List<String>> headers = new java.util.HashMap<>();
        if (!type.isEmpty()) {
            headers.put("Content-Type", List.of(type));
        }
        if (origin != null) {
            headers.put("Origin", List.of(origin));
            headers.put("Host", List.of("mirror:5000"));
        }
        ApiResponse r = call("POST", "/v1/rules/app/runs", body.replace('\'', '"'), headers);
        assertThat(r.status()).as(r.bodyText()).isEqualTo(status);
        assertThat(json(r).at("/errors/0/code").asText()).isNotEmpty();
        assertThat(requests.seen).isEmpty();
        assertThat(rules.runs("app", 10)).isEmpty();
        assertThat(metadata.getRuleState("app")).isEmpty();
    }

    @Test
    void aCrossSiteBrowserRequestIsRefused() throws Exception {
        ApiResponse r = call("POST", "/v1/rules/app/runs", "{}", Map.of("Content-Type", List.of("application/json"),
                "Sec-Fetch-Site", List.of("cross-site")));
        assertThat(r.status()).isEqualTo(403);
        assertThat(rules.runs("app", 10)).isEmpty();
    }

    @Test
    void withoutAPlannerRunsStartOnTheScheduleOnly() throws Exception {
        MirrorApi scheduledOnly = new MirrorApi(jobs, new NameRouter(MirrorConfig.defaults()), rules);
        ApiResponse r = scheduledOnly.handle(new ApiRequest("POST", "/v1/rules/app/runs", Map.of(), JSON_TYPE,
                new ByteArrayInputStream("{}".getBytes(StandardCharsets.UTF_8)), true));
        assertThat(r.status()).isEqualTo(405);
        assertThat(r.headers()).containsEntry("Allow", "GET, HEAD");
        assertThat(json(r).at("/errors/0/code").asText()).isEqualTo("UNSUPPORTED");
        assertThat(json(r).at("/errors/0/message").asText()).contains("schedule");
        assertThat(requests.seen).isEmpty();

        ApiResponse put = call("PUT", "/v1/rules/app/runs", "{}", JSON_TYPE);
        assertThat(put.status()).isEqualTo(405);
        assertThat(put.headers()).containsEntry("Allow", "GET, HEAD, POST");
    }
}
