package io.imagemirror.local.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.imagemirror.testbed.Content;
import io.imagemirror.testbed.FaultProxy;
import io.imagemirror.testbed.LocalRegistry;
import io.imagemirror.testbed.TestImage;
import io.imagemirror.testbed.TestIndex;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real upstream (docker-registry) → {@code image-mirror serve} → skopeo as the client. Pulled
 * manifests must be byte-identical to upstream's; a second pull must not need upstream at all.
 * Requests to the upstream are counted at a {@link FaultProxy} in front of it, which records each one
 * before forwarding it: docker-registry's own access log is written after a blob's body is sent, so
 * it can lag a pull that has finished.
 */
class ServeSkopeoIT {

    @TempDir
    static Path tmp;
    static LocalRegistry upstream;
    static FaultProxy proxy;
    static JarProcess.Server server;
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        upstream = LocalRegistry.start(tmp);
        proxy = FaultProxy.start(upstream.url());
        server = JarProcess.Server.pullThrough(tmp.resolve("data"), proxy.hostPort());
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
        proxy.close();
        upstream.close();
    }

    static JarProcess.Result pull(String repoAndTag, Path dest, String... extra) throws Exception {
        String[] args = new String[extra.length + 5];
        args[0] = "copy";
        args[1] = "--src-tls-verify=false";
        System.arraycopy(extra, 0, args, 2, extra.length);
        args[extra.length + 2] = "--retry-times=0";
        args[extra.length + 3] = "docker://" + server.hostPort() + "/" + repoAndTag;
        args[extra.length + 4] = "oci:" + dest;
        return JarProcess.skopeo(args);
    }

    static byte[] rawThroughMirror(String repoAndRef) throws Exception {
        JarProcess.Result r = JarProcess.skopeo("inspect", "--raw", "--tls-verify=false",
                "docker://" + server.hostPort() + "/" + repoAndRef);
        assertThat(r.status()).as(r.err()).isZero();
        return r.out().getBytes(StandardCharsets.ISO_8859_1);
    }

    static long upstreamBlobGets() {
        return proxy.requestLines().stream().filter(l -> l.startsWith("GET ") && l.contains("/blobs/")).count();
    }

    @Test
    void singlePlatformImagePullsByteIdenticalAndSecondPullNeedsNoUpstream() throws Exception {
        TestImage img = TestImage.builder(1).layer(300_000).layer(50_000).build();
        upstream.pusher().pushImage("serve/app", "1", img);

        JarProcess.Result first = pull("serve/app:1", tmp.resolve("pull1"));
        assertThat(first.status()).as(first.err() + server.log()).isZero();
        byte[] raw = rawThroughMirror("serve/app:1");
        assertThat(Content.sha256(raw)).isEqualTo(img.digest());

        long before = upstreamBlobGets();
        JarProcess.Result second = pull("serve/app:1", tmp.resolve("pull2"));
        assertThat(second.status()).as(second.err()).isZero();
        assertThat(upstreamBlobGets()).isEqualTo(before);
    }

    @Test
    void ociIndexAndDockerManifestListPullWithAll() throws Exception {
        for (TestImage.Format format : TestImage.Format.values()) {
            TestImage amd = TestImage.builder(10 + format.ordinal() * 2).format(format).layer(20_000).build();
            TestImage arm = TestImage.builder(11 + format.ordinal() * 2).format(format)
                    .platform("linux", "arm64", "v8").layer(21_000).build();
            TestIndex index = TestIndex.of(format, List.of(amd, arm), format == TestImage.Format.OCI);
            String repo = "serve/multi-" + format.name().toLowerCase();
            upstream.pusher().pushIndex(repo, "v1", index);

            JarProcess.Result r = pull(repo + ":v1", tmp.resolve("multi-" + format), "--all");
            assertThat(r.status()).as(r.err() + server.log()).isZero();
            assertThat(Content.sha256(rawThroughMirror(repo + ":v1"))).isEqualTo(index.digest());
            assertThat(Content.sha256(rawThroughMirror(repo + "@" + arm.digest()))).isEqualTo(arm.digest());
        }
    }

    @Test
    void sharedLayersAreFetchedFromUpstreamOnce() throws Exception {
        TestImage.Blob base = TestImage.layer(99, 400_000);
        TestImage a = TestImage.builder(30).layer(base).layer(1000).build();
        TestImage b = TestImage.builder(31).layer(base).layer(2000).build();
        upstream.pusher().pushImage("serve/sa", "1", a);
        upstream.pusher().pushImage("serve/sb", "1", b);
        assertThat(pull("serve/sa:1", tmp.resolve("sa")).status()).isZero();
        assertThat(pull("serve/sb:1", tmp.resolve("sb")).status()).isZero();
        long baseGets = proxy.requestLines().stream()
                .filter(l -> l.startsWith("GET ") && l.contains(base.digest())).count();
        assertThat(baseGets).isEqualTo(1);
    }

    @Test
    void cachedContentStillPullsWithUpstreamStopped() throws Exception {
        TestImage img = TestImage.builder(40).layer(10_000).build();
        upstream.pusher().pushImage("serve/offline", "1", img);
        assertThat(pull("serve/offline:1", tmp.resolve("off1")).status()).isZero();
        // let the background recording finish, then take upstream away
        waitForTag("serve/offline", "1");
        upstream.stop();
        try {
            JarProcess.Result byTag = pull("serve/offline:1", tmp.resolve("off2"));
            assertThat(byTag.status()).as(byTag.err() + server.log()).isZero();
            JarProcess.Result byDigest = pull("serve/offline@" + img.digest(), tmp.resolve("off3"));
            assertThat(byDigest.status()).as(byDigest.err()).isZero();
        } finally {
            upstream.start();
        }
    }

    @Test
    void storedBlobsServeWholeAndByRangeOverHttp() throws Exception {
        TestImage img = TestImage.builder(60).layer(3_000_000).build();
        upstream.pusher().pushImage("serve/range", "1", img);
        assertThat(pull("serve/range:1", tmp.resolve("range")).status()).isZero();
        waitForTag("serve/range", "1");
        TestImage.Blob layer = img.layers().get(0);
        URI uri = URI.create("http://" + server.hostPort() + "/v2/serve/range/blobs/" + layer.digest());
        HttpResponse<byte[]> whole = HTTP.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(whole.statusCode()).isEqualTo(200);
        assertThat(whole.body()).isEqualTo(layer.bytes());
        HttpResponse<byte[]> part = HTTP.send(HttpRequest.newBuilder(uri).header("Range", "bytes=1000000-1000099").build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(part.statusCode()).isEqualTo(206);
        assertThat(part.headers().firstValue("Content-Range")).hasValue("bytes 1000000-1000099/" + layer.size());
        assertThat(part.body()).isEqualTo(java.util.Arrays.copyOfRange(layer.bytes(), 1_000_000, 1_000_100));
        HttpResponse<Void> head = HTTP.send(HttpRequest.newBuilder(uri).method("HEAD", HttpRequest.BodyPublishers.noBody())
                .build(), HttpResponse.BodyHandlers.discarding());
        assertThat(head.headers().firstValue("Content-Length")).hasValue(String.valueOf(layer.size()));
    }

    @Test
    void writesAreRefusedAndErrorsAreOciJson() throws Exception {
        HttpResponse<String> put = HTTP.send(HttpRequest.newBuilder(URI.create("http://" + server.hostPort()
                + "/v2/serve/app/manifests/x")).PUT(HttpRequest.BodyPublishers.ofString("{}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(put.statusCode()).isEqualTo(405);
        assertThat(put.body()).contains("\"code\":\"UNSUPPORTED\"");
        HttpResponse<String> head = HTTP.send(HttpRequest.newBuilder(URI.create("http://" + server.hostPort()
                + "/v2/")).method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.headers().firstValue("Docker-Distribution-API-Version")).hasValue("registry/2.0");
    }

    @Test
    void mirrorJobOverHttpOnLoopback() throws Exception {
        TestImage img = TestImage.builder(50).build();
        upstream.pusher().pushImage("serve/job", "1", img);
        HttpResponse<String> posted = HTTP.send(HttpRequest.newBuilder(URI.create("http://" + server.hostPort()
                + "/v1/mirror")).POST(HttpRequest.BodyPublishers.ofString("{\"image\":\"" + proxy.hostPort()
                + "/serve/job:1\"}")).header("Content-Type", "application/json").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(posted.statusCode()).as(posted.body()).isEqualTo(202);
        String status = posted.body().replaceAll(".*\"status\":\"([^\"]+)\".*", "$1");
        String state = await().atMost(Duration.ofSeconds(30)).until(() -> HTTP.send(HttpRequest.newBuilder(
                        URI.create("http://" + server.hostPort() + status)).build(), HttpResponse.BodyHandlers.ofString()).body(),
                body -> !body.contains("\"state\":\"queued\"") && !body.contains("\"state\":\"running\""));
        assertThat(state).contains("\"state\":\"succeeded\"").contains(img.digest());
    }

    /** Issue 15 item 4: {@code /v1} resolves a name without registry through the default upstream, as {@code /v2} does. */
    @Test
    void mirrorJobOfANameWithoutRegistryUsesTheDefaultUpstream() throws Exception {
        TestImage img = TestImage.builder(51).build();
        upstream.pusher().pushImage("library/base", "1", img);
        HttpResponse<String> posted = HTTP.send(HttpRequest.newBuilder(URI.create("http://" + server.hostPort()
                + "/v1/mirror")).POST(HttpRequest.BodyPublishers.ofString("{\"image\":\"library/base:1\"}"))
                .header("Content-Type", "application/json").build(), HttpResponse.BodyHandlers.ofString());
        assertThat(posted.statusCode()).as(posted.body()).isEqualTo(202);
        URI status = URI.create("http://" + server.hostPort() + posted.body().replaceAll(".*\"status\":\"([^\"]+)\".*", "$1"));
        String done = await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                .until(() -> HTTP.send(HttpRequest.newBuilder(status).build(), HttpResponse.BodyHandlers.ofString()).body(),
                        body -> !body.contains("\"state\":\"queued\"") && !body.contains("\"state\":\"running\""));
        assertThat(done).as(server.log()).contains("\"state\":\"succeeded\"")
                .contains("\"image\":\"" + proxy.hostPort() + "/library/base:1\"").contains(img.digest());
        // the mirrored tag is what /v2/library/base serves, without asking upstream for the manifest again
        long manifestGets = proxy.requestLines().stream().filter(l -> l.contains("/library/base/manifests/")).count();
        assertThat(rawThroughMirror("library/base:1")).isEqualTo(img.manifest());
        assertThat(proxy.requestLines().stream().filter(l -> l.contains("/library/base/manifests/")).count())
                .isEqualTo(manifestGets);
    }

    static void waitForTag(String repo, String tag) {
        // the recorded tag shows in tags/list of the mirror once the background mirror is done
        await("tag " + repo + ":" + tag + " recorded").atMost(Duration.ofSeconds(30)).until(() -> {
            HttpResponse<String> catalog = HTTP.send(HttpRequest.newBuilder(URI.create("http://" + server.hostPort()
                    + "/v2/_catalog")).build(), HttpResponse.BodyHandlers.ofString());
            return catalog.body().contains("\"" + repo + "\"") && HTTP.send(HttpRequest.newBuilder(URI.create("http://"
                    + server.hostPort() + "/v2/" + repo + "/tags/list")).build(), HttpResponse.BodyHandlers.ofString())
                    .body().contains("\"" + tag + "\"");
        });
    }
}
