package io.imagemirror.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.imagemirror.config.MirrorConfig;
import io.imagemirror.local.http.LocalHttpServer;
import io.imagemirror.oci.Digest;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many different images pulled cold through {@code serve} at once (a CI fleet starting on a new
 * base image set): every pull ends byte-identical and every image gets recorded. Each cold pull
 * starts a recording mirror in the background, and that mirror waits for the blob fills; with the
 * fills on the same pool as the recordings, as many recordings as the pool has threads held all of
 * it and the fills (and the clients following them) waited for ever.
 */
class ConcurrentColdPullsServeTest {

    static final int IMAGES = 12;

    @TempDir
    Path tmp;
    LocalRegistry upstream;
    LocalRuntime rt;
    LocalHttpServer server;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    final ExecutorService clients = Executors.newFixedThreadPool(IMAGES);
    final List<TestImage> images = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        upstream = LocalRegistry.start(tmp);
        for (int i = 0; i < IMAGES; i++) {
            TestImage image = TestImage.builder(700 + i).layer(300_000).layer(1_200_000).build();
            upstream.pusher().pushImage("fleet/app" + i, "1", image);
            images.add(image);
        }
        Path file = tmp.resolve("mirror.yaml");
        Files.writeString(file, "upstreams:\n  - name: docker.io\n  - name: " + upstream.hostPort()
                + "\n    insecure: true\n    endpoint: " + upstream.url() + "\n    prefix: up\n");
        MirrorConfig config = LocalRuntime.readConfig(file, Map.of());
        Path data = tmp.resolve("data");
        Storage storage = LocalStores.open(data);
        rt = new LocalRuntime(config, storage, data.resolve("spool"), Clock.systemUTC());
        server = LocalHttpServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64, rt.routes(true),
                line -> { }, Clock.systemUTC());
    }

    @AfterEach
    void stop() {
        clients.shutdownNow();
        if (server != null) {
            server.close();
        }
        if (rt != null) {
            rt.close();
        }
        upstream.close();
    }

    HttpResponse<byte[]> get(String path, String accept) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.address().getPort() + path))
                .timeout(Duration.ofSeconds(60));
        if (accept != null) {
            b.header("Accept", accept);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    /** What a client does: the manifest, then every blob it names, each checked against its digest. */
    Void pull(int i) throws Exception {
        TestImage image = images.get(i);
        String repo = "/v2/up/fleet/app" + i;
        HttpResponse<byte[]> manifest = get(repo + "/manifests/1", image.mediaType());
        assertThat(manifest.statusCode()).isEqualTo(200);
        assertThat(Digest.sha256(manifest.body()).toString()).isEqualTo(image.digest());
        for (TestImage.Blob blob : image.blobs()) {
            HttpResponse<byte[]> r = get(repo + "/blobs/" + blob.digest(), null);
            assertThat(r.statusCode()).as(blob.digest()).isEqualTo(200);
            assertThat(Digest.sha256(r.body()).toString()).isEqualTo(blob.digest());
        }
        return null;
    }

    @Test
    void manyImagesPulledColdAtOnceAllArriveAndAreRecorded() throws Exception {
        List<CompletableFuture<Void>> pulls = new ArrayList<>();
        for (int i = 0; i < IMAGES; i++) {
            int n = i;
            pulls.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return pull(n);
                } catch (Exception e) {
                    throw new IllegalStateException("pull of app" + n + ": " + e, e);
                }
            }, clients));
        }
        CompletableFuture.allOf(pulls.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
        for (int i = 0; i < IMAGES; i++) {
            String repo = upstream.hostPort() + "/fleet/app" + i;
            Digest digest = Digest.parse(images.get(i).digest());
            await().atMost(Duration.ofSeconds(60)).until(() -> rt.storage().tagIndex().getTag(repo, "1")
                    .filter(t -> t.digest().equals(digest)).isPresent());
        }
        for (TestImage image : images) {
            for (TestImage.Blob blob : image.blobs()) {
                assertThat(rt.storage().blobs().exists(Digest.parse(blob.digest()))).as(blob.digest()).isTrue();
            }
        }

        // GET /v1/upstreams over the same server shows what the pulls cost the upstream
        HttpResponse<byte[]> r = get("/v1/upstreams", null);
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode body = new ObjectMapper().readTree(r.body());
        JsonNode up = null;
        for (JsonNode u : body.path("upstreams")) {
            if (u.path("name").asText().equals(upstream.hostPort())) {
                up = u;
            }
        }
        assertThat(up).as(body.toString()).isNotNull();
        assertThat(up.path("endpoint").asText()).isEqualTo(upstream.url().toString().replaceAll("/$", ""));
        assertThat(up.at("/requests/manifestGets").asLong()).isEqualTo(IMAGES); // one per image, recordings included
        assertThat(up.at("/requests/failures").asLong()).isZero();
        assertThat(up.at("/quota/state").asText()).isEqualTo("unknown"); // a registry that sends no rate-limit headers
    }
}
