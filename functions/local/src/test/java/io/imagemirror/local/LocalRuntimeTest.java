package io.imagemirror.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imagemirror.api.ApiHandler;
import io.imagemirror.api.ApiRequest;
import io.imagemirror.api.ApiResponse;
import io.imagemirror.config.ConfigException;
import io.imagemirror.config.MirrorConfig;
import io.imagemirror.store.Storage;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalRuntimeTest {

    @TempDir
    Path tmp;

    LocalRuntime runtime(MirrorConfig config) {
        Storage storage = LocalStores.open(tmp);
        return new LocalRuntime(config, storage, tmp.resolve("spool"), Clock.systemUTC());
    }

    static ApiRequest post(String body, String authorization) {
        Map<String, List<String>> h = new java.util.HashMap<>(Map.of("Content-Type", List.of("application/json")));
        if (authorization != null) {
            h.put("Authorization", List.of(authorization));
        }
        return new ApiRequest("POST", "/v1/mirror", Map.of(), h,
                new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8)), false);
    }

    @Test
    void writeRoutesOnAPublicListenerNeedTheBearerToken() throws Exception {
        MirrorConfig config = MirrorConfig.fromTree(new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree("{\"serveToken\":\"s3cret\"}"), k -> null);
        try (LocalRuntime rt = runtime(config)) {
            ApiHandler routes = rt.routes(false);
            ApiResponse anonymous = routes.handle(post("{\"image\":\"alpine\"}", null));
            assertThat(anonymous.status()).isEqualTo(401);
            assertThat(anonymous.bodyText()).contains("UNAUTHORIZED");
            assertThat(routes.handle(post("{\"image\":\"alpine\"}", "Bearer wrong")).status()).isEqualTo(401);
            // with the token the request reaches the API (which rejects this body on its own terms)
            assertThat(routes.handle(post("{nope", "Bearer s3cret")).status()).isEqualTo(400);
            // reads need no token
            assertThat(routes.handle(ApiRequest.of("GET", "/v1/jobs/x", Map.of())).status()).isEqualTo(404);
            assertThat(routes.handle(ApiRequest.of("GET", "/v2/", Map.of())).status()).isEqualTo(200);
            assertThat(routes.handle(ApiRequest.of("GET", "/other", Map.of())).status()).isEqualTo(404);
        }
    }

    @Test
    void loopbackListenerAcceptsWritesWithoutToken() throws Exception {
        try (LocalRuntime rt = runtime(MirrorConfig.defaults())) {
            ApiResponse r = rt.routes(true).handle(post("{nope", null));
            assertThat(r.status()).isEqualTo(400);
        }
    }

    /**
     * Issue 15 item 5, over the real server: what a web page can send to a loopback listener without
     * a CORS preflight (a text/plain POST, a cross-origin POST, garbage after the JSON) starts no job.
     */
    @Test
    void crossSiteWritesToALoopbackListenerAreRefused() throws Exception {
        try (LocalRuntime rt = runtime(MirrorConfig.defaults());
             io.imagemirror.local.http.LocalHttpServer server = io.imagemirror.local.http.LocalHttpServer.start(
                     new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 8, rt.routes(true),
                     line -> { }, Clock.systemUTC())) {
            java.net.URI url = java.net.URI.create("http://127.0.0.1:" + server.address().getPort() + "/v1/mirror");
            java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
            record Case(String contentType, String origin, String body, int status, String reason) {
            }
            String self = "http://127.0.0.1:" + server.address().getPort();
            for (Case c : List.of(
                    new Case("text/plain", null, "{\"image\":\"alpine\"}", 415, "application/json"),
                    new Case("application/x-www-form-urlencoded", null, "image=alpine", 415, "application/json"),
                    new Case("application/json", "http://evil.example", "{\"image\":\"alpine\"}", 403, "origin"),
                    new Case("application/json", "null", "{\"image\":\"alpine\"}", 403, "origin"),
                    new Case("application/json", "http://127.0.0.1:1", "{\"image\":\"alpine\"}", 403, "origin"),
                    new Case("application/json", null, "{\"image\":\"Bad Ref\"} trailing", 400, "after its JSON value"),
                    new Case("application/json", null, "{\"image\":\"a\"}{\"image\":\"b\"}", 400, "after its JSON value"),
                    new Case("application/json; charset=utf-8", self, "{\"image\":\"Bad Ref\"}", 400, "NAME_INVALID"))) {
                java.net.http.HttpRequest.Builder b = java.net.http.HttpRequest.newBuilder(url)
                        .POST(java.net.http.HttpRequest.BodyPublishers.ofString(c.body())).header("Content-Type", c.contentType());
                if (c.origin() != null) {
                    b.header("Origin", c.origin());
                }
                java.net.http.HttpResponse<String> r = http.send(b.build(), java.net.http.HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).as(c.toString() + r.body()).isEqualTo(c.status());
                assertThat(r.body()).startsWith("{\"errors\":[{\"code\":").contains(c.reason());
            }
            assertThat(rt.storage().jobs().listJobs(10, null).items()).isEmpty();
        }
    }

    @Test
    void publicListenerWithoutTokenRefusesWrites() throws Exception {
        try (LocalRuntime rt = runtime(MirrorConfig.defaults())) {
            ApiResponse r = rt.routes(false).handle(post("{\"image\":\"alpine\"}", "Bearer anything"));
            assertThat(r.status()).isEqualTo(401);
            assertThat(r.bodyText()).contains("serveToken");
        }
    }

    @Test
    void yamlConfigIsReadWithEnvironmentAndErrorsNameTheFile() throws Exception {
        Path f = tmp.resolve("m.yaml");
        Files.writeString(f, "upstreams:\n  - name: ghcr.io\n    username: u\n    password: ${TOKEN}\n");
        MirrorConfig c = LocalRuntime.readConfig(f, Map.of("TOKEN", "t"));
        assertThat(c.upstream("ghcr.io")).hasValueSatisfying(u -> assertThat(u.password()).isEqualTo("t"));
        Files.writeString(f, "tagTtl: [\n");
        assertThatThrownBy(() -> LocalRuntime.readConfig(f, Map.of())).isInstanceOf(ConfigException.class)
                .hasMessageContaining(f.toString());
    }
}
