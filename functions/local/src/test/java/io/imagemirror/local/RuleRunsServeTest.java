package io.imagemirror.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.imagemirror.config.MirrorConfig;
import io.imagemirror.local.http.LocalHttpServer;
import io.imagemirror.store.Storage;
import io.imagemirror.testbed.LocalRegistry;
import io.imagemirror.testbed.TestImage;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code POST /v1/rules/<name>/runs} on {@code serve}'s routes over the real local server: the rule from
 * the YAML file runs now, its copy jobs run on the runtime's executor after the answer, and
 * {@code GET .../runs} shows the run with its jobs finished.
 */
class RuleRunsServeTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;
    LocalRegistry upstream;
    LocalRuntime rt;
    LocalHttpServer server;
    final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws Exception {
        upstream = LocalRegistry.start(tmp);
        Path file = tmp.resolve("mirror.yaml");
        Files.writeString(file, "upstreams:\n  - name: docker.io\n  - name: " + upstream.hostPort()
                + "\n    insecure: true\n    endpoint: " + upstream.url() + "\n    prefix: up\n"
                + "rules:\n  - name: app\n    source: up/team/app\n    schedule: rate(1 hour)\n");
        MirrorConfig config = LocalRuntime.readConfig(file, Map.of());
        Path data = tmp.resolve("data");
        Storage storage = LocalStores.open(data);
        rt = new LocalRuntime(config, storage, data.resolve("spool"), Clock.systemUTC());
        rt.applyConfigRules();
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        if (rt != null) {
            rt.close();
        }
        upstream.close();
    }

    void listen(boolean loopback) throws java.io.IOException {
        server = LocalHttpServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8, rt.routes(loopback),
                line -> { }, Clock.systemUTC());
    }

    HttpResponse<String> send(String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.address().getPort()
                + path));
        if (body == null) {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            b.method(method, HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json");
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void postRunsTheRuleNowAndItsCopiesRunOnServesExecutor() throws Exception {
        TestImage v1 = TestImage.builder(71).build();
        TestImage v2 = TestImage.builder(72).build();
        upstream.pusher().pushImage("team/app", "1.0", v1);
        upstream.pusher().pushImage("team/app", "2.0", v2);
        listen(true);

        HttpResponse<String> posted = send("POST", "/v1/rules/app/runs", "{}");
        assertThat(posted.statusCode()).as(posted.body()).isEqualTo(201);
        assertThat(posted.headers().firstValue("Location")).contains("/v1/rules/app/runs");
        JsonNode run = JSON.readTree(posted.body());
        assertThat(run.at("/tags/listed").asInt()).isEqualTo(2);
        assertThat(run.at("/tags/changed").asInt()).isEqualTo(2);
        assertThat(run.get("jobs")).hasSize(2);

        // the copies run after the answer, on serve's executor
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            JsonNode runs = JSON.readTree(send("GET", "/v1/rules/app/runs", null).body());
            assertThat(runs.at("/runs/0/id").asText()).isEqualTo(run.get("id").asText());
            assertThat(runs.at("/runs/0/jobsFinished").asInt()).isEqualTo(2);
        });
        assertThat(rt.storage().tagIndex().getTag(upstream.hostPort() + "/team/app", "2.0"))
                .hasValueSatisfying(t -> assertThat(t.digest().toString()).isEqualTo(v2.digest()));

        // nothing moved: the next run copies nothing
        JsonNode again = JSON.readTree(send("POST", "/v1/rules/app/runs", "{}").body());
        assertThat(again.at("/tags/unchanged").asInt()).isEqualTo(2);
        assertThat(again.get("jobs")).isEmpty();
        assertThat(send("POST", "/v1/rules/nope/runs", "{}").statusCode()).isEqualTo(404);
    }

    /**
     * More copy jobs at once than serve has background threads (max(4, parallelism)): the jobs must not
     * take every thread the blob fills they wait for need (they did: every job waited forever).
     */
    @Test
    void moreCopyJobsThanBackgroundThreadsAllFinish() throws Exception {
        TestImage img = TestImage.builder(73).layer(5000).build();
        upstream.pusher().pushImage("team/app", "1", img);
        for (int t = 2; t <= 10; t++) {
            upstream.pusher().pushManifest("team/app", String.valueOf(t), img.mediaType(), img.manifest());
        }
        listen(true);
        JsonNode run = JSON.readTree(send("POST", "/v1/rules/app/runs", "{}").body());
        assertThat(run.get("jobs")).hasSize(10);
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(JSON.readTree(
                send("GET", "/v1/rules/app/runs", null).body()).at("/runs/0/jobsFinished").asInt()).isEqualTo(10));
    }

    @Test
    void onAPublicListenerARunNeedsTheToken() throws Exception {
        listen(false);
        HttpResponse<String> r = send("POST", "/v1/rules/app/runs", "{}");
        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(rt.syncRules().runs("app", 10)).isEmpty();
        assertThat(send("GET", "/v1/rules/app/runs", null).statusCode()).isEqualTo(200);
    }
}
