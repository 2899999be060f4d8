package io.imagemirror.local.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.imagemirror.testbed.LocalRegistry;
import io.imagemirror.testbed.TestImage;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /metrics} of a real {@code serve} (the jar) after skopeo pulls an image through it from
 * docker-registry: the cold pull's misses, bytes from upstream and upstream requests, then the
 * warm pull's hits and bytes from the store, each equal to what the pulls moved.
 */
class ServeMetricsIT {

    @TempDir
    static Path tmp;
    static LocalRegistry upstream;
    static JarProcess.Server server;
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        upstream = LocalRegistry.start(tmp);
        server = JarProcess.Server.pullThrough(tmp.resolve("data"), upstream.hostPort());
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
        upstream.close();
    }

    @Test
    void countersMatchAColdThenAWarmPull() throws Exception {
        TestImage img = TestImage.builder(70).layer(300_000).layer(120_000).build();
        upstream.pusher().pushImage("metrics/app", "1", img);
        long blobs = img.blobs().size();
        long bytes = img.blobs().stream().mapToLong(TestImage.Blob::size).sum();

        pull("metrics/app:1", tmp.resolve("cold"));
        String cold = scrape();
        // Every blob request is a lookup; a blob the background recording stored before skopeo asked for it
        // is already a hit, so the split varies, the sums do not.
        long coldMisses = value(cold, "imagemirror_cache_lookups_total", "kind", "blob", "result", "miss");
        long coldHits = value(cold, "imagemirror_cache_lookups_total", "kind", "blob", "result", "hit");
        assertThat(coldMisses).isPositive();
        assertThat(coldMisses + coldHits).isEqualTo(blobs);
        assertThat(value(cold, "imagemirror_cache_lookups_total", "kind", "manifest", "result", "miss")).isEqualTo(1);
        long coldFromUpstream = value(cold, "imagemirror_blob_served_bytes_total", "source", "upstream");
        long coldFromStore = value(cold, "imagemirror_blob_served_bytes_total", "source", "store");
        assertThat(coldFromUpstream).isPositive();
        assertThat(coldFromUpstream + coldFromStore).isEqualTo(bytes);
        assertThat(value(cold, "imagemirror_http_requests_seconds_count", "route", "v2.blobs", "method", "GET",
                "status", "200")).isEqualTo(blobs);
        assertThat(value(cold, "imagemirror_http_requests_seconds_count", "route", "v2.manifests", "method", "GET",
                "status", "200")).isEqualTo(1);
        assertThat(value(cold, "imagemirror_upstream_requests_seconds_count", "registry", upstream.hostPort(),
                "method", "GET", "status", "200")).isGreaterThanOrEqualTo(blobs + 1);
        // Each blob is fetched from upstream once (by the pull or by the recording, whichever came first).
        await().atMost(Duration.ofSeconds(30)).until(() -> value(scrape(), "imagemirror_upstream_fetched_bytes_total")
                == bytes);
        assertThat(value(scrape(), "imagemirror_blob_fills_total", "outcome", "fetched")).isEqualTo(blobs);

        pull("metrics/app:1", tmp.resolve("warm"));
        String warm = scrape();
        assertThat(value(warm, "imagemirror_cache_lookups_total", "kind", "blob", "result", "hit"))
                .isEqualTo(coldHits + blobs);
        assertThat(value(warm, "imagemirror_cache_lookups_total", "kind", "blob", "result", "miss"))
                .isEqualTo(coldMisses);
        assertThat(value(warm, "imagemirror_cache_lookups_total", "kind", "manifest", "result", "hit"))
                .isGreaterThanOrEqualTo(1);
        assertThat(value(warm, "imagemirror_blob_served_bytes_total", "source", "store"))
                .isEqualTo(coldFromStore + bytes);
        assertThat(value(warm, "imagemirror_blob_served_bytes_total", "source", "upstream")).isEqualTo(coldFromUpstream);
        assertThat(value(warm, "imagemirror_upstream_fetched_bytes_total")).isEqualTo(bytes);
        assertThat(warm).contains("# TYPE imagemirror_http_requests_seconds histogram")
                .contains("imagemirror_http_requests_seconds_bucket{");
    }

    @Test
    void scrapeIsPrometheusTextAndReadOnly() throws Exception {
        HttpResponse<String> get = HTTP.send(HttpRequest.newBuilder(URI.create("http://" + server.hostPort()
                + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(get.statusCode()).isEqualTo(200);
        assertThat(get.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t)
                .startsWith("text/plain; version=0.0.4"));
        HttpResponse<String> post = HTTP.send(HttpRequest.newBuilder(URI.create("http://" + server.hostPort()
                + "/metrics")).POST(HttpRequest.BodyPublishers.ofString("")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(post.statusCode()).isEqualTo(405);
    }

    private static void pull(String ref, Path dest) throws Exception {
        JarProcess.Result r = JarProcess.skopeo("copy", "--src-tls-verify=false", "--retry-times=0",
                "docker://" + server.hostPort() + "/" + ref, "oci:" + dest);
        assertThat(r.status()).as(r.err() + server.log()).isZero();
    }

    private static String scrape() throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://" + server.hostPort()
                + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }

    private static final Pattern SAMPLE = Pattern.compile("(?m)^([a-z_]+)(?:\\{([^}]*)\\})? (\\S+)$");
    private static final Pattern LABEL = Pattern.compile("([a-z_]+)=\"([^\"]*)\"");

    /** The sample of {@code name} with all the given labels (others may be present); 0 when there is none. */
    static long value(String scrape, String name, String... labels) {
        Matcher m = SAMPLE.matcher(scrape);
        while (m.find()) {
            if (!m.group(1).equals(name)) {
                continue;
            }
            Map<String, String> present = new java.util.HashMap<>();
            Matcher l = LABEL.matcher(m.group(2) == null ? "" : m.group(2));
            while (l.find()) {
                present.put(l.group(1), l.group(2));
            }
            boolean all = true;
            for (int i = 0; i < labels.length; i += 2) {
                all &= labels[i + 1].equals(present.get(labels[i]));
            }
            if (all) {
                return (long) Double.parseDouble(m.group(3));
            }
        }
        return 0;
    }
}
