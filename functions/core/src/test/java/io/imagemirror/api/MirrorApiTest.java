package io.imagemirror.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.imagemirror.cache.NameRouter;
import io.imagemirror.config.MirrorConfig;
import io.imagemirror.jobs.MirrorJobs;
import io.imagemirror.mirror.ImageMirror;
import io.imagemirror.mirror.MirrorTestBase;
import io.imagemirror.store.Storage;
import io.imagemirror.testbed.TestImage;
import io.imagemirror.upstream.CredentialStore;
import io.imagemirror.upstream.RegistryClient;
import io.imagemirror.upstream.RetryPolicy;
import io.imagemirror.upstream.Upstreams;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class MirrorApiTest extends MirrorTestBase {

    final List<String> queued = new CopyOnWriteArrayList<>();

    ApiResponse call(MirrorApi api, String method, String path, String body) throws Exception {
        return api.handle(new ApiRequest(method, path, Map.of(), Map.of("Content-Type", List.of("application/json")),
                body == null ? null : new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8)), true));
    }

    static JsonNode json(ApiResponse r) throws Exception {
        return new ObjectMapper().readTree(r.body());
    }

    @Test
    void postQueuesAJobAndGetShowsItThroughToTheResult() throws Exception {
        TestImage img = TestImage.builder(5).build();
        upstream.pusher().pushImage("api/app", "1", img);
        MirrorJobs jobs = new MirrorJobs(mirror, upstreams, metadata, queued::add, Clock.systemUTC());
        MirrorApi api = new MirrorApi(jobs, new NameRouter(MirrorConfig.defaults()), rulesOf(new NameRouter(MirrorConfig.defaults())));

        ApiResponse posted = call(api, "POST", "/v1/mirror", "{\"image\":\"" + upstream.hostPort()
                + "/api/app:1\",\"platforms\":[\"linux/amd64\"],\"allTags\":false,\"referrers\":false}");
        assertThat(posted.status()).isEqualTo(202);
        String id = json(posted).get("jobId").asText();
        assertThat(json(posted).get("status").asText()).isEqualTo("/v1/jobs/" + id);
        assertThat(posted.header("Location")).isEqualTo("/v1/jobs/" + id);

        ApiResponse queuedState = call(api, "GET", "/v1/jobs/" + id, null);
        assertThat(json(queuedState).get("state").asText()).isEqualTo("queued");
        assertThat(json(queuedState).at("/request/platforms/0").asText()).isEqualTo("linux/amd64");

        jobs.run(queued.get(0));
        JsonNode done = json(call(api, "GET", "/v1/jobs/" + id, null));
        assertThat(done.get("state").asText()).isEqualTo("succeeded");
        assertThat(done.at("/result/images/0/digest").asText()).isEqualTo(img.digest());
    }

    ApiResponse post(MirrorApi api, Map<String, List<String>> headers, String body) throws Exception {
        return api.handle(new ApiRequest("POST", "/v1/mirror", Map.of(), headers,
                new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8)), true));
    }

    /** Issue 15 item 5: the checks live in the core request handling, so Lambda's MirrorApi has them too. */
    @Test
    void writesNeedJsonFromTheServersOwnOriginWithNothingAfterIt() throws Exception {
        MirrorApi api = new MirrorApi(new MirrorJobs(mirror, upstreams, metadata, queued::add, Clock.systemUTC()), new NameRouter(MirrorConfig.defaults()), rulesOf(new NameRouter(MirrorConfig.defaults())));
        String ok = "{\"image\":\"" + upstream.hostPort() + "/api/app:1\"}";
        List<String> json = List.of("application/json");
        List<String> host = List.of("mirror.example:5000");

        ApiResponse plain = post(api, Map.of("Content-Type", List.of("text/plain")), ok);
        assertThat(plain.status()).isEqualTo(415);
        assertThat(json(plain).at("/errors/0/message").asText()).contains("application/json");
        assertThat(post(api, Map.of(), ok).status()).isEqualTo(415);
        assertThat(post(api, Map.of("Content-Type", List.of("application/json; charset=latin1")), ok).status())
                .isEqualTo(415);

        ApiResponse crossOrigin = post(api, Map.of("Content-Type", json, "Host", host,
                "Origin", List.of("https://evil.example")), ok);
        assertThat(crossOrigin.status()).isEqualTo(403);
        assertThat(json(crossOrigin).at("/errors/0/code").asText()).isEqualTo("DENIED");
        assertThat(post(api, Map.of("Content-Type", json, "Origin", List.of("http://mirror.example:5000")), ok)
                .status()).as("an Origin without a Host to compare with").isEqualTo(403);
        assertThat(post(api, Map.of("Content-Type", json, "Sec-Fetch-Site", List.of("cross-site")), ok).status())
                .isEqualTo(403);

        ApiResponse trailing = post(api, Map.of("Content-Type", json), ok + " x");
        assertThat(trailing.status()).isEqualTo(400);
        assertThat(json(trailing).at("/errors/0/message").asText()).contains("after its JSON value");
        assertThat(post(api, Map.of("Content-Type", json), ok + ok).status()).isEqualTo(400);
        assertThat(post(api, Map.of("Content-Type", json), "").status()).isEqualTo(400);
        assertThat(queued).isEmpty();

        assertThat(post(api, Map.of("Content-Type", List.of("Application/JSON; charset=UTF-8"), "Host", host,
                "Origin", List.of("http://mirror.example:5000"), "Sec-Fetch-Site", List.of("same-origin")),
                ok + "\n").status()).isEqualTo(202);
        assertThat(post(api, Map.of("Content-Type", json, "Host", List.of("mirror.example"),
                "Origin", List.of("https://mirror.example")), ok).status()).isEqualTo(202);
        assertThat(queued).hasSize(2);
    }

    @Test
    void badRequestsAreOciErrors() throws Exception {
        MirrorApi api = new MirrorApi(new MirrorJobs(mirror, upstreams, metadata, queued::add, Clock.systemUTC()), new NameRouter(MirrorConfig.defaults()), rulesOf(new NameRouter(MirrorConfig.defaults())));
        ApiResponse notJson = call(api, "POST", "/v1/mirror", "{nope");
        assertThat(notJson.status()).isEqualTo(400);
        assertThat(json(notJson).at("/errors/0/message").asText()).contains("not valid JSON");

        ApiResponse badRef = call(api, "POST", "/v1/mirror", "{\"image\":\"Bad/Ref:x y\"}");
        assertThat(badRef.status()).isEqualTo(400);
        assertThat(json(badRef).at("/errors/0/code").asText()).isEqualTo("NAME_INVALID");

        ApiResponse missing = call(api, "POST", "/v1/mirror", "{\"platforms\":[]}");
        assertThat(missing.status()).isEqualTo(400);
        assertThat(json(missing).at("/errors/0/message").asText()).contains("\"image\" is required");

        ApiResponse denied = call(api, "POST", "/v1/mirror", "{\"image\":\"evil.example.com/x:1\"}");
        assertThat(denied.status()).isEqualTo(403);
        assertThat(json(denied).at("/errors/0/code").asText()).isEqualTo("DENIED");

        ApiResponse tooBig = call(api, "POST", "/v1/mirror", "x".repeat(MirrorApi.MAX_BODY + 1));
        assertThat(tooBig.status()).isEqualTo(413);

        assertThat(tooBig.header("Content-Type")).isEqualTo("application/json");

        assertThat(call(api, "GET", "/v1/mirror", null).status()).isEqualTo(405);
        assertThat(call(api, "GET", "/v1/jobs/unknown", null).status()).isEqualTo(404);
        assertThat(call(api, "DELETE", "/v1/jobs/x", null).status()).isEqualTo(405);
        assertThat(queued).isEmpty();
    }

    /** Issue 15 item 4: a name without registry means the default upstream on /v1 as it does on /v2. */
    @Test
    void aNameWithoutRegistryIsMirroredFromTheDefaultUpstream() throws Exception {
        TestImage img = TestImage.builder(6).build();
        upstream.pusher().pushImage("library/base", "1", img);
        // only the local upstream is allowed, and it is the default: Docker Hub must never be asked
        MirrorConfig config = MirrorConfig.fromTree(new ObjectMapper().readTree("{\"defaultUpstream\":\""
                + upstream.hostPort() + "\",\"upstreams\":[{\"name\":\"" + upstream.hostPort() + "\",\"endpoint\":\""
                + upstream.url() + "\",\"insecure\":true}]}"), k -> null);
        Upstreams localOnly = new Upstreams(config.toUpstreamList(), CredentialStore.none(),
                RegistryClient.defaultHttpClient().newBuilder().addNetworkInterceptor(requests).build(),
                Clock.systemUTC(), RetryPolicy.defaults());
        ImageMirror onlyLocal = new ImageMirror(localOnly, storage, pool, Clock.systemUTC());
        MirrorJobs jobs = new MirrorJobs(onlyLocal, localOnly, metadata, queued::add, Clock.systemUTC());
        NameRouter names = new NameRouter(config);
        MirrorApi api = new MirrorApi(jobs, names, rulesOf(names));

        ApiResponse posted = call(api, "POST", "/v1/mirror", "{\"image\":\"library/base:1\"}");
        assertThat(posted.status()).as(posted.bodyText()).isEqualTo(202);
        String id = json(posted).get("jobId").asText();
        assertThat(json(call(api, "GET", "/v1/jobs/" + id, null)).at("/request/image").asText())
                .isEqualTo(upstream.hostPort() + "/library/base:1");
        jobs.run(queued.get(0));
        JsonNode done = json(call(api, "GET", "/v1/jobs/" + id, null));
        assertThat(done.get("state").asText()).as(done.toString()).isEqualTo("succeeded");
        assertThat(done.at("/result/images/0/digest").asText()).isEqualTo(img.digest());
        // stored under the key /v2/library/base routes to
        String key = names.route("library/base", Optional.empty()).repositoryKey();
        assertThat(key).isEqualTo(upstream.hostPort() + "/library/base");
        assertThat(metadata.getTag(key, "1")).hasValueSatisfying(t -> assertThat(t.digest().toString())
                .isEqualTo(img.digest()));

        ApiResponse hub = call(api, "POST", "/v1/mirror", "{\"image\":\"docker.io/library/base:1\"}");
        assertThat(hub.status()).isEqualTo(403);
        assertThat(json(hub).at("/errors/0/code").asText()).isEqualTo("DENIED");
        assertThat(queued).hasSize(1);
    }

    /** Sync rules over a store of their own (the /v1/rules routes have their own test). */
    static io.imagemirror.sync.SyncRules rulesOf(NameRouter names) {
        Storage s = io.imagemirror.store.InMemoryIndex.storage(Clock.systemUTC());
        return new io.imagemirror.sync.SyncRules(s.rules(), s.jobs(), names);
    }
}
