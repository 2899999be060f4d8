package io.imagemirror.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.imagemirror.cache.NameRouter;
import io.imagemirror.cache.PullThroughCache;
import io.imagemirror.config.MirrorConfig;
import io.imagemirror.mirror.BlobFills;
import io.imagemirror.mirror.ImageMirror;
import io.imagemirror.mirror.MirrorListener;
import io.imagemirror.mirror.MirrorRequest;
import io.imagemirror.mirror.MirrorTestBase;
import io.imagemirror.oci.Digest;
import io.imagemirror.oci.MediaTypes;
import io.imagemirror.store.Cause;
import io.imagemirror.store.Storage;
import io.imagemirror.testbed.TestImage;
import io.imagemirror.testbed.TestIndex;
import io.imagemirror.upstream.CredentialStore;
import io.imagemirror.upstream.RegistryClient;
import io.imagemirror.upstream.RetryPolicy;
import io.imagemirror.upstream.Upstreams;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Every route, status and header of the /v2 read API, over a real upstream. */
class DistributionApiTest extends MirrorTestBase {

    ExecutorService background;
    DistributionApi api;
    PullThroughCache cache;
    BlobFills fills;
    ImageMirror engine;
    Upstreams cacheUpstreams;
    MirrorConfig config;
    final List<String> log = new CopyOnWriteArrayList<>();

    @BeforeEach
    void buildApi() {
        background = Executors.newFixedThreadPool(4);
        config = MirrorConfig.defaults().withUpstream(new MirrorConfig.UpstreamConfig(upstream.hostPort(),
                URI.create(upstream.url().toString()), true, "up", null, null, Set.of())).withDefaultUpstream(upstream.hostPort());
        OkHttpClient http = RegistryClient.defaultHttpClient().newBuilder().addNetworkInterceptor(requests).build();
        Upstreams ups = new Upstreams(config.toUpstreamList(), CredentialStore.none(), http, Clock.systemUTC(),
                RetryPolicy.defaults().withMaxAttempts(1));
        fills = new BlobFills(blobs, metadata, tmp.resolve("spool"), background);
        engine = new ImageMirror(ups, storage, pool, Clock.systemUTC(), fills);
        cacheUpstreams = ups;
        cache = new PullThroughCache(engine, ups, fills, storage, Duration.ofMinutes(5), background, Clock.systemUTC(),
                log::add);
        api = new DistributionApi(cache, blobs, new NameRouter(config), false, Duration.ofMinutes(10));
    }

    @AfterEach
    void stopBackground() {
        background.shutdownNow();
    }

    ApiResponse get(String pathAndQuery, String... headers) throws Exception {
        return call("GET", pathAndQuery, headers);
    }

    ApiResponse call(String method, String pathAndQuery, String... headers) throws Exception {
        Map<String, List<String>> h = new HashMap<>();
        for (int i = 0; i < headers.length; i += 2) {
            h.put(headers[i], List.of(headers[i + 1]));
        }
        return api.handle(ApiRequest.of(method, pathAndQuery, h));
    }

    static byte[] body(ApiResponse r) throws Exception {
        if (r.body() != null) {
            return r.body();
        }
        try (InputStream in = r.stream()) {
            return in.readAllBytes();
        }
    }

    static JsonNode json(ApiResponse r) throws Exception {
        return new ObjectMapper().readTree(body(r));
    }

    @Test
    void baseEndpointAnswersWithTheApiVersion() throws Exception {
        ApiResponse r = get("/v2/");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("Docker-Distribution-API-Version")).isEqualTo("registry/2.0");
        assertThat(get("/v2").status()).isEqualTo(200);
    }

    @Test
    void aSyncRulesTagTtlRevalidatesItsRepositoryAndNoOther() throws Exception {
        TestImage img = TestImage.builder(90).build();
        upstream.pusher().pushImage("ttl/ruled", "1", img);
        upstream.pusher().pushImage("ttl/free", "1", img);
        io.imagemirror.sync.Rule rule = new io.imagemirror.sync.Rule("ruled", repoKey("ttl/ruled"),
                io.imagemirror.sync.TagSelector.all(), List.of(), false, io.imagemirror.sync.Schedule.parse("rate(1 hour)"),
                Duration.ZERO, io.imagemirror.sync.Rule.RemovedUpstream.KEEP);
        metadata.putSyncRule(new io.imagemirror.store.SyncRule(rule.name(), rule.toTree().toString(), true));
        for (String repo : List.of("ttl/ruled", "ttl/free")) {
            assertThat(get("/v2/" + repo + "/manifests/1").status()).isEqualTo(200);
        }
        // the background recordings ask upstream too: count only once they are done
        for (String repo : List.of("ttl/ruled", "ttl/free")) {
            await().atMost(Duration.ofSeconds(20)).until(() -> metadata.getTag(repoKey(repo), "1").isPresent());
        }
        requests.reset();
        for (String repo : List.of("ttl/ruled", "ttl/free")) {
            assertThat(body(get("/v2/" + repo + "/manifests/1"))).isEqualTo(img.manifest());
        }
        // tagTtl 0 for ttl/ruled: asked upstream again (a HEAD, no pull quota); ttl/free keeps the global 5 minutes
        assertThat(requests.count("HEAD", r -> r.path().contains("/ttl/ruled/manifests/"))).isEqualTo(1);
        assertThat(requests.count("HEAD", r -> r.path().contains("/ttl/free/"))).isZero();
        assertThat(requests.count("GET", r -> r.isManifest())).isZero();
    }

    @Test
    void coldManifestAndBlobAreFetchedOnceThenServedFromTheStore() throws Exception {
        TestImage img = TestImage.builder(1).layer(400_000).build();
        upstream.pusher().pushImage("app/web", "1.0", img);

        ApiResponse m = get("/v2/app/web/manifests/1.0", "Accept", img.mediaType());
        assertThat(m.status()).isEqualTo(200);
        assertThat(m.body()).isEqualTo(img.manifest());
        assertThat(m.header("Content-Type")).isEqualTo(img.mediaType());
        assertThat(m.header("Docker-Content-Digest")).isEqualTo(img.digest());
        assertThat(m.header("Content-Length")).isEqualTo(String.valueOf(img.manifest().length));

        TestImage.Blob layer = img.layers().get(0);
        ApiResponse b = get("/v2/app/web/blobs/" + layer.digest());
        assertThat(b.status()).isEqualTo(200);
        assertThat(body(b)).isEqualTo(layer.bytes());
        assertThat(b.header("Docker-Content-Digest")).isEqualTo(layer.digest());

        // the background recording finishes: tag and manifest are in the index
        await().atMost(Duration.ofSeconds(20)).until(() ->
                metadata.getTag(upstream.hostPort() + "/app/web", "1.0").isPresent());
        assertThat(requests.count("GET", s -> s.path().endsWith(layer.digest()))).isEqualTo(1);

        requests.reset();
        assertThat(body(get("/v2/app/web/blobs/" + layer.digest()))).isEqualTo(layer.bytes());
        // pulls of a recorded manifest are counted, off the request path
        get("/v2/app/web/manifests/1.0");
        await().atMost(Duration.ofSeconds(10)).until(() -> metadata.getManifest(upstream.hostPort() + "/app/web",
                Digest.parse(img.digest())).orElseThrow().pullCount() >= 1);
        assertThat(get("/v2/app/web/manifests/1.0").body()).isEqualTo(img.manifest());
        assertThat(get("/v2/app/web/manifests/" + img.digest()).body()).isEqualTo(img.manifest());
        assertThat(requests.seen).isEmpty();
    }

    @Test
    void headsCarryLengthDigestAndTypeWithoutBody() throws Exception {
        TestImage img = TestImage.builder(2).build();
        upstream.pusher().pushImage("app/head", "x", img);
        ApiResponse m = call("HEAD", "/v2/app/head/manifests/x");
        assertThat(m.status()).isEqualTo(200);
        assertThat(m.body()).isNull();
        assertThat(m.header("Content-Length")).isEqualTo(String.valueOf(img.manifest().length));
        assertThat(m.header("Docker-Content-Digest")).isEqualTo(img.digest());
        TestImage.Blob cfg = img.config();
        ApiResponse b = call("HEAD", "/v2/app/head/blobs/" + cfg.digest());
        assertThat(b.status()).isEqualTo(200);
        assertThat(b.header("Content-Length")).isEqualTo(String.valueOf(cfg.size()));
        assertThat(b.stream()).isNull();
    }

    @Test
    void rangesAnswer206And416() throws Exception {
        TestImage img = TestImage.builder(3).layer(10_000).build();
        upstream.pusher().pushImage("app/range", "1", img);
        mirror.mirror(MirrorRequest.of(ref("app/range:1"), Cause.CLI), MirrorListener.NONE);
        TestImage.Blob layer = img.layers().get(0);
        String path = "/v2/app/range/blobs/" + layer.digest();

        ApiResponse r = get(path, "Range", "bytes=100-199");
        assertThat(r.status()).isEqualTo(206);
        assertThat(r.header("Content-Range")).isEqualTo("bytes 100-199/" + layer.size());
        assertThat(body(r)).isEqualTo(Arrays.copyOfRange(layer.bytes(), 100, 200));

        ApiResponse open = get(path, "Range", "bytes=" + (layer.size() - 10) + "-");
        assertThat(body(open)).hasSize(10);
        ApiResponse suffix = get(path, "Range", "bytes=-5");
        assertThat(body(suffix)).isEqualTo(Arrays.copyOfRange(layer.bytes(), (int) layer.size() - 5, (int) layer.size()));

        ApiResponse bad = get(path, "Range", "bytes=" + layer.size() + "-");
        assertThat(bad.status()).isEqualTo(416);
        assertThat(bad.header("Content-Range")).isEqualTo("bytes */" + layer.size());
        assertThat(json(bad).at("/errors/0/code").asText()).isEqualTo("RANGE_INVALID");
    }

    @Test
    void notFoundIs404AndMalformedIs400() throws Exception {
        String missing = "sha256:" + "0".repeat(64);
        ApiResponse m = get("/v2/app/none/manifests/" + missing);
        assertThat(m.status()).isEqualTo(404);
        assertThat(json(m).at("/errors/0/code").asText()).isIn("MANIFEST_UNKNOWN", "NAME_UNKNOWN");
        ApiResponse t = get("/v2/app/none/manifests/latest");
        assertThat(t.status()).isEqualTo(404);
        ApiResponse b = get("/v2/app/none/blobs/" + missing);
        assertThat(b.status()).isEqualTo(404);
        assertThat(json(b).at("/errors/0/code").asText()).isEqualTo("BLOB_UNKNOWN");

        assertThat(get("/v2/app/x/manifests/sha256:abc").status()).isEqualTo(400);
        assertThat(json(get("/v2/app/x/manifests/sha256:abc")).at("/errors/0/code").asText()).isEqualTo("DIGEST_INVALID");
        assertThat(get("/v2/app/x/blobs/sha256:zz").status()).isEqualTo(400);
        assertThat(get("/v2/app/x/manifests/-bad").status()).isEqualTo(400);
        ApiResponse badName = get("/v2/App/X/manifests/1");
        assertThat(badName.status()).isEqualTo(400);
        assertThat(json(badName).at("/errors/0/code").asText()).isEqualTo("NAME_INVALID");
        assertThat(get("/v2/app/x/referrers/sha256:nope").status()).isEqualTo(400);
    }

    @Test
    void writesAre405Unsupported() throws Exception {
        for (String method : List.of("POST", "PUT", "PATCH", "DELETE")) {
            for (String path : List.of("/v2/app/x/blobs/uploads/", "/v2/app/x/manifests/1", "/v2/",
                    "/v2/app/x/blobs/sha256:" + "1".repeat(64))) {
                ApiResponse r = call(method, path);
                assertThat(r.status()).as(method + " " + path).isEqualTo(405);
                assertThat(json(r).at("/errors/0/code").asText()).isEqualTo("UNSUPPORTED");
            }
        }
    }

    @Test
    void unconfiguredHostsAreRefusedWithoutContactingThem() throws Exception {
        ApiResponse r = get("/v2/evil.example.com/x/manifests/latest");
        assertThat(r.status()).isEqualTo(403);
        assertThat(json(r).at("/errors/0/code").asText()).isEqualTo("DENIED");
        assertThat(json(r).at("/errors/0/message").asText()).contains("evil.example.com is not a configured upstream");
        ApiResponse ns = get("/v2/x/manifests/latest?ns=evil.example.com");
        assertThat(ns.status()).isEqualTo(403);
        assertThat(requests.seen).isEmpty();
    }

    @Test
    void prefixAndNsSelectTheUpstream() throws Exception {
        TestImage img = TestImage.builder(4).build();
        upstream.pusher().pushImage("team/app", "1", img);
        assertThat(get("/v2/up/team/app/manifests/1").body()).isEqualTo(img.manifest());
        assertThat(get("/v2/team/app/manifests/1?ns=" + upstream.hostPort()).body()).isEqualTo(img.manifest());
        assertThat(get("/v2/team/app/manifests/1").body()).isEqualTo(img.manifest());
    }

    @Test
    void tagsAndCatalogPaginateWithLink() throws Exception {
        for (int i = 0; i < 5; i++) {
            upstream.pusher().pushImage("pages/app", "t" + i, TestImage.builder(10 + i).build());
        }
        upstream.pusher().pushImage("pages/other", "1", TestImage.builder(20).build());
        mirror.mirror(MirrorRequest.of(ref("pages/app"), Cause.CLI).withAllTags(true), MirrorListener.NONE);
        mirror.mirror(MirrorRequest.of(ref("pages/other:1"), Cause.CLI), MirrorListener.NONE);

        ApiResponse p1 = get("/v2/pages/app/tags/list?n=2");
        assertThat(json(p1).get("tags").toString()).isEqualTo("[\"t0\",\"t1\"]");
        assertThat(json(p1).get("name").asText()).isEqualTo("pages/app");
        assertThat(p1.header("Link")).isEqualTo("</v2/pages/app/tags/list?n=2&last=t1>; rel=\"next\"");
        ApiResponse p3 = get("/v2/pages/app/tags/list?n=2&last=t3");
        assertThat(json(p3).get("tags").toString()).isEqualTo("[\"t4\"]");
        assertThat(p3.header("Link")).isNull();
        assertThat(json(get("/v2/pages/app/tags/list")).get("tags")).hasSize(5);

        ApiResponse c1 = get("/v2/_catalog?n=1");
        assertThat(json(c1).get("repositories").toString()).isEqualTo("[\"pages/app\"]");
        assertThat(c1.header("Link")).isEqualTo("</v2/_catalog?n=1&last=pages%2Fapp>; rel=\"next\"");
        assertThat(json(get("/v2/_catalog?n=1&last=pages/app")).get("repositories").toString())
                .isEqualTo("[\"pages/other\"]");
        assertThat(get("/v2/nothing/here/tags/list").status()).isEqualTo(404);
    }

    @Test
    void referrersListsStoredArtifactsWithFilter() throws Exception {
        TestImage img = TestImage.builder(30).build();
        upstream.pusher().pushImage("sig/app", "1", img);
        String emptyConfig = "{}";
        TestImage.Blob cfg = TestImage.Blob.of(MediaTypes.OCI_EMPTY, emptyConfig.getBytes(StandardCharsets.UTF_8));
        TestImage.Blob sigLayer = TestImage.Blob.of("application/vnd.example.sig", "signature".getBytes(StandardCharsets.UTF_8));
        upstream.pusher().pushBlob("sig/app", cfg.bytes());
        upstream.pusher().pushBlob("sig/app", sigLayer.bytes());
        String sig = "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"artifactType\":\"application/vnd.example.sig\","
                + "\"config\":{\"mediaType\":\"" + MediaTypes.OCI_EMPTY + "\",\"digest\":\"" + cfg.digest() + "\",\"size\":2},"
                + "\"layers\":[{\"mediaType\":\"application/vnd.example.sig\",\"digest\":\"" + sigLayer.digest() + "\",\"size\":"
                + sigLayer.size() + "}],\"subject\":{\"mediaType\":\"" + img.mediaType() + "\",\"digest\":\"" + img.digest()
                + "\",\"size\":" + img.manifest().length + "},\"annotations\":{\"k\":\"v\"}}";
        byte[] sigBytes = sig.getBytes(StandardCharsets.UTF_8);
        String sigDigest = io.imagemirror.testbed.Content.sha256(sigBytes);
        upstream.pusher().pushManifest("sig/app", sigDigest, MediaTypes.OCI_MANIFEST, sigBytes);
        // distribution 2.8 has no referrers API: clients use the tag schema, an index under sha256-<subject>
        String fallback = "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_INDEX + "\",\"manifests\":[{\"mediaType\":\""
                + MediaTypes.OCI_MANIFEST + "\",\"digest\":\"" + sigDigest + "\",\"size\":" + sigBytes.length
                + ",\"artifactType\":\"application/vnd.example.sig\"}]}";
        upstream.pusher().pushManifest("sig/app", img.digest().replace(":", "-"), MediaTypes.OCI_INDEX,
                fallback.getBytes(StandardCharsets.UTF_8));
        mirror.mirror(MirrorRequest.of(ref("sig/app:1"), Cause.CLI).withReferrers(true), MirrorListener.NONE);

        ApiResponse all = get("/v2/sig/app/referrers/" + img.digest());
        assertThat(all.status()).isEqualTo(200);
        assertThat(all.header("Content-Type")).isEqualTo(MediaTypes.OCI_INDEX);
        JsonNode idx = json(all);
        assertThat(idx.get("manifests")).hasSize(1);
        assertThat(idx.at("/manifests/0/digest").asText()).isEqualTo(sigDigest);
        assertThat(idx.at("/manifests/0/artifactType").asText()).isEqualTo("application/vnd.example.sig");
        assertThat(idx.at("/manifests/0/annotations/k").asText()).isEqualTo("v");

        ApiResponse filtered = get("/v2/sig/app/referrers/" + img.digest() + "?artifactType=application/other");
        assertThat(json(filtered).get("manifests")).isEmpty();
        assertThat(filtered.header("OCI-Filters-Applied")).isEqualTo("artifactType");

        ApiResponse none = get("/v2/sig/app/referrers/sha256:" + "9".repeat(64));
        assertThat(none.status()).isEqualTo(200);
        assertThat(json(none).get("manifests")).isEmpty();
    }

    @Test
    void indexIsServedAsIsAndChildrenByDigest() throws Exception {
        TestImage amd = TestImage.builder(40).build();
        TestImage arm = TestImage.builder(41).platform("linux", "arm64", "v8").build();
        TestIndex index = TestIndex.of(TestImage.Format.DOCKER, List.of(amd, arm), false);
        upstream.pusher().pushIndex("multi/app", "1", index);
        ApiResponse r = get("/v2/multi/app/manifests/1", "Accept", MediaTypes.acceptHeader());
        assertThat(r.body()).isEqualTo(index.bytes());
        assertThat(r.header("Content-Type")).isEqualTo(MediaTypes.DOCKER_MANIFEST_LIST);
        assertThat(get("/v2/multi/app/manifests/" + arm.digest()).body()).isEqualTo(arm.manifest());
        await().atMost(Duration.ofSeconds(20)).until(() ->
                metadata.getTag(upstream.hostPort() + "/multi/app", "1").isPresent());
        // the child pulled by digest is part of the tagged index, so it is not pinned on its own
        assertThat(metadata.listPins(upstream.hostPort() + "/multi/app", 10, null).items()).isEmpty();
    }

    @Test
    void staleTagIsServedWhenUpstreamIsDown() throws Exception {
        TestImage img = TestImage.builder(50).build();
        upstream.pusher().pushImage("stale/app", "1", img);
        mirror.mirror(MirrorRequest.of(ref("stale/app:1"), Cause.CLI), MirrorListener.NONE);
        PullThroughCache expired = new PullThroughCache(engine, cacheUpstreams, fills, storage, Duration.ZERO, background,
                Clock.systemUTC(), log::add);
        DistributionApi zeroTtl = new DistributionApi(expired, blobs, new NameRouter(config), false,
                Duration.ofMinutes(1));
        upstream.stop();
        ApiResponse r = zeroTtl.handle(ApiRequest.of("GET", "/v2/stale/app/manifests/1", Map.of()));
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).isEqualTo(img.manifest());
        assertThat(log).anySatisfy(l -> assertThat(l).contains("stale"));
        ApiResponse b = zeroTtl.handle(ApiRequest.of("GET", "/v2/stale/app/blobs/" + img.config().digest(), Map.of()));
        assertThat(body(b)).isEqualTo(img.config().bytes());
        ApiResponse unknown = zeroTtl.handle(ApiRequest.of("GET", "/v2/stale/other/manifests/1", Map.of()));
        assertThat(unknown.status()).isEqualTo(502);
    }

    @Test
    void concurrentColdPullsOfOneBlobFetchItOnce() throws Exception {
        TestImage img = TestImage.builder(60).layer(6_000_000).build();
        upstream.pusher().pushImage("cold/big", "1", img);
        TestImage.Blob layer = img.layers().get(0);
        ExecutorService clients = Executors.newFixedThreadPool(6);
        try {
            List<Future<byte[]>> pulls = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                pulls.add(clients.submit(() -> body(get("/v2/cold/big/blobs/" + layer.digest()))));
            }
            for (Future<byte[]> f : pulls) {
                assertThat(Digest.sha256(f.get()).toString()).isEqualTo(layer.digest());
            }
        } finally {
            clients.shutdownNow();
        }
        assertThat(requests.count("GET", s -> s.path().endsWith(layer.digest()))).isEqualTo(1);
        await().atMost(Duration.ofSeconds(10)).until(() -> blobs.exists(Digest.parse(layer.digest())));
    }
}
