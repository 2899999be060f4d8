package io.imagemirror.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.imagemirror.cache.NameRouter;
import io.imagemirror.config.MirrorConfig;
import io.imagemirror.jobs.MirrorJobs;
import io.imagemirror.mirror.ImageMirror;
import io.imagemirror.store.InMemoryIndex;
import io.imagemirror.store.Storage;
import io.imagemirror.sync.SyncRules;
import io.imagemirror.upstream.CredentialStore;
import io.imagemirror.upstream.RegistryClient;
import io.imagemirror.upstream.RetryPolicy;
import io.imagemirror.upstream.Upstreams;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code /v1/rules} through the core API: validated before anything is stored, guarded like every /v1 write. */
class RulesApiTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final Storage storage = InMemoryIndex.storage(Clock.systemUTC());
    private final ExecutorService pool = Executors.newSingleThreadExecutor();
    private final MirrorApi api;

    RulesApiTest() {
        MirrorConfig config = MirrorConfig.defaults();
        Upstreams upstreams = new Upstreams(config.toUpstreamList(), CredentialStore.none(),
                RegistryClient.defaultHttpClient(), Clock.systemUTC(), RetryPolicy.none());
        NameRouter names = new NameRouter(config);
        api = new MirrorApi(new MirrorJobs(new ImageMirror(upstreams, storage, pool, Clock.systemUTC()), upstreams,
                storage.jobs(), id -> { }, Clock.systemUTC()), names,
                new SyncRules(storage.rules(), storage.jobs(), names));
    }

    @AfterEach
    void stop() {
        pool.shutdownNow();
    }

    ApiResponse call(String method, String path, String body, Map<String, List<String>> headers) throws Exception {
        return api.handle(new ApiRequest(method, path, Map.of(), headers,
                body == null ? null : new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8)), true));
    }

    ApiResponse call(String method, String path, String body) throws Exception {
        return call(method, path, body, Map.of("Content-Type", List.of("application/json")));
    }

    static JsonNode json(ApiResponse r) throws Exception {
        return JSON.readTree(r.body());
    }

    static String alpine(String extra) {
        return "{\"source\":\"alpine\",\"schedule\":\"rate(15 minutes)\",\"tags\":{\"include\":[\"^3\\\\.\"]}" + extra + "}";
    }

    @Test
    void putCreatesThenIsUnchangedThenUpdatesAndDeleteRemoves() throws Exception {
        ApiResponse created = call("PUT", "/v1/rules/alpine-3", alpine(""));
        assertThat(created.status()).isEqualTo(201);
        assertThat(json(created).get("change").asText()).isEqualTo("created");
        assertThat(json(created).at("/rule/source").asText()).isEqualTo("docker.io/library/alpine");
        assertThat(json(call("PUT", "/v1/rules/alpine-3", alpine(""))).get("change").asText()).isEqualTo("unchanged");
        ApiResponse updated = call("PUT", "/v1/rules/alpine-3", alpine(",\"removedUpstream\":\"untag\""));
        assertThat(updated.status()).isEqualTo(200);
        assertThat(json(updated).get("change").asText()).isEqualTo("updated");

        JsonNode got = json(call("GET", "/v1/rules/alpine-3", null));
        assertThat(got.get("removedUpstream").asText()).isEqualTo("untag");
        assertThat(got.get("name").asText()).isEqualTo("alpine-3");
        assertThat(json(call("GET", "/v1/rules", null)).at("/rules/0/name").asText()).isEqualTo("alpine-3");
        assertThat(json(call("GET", "/v1/rules/alpine-3/runs", null)).get("runs")).isEmpty();

        assertThat(call("DELETE", "/v1/rules/alpine-3", null).status()).isEqualTo(200);
        assertThat(call("GET", "/v1/rules/alpine-3", null).status()).isEqualTo(404);
        assertThat(call("DELETE", "/v1/rules/alpine-3", null).status()).isEqualTo(404);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "tags.include[0] | {'source':'alpine','schedule':'rate(1 hour)','tags':{'include':['(']}}",
        "tags.semver     | {'source':'alpine','schedule':'rate(1 hour)','tags':{'semver':'>=banana'}}",
        "tags.keepLatest | {'source':'alpine','schedule':'rate(1 hour)','tags':{'keepLatest':0}}",
        "schedule        | {'source':'alpine','schedule':'every day'}",
        "source          | {'source':'ghcr.io/org/app','schedule':'rate(1 hour)'}",
        "colour          | {'source':'alpine','schedule':'rate(1 hour)','colour':'blue'}",
        "name            | {'name':'other','source':'alpine','schedule':'rate(1 hour)'}",
    })
    void aBadRuleIsRefusedWithItsFieldNamedAndNothingIsStored(String field, String body) throws Exception {
        ApiResponse r = call("PUT", "/v1/rules/bad", body.replace('\'', '"'));
        assertThat(r.status()).as(r.bodyText()).isEqualTo(400);
        assertThat(json(r).at("/errors/0/detail").asText()).isEqualTo(field);
        assertThat(json(r).at("/errors/0/message").asText()).startsWith(field + ": ");
        assertThat(storage.rules().getSyncRule("bad")).isEmpty();
        assertThat(storage.rules().getSyncRule("other")).isEmpty();
    }

    @Test
    void writesAreGuardedLikeEveryV1Write() throws Exception {
        ApiResponse form = call("PUT", "/v1/rules/x", alpine(""), Map.of("Content-Type", List.of("text/plain")));
        assertThat(form.status()).isEqualTo(415);
        ApiResponse crossSite = call("PUT", "/v1/rules/x", alpine(""), Map.of("Content-Type",
                List.of("application/json"), "Origin", List.of("https://evil.example"), "Host", List.of("mirror:5000")));
        assertThat(crossSite.status()).isEqualTo(403);
        call("PUT", "/v1/rules/x", alpine(""));
        ApiResponse crossDelete = call("DELETE", "/v1/rules/x", null, Map.of("Sec-Fetch-Site", List.of("cross-site")));
        assertThat(crossDelete.status()).isEqualTo(403);
        assertThat(storage.rules().getSyncRule("x")).isPresent();
        assertThat(call("POST", "/v1/rules", alpine("")).status()).isEqualTo(405);
    }
}
