package io.imagemirror.cache;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.imagemirror.api.ApiRequest;
import io.imagemirror.api.ApiResponse;
import io.imagemirror.api.DistributionApi;
import io.imagemirror.config.MirrorConfig;
import io.imagemirror.mirror.BlobFills;
import io.imagemirror.mirror.ImageMirror;
import io.imagemirror.mirror.MirrorListener;
import io.imagemirror.mirror.MirrorRequest;
import io.imagemirror.mirror.MirrorTestBase;
import io.imagemirror.reference.ImageReference;
import io.imagemirror.store.Cause;
import io.imagemirror.testbed.LocalRegistry;
import io.imagemirror.testbed.TestImage;
import io.imagemirror.upstream.CredentialStore;
import io.imagemirror.upstream.RegistryClient;
import io.imagemirror.upstream.RetryPolicy;
import io.imagemirror.upstream.Upstreams;
import java.io.InputStream;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Stored content is served under a repository only when that repository has it: a private
 * upstream's layers, fetched with credentials, are not handed out under a public repository's
 * name (or another private one) to whoever knows their digests.
 */
class RepositoryScopeTest extends MirrorTestBase {

    LocalRegistry privateUpstream;
    ExecutorService background;
    DistributionApi api;
    ImageMirror engine;
    final TestImage.Blob shared = TestImage.layer(4242, 50_000);
    TestImage secret;
    TestImage base;

    @BeforeEach
    void twoUpstreams() throws Exception {
        privateUpstream = LocalRegistry.startWithBasicAuth(tmp, "alice", "s3cret-pw");
        secret = TestImage.builder(7).layer(60_000).layer(shared).label("team", "secret").build();
        base = TestImage.builder(8).layer(shared).layer(30_000).build();
        privateUpstream.pusher().pushImage("team/secret", "1", secret);
        upstream.pusher().pushImage("lib/base", "1", base);

        MirrorConfig config = MirrorConfig.defaults()
                .withUpstream(new MirrorConfig.UpstreamConfig(upstream.hostPort(), URI.create(upstream.url().toString()),
                        true, "pub", null, null, Set.of()))
                .withUpstream(new MirrorConfig.UpstreamConfig(privateUpstream.hostPort(),
                        URI.create(privateUpstream.url().toString()), true, "priv", "alice", "s3cret-pw", Set.of()))
                .withDefaultUpstream(upstream.hostPort());
        OkHttpClient http = RegistryClient.defaultHttpClient().newBuilder().addNetworkInterceptor(requests).build();
        Upstreams ups = new Upstreams(config.toUpstreamList(), CredentialStore.none(), http, Clock.systemUTC(),
                RetryPolicy.defaults().withMaxAttempts(1));
        background = Executors.newFixedThreadPool(2);
        BlobFills fills = new BlobFills(blobs, metadata, tmp.resolve("spool"), background);
        engine = new ImageMirror(ups, storage, pool, Clock.systemUTC(), fills);
        PullThroughCache cache = new PullThroughCache(engine, ups, fills, storage, Duration.ofMinutes(5), background,
                Clock.systemUTC(), line -> { });
        api = new DistributionApi(cache, blobs, new NameRouter(config), false, Duration.ofMinutes(10));
        engine.mirror(MirrorRequest.of(ImageReference.parse(privateUpstream.hostPort() + "/team/secret:1"), Cause.CLI),
                MirrorListener.NONE);
        requests.reset();
    }

    @AfterEach
    void stop() {
        background.shutdownNow();
        privateUpstream.close();
    }

    ApiResponse call(String method, String path) throws Exception {
        return api.handle(ApiRequest.of(method, path, Map.of()));
    }

    static byte[] body(ApiResponse r) throws Exception {
        if (r.body() != null) {
            return r.body();
        }
        try (InputStream in = r.stream()) {
            return in.readAllBytes();
        }
    }

    static String code(ApiResponse r) throws Exception {
        return new ObjectMapper().readTree(body(r)).get("errors").get(0).get("code").asText();
    }

    @Test
    void aPrivateLayerIsServedOnlyUnderItsOwnRepository() throws Exception {
        TestImage.Blob layer = secret.layers().get(0);
        ApiResponse own = call("GET", "/v2/priv/team/secret/blobs/" + layer.digest());
        assertThat(own.status()).isEqualTo(200);
        assertThat(body(own)).isEqualTo(layer.bytes());

        for (String elsewhere : List.of("/v2/pub/lib/base", "/v2/pub/anything", "/v2/priv/team/other")) {
            for (String method : List.of("GET", "HEAD")) {
                ApiResponse r = call(method, elsewhere + "/blobs/" + layer.digest());
                assertThat(r.status()).as(method + " " + elsewhere).isEqualTo(404);
                if (method.equals("GET")) {
                    assertThat(code(r)).isEqualTo("BLOB_UNKNOWN");
                }
            }
        }
        ApiResponse config = call("GET", "/v2/pub/lib/base/blobs/" + secret.config().digest());
        assertThat(config.status()).isEqualTo(404);
        // Nothing was fetched to answer: the upstreams were asked whether they have it, no more.
        assertThat(requests.count("GET", s -> s.isBlob())).isZero();
    }

    @Test
    void aPrivateManifestIsServedByDigestOnlyUnderItsOwnRepository() throws Exception {
        ApiResponse own = call("GET", "/v2/priv/team/secret/manifests/" + secret.digest());
        assertThat(own.status()).isEqualTo(200);
        assertThat(body(own)).isEqualTo(secret.manifest());
        for (String method : List.of("GET", "HEAD")) {
            ApiResponse r = call(method, "/v2/pub/lib/base/manifests/" + secret.digest());
            assertThat(r.status()).as(method).isEqualTo(404);
        }
        assertThat(code(call("GET", "/v2/pub/lib/base/manifests/" + secret.digest()))).isEqualTo("MANIFEST_UNKNOWN");
        // and it was not recorded under the name it was asked for
        assertThat(metadata.getManifest(upstream.hostPort() + "/lib/base",
                io.imagemirror.oci.Digest.parse(secret.digest()))).isEmpty();
    }

    @Test
    void aSharedLayerIsServedUnderAnotherRepositoryWhoseUpstreamHasIt() throws Exception {
        ApiResponse r = call("GET", "/v2/pub/lib/base/blobs/" + shared.digest());
        assertThat(r.status()).isEqualTo(200);
        assertThat(body(r)).isEqualTo(shared.bytes());
        // confirmed with one HEAD, served from the store, and the confirmation is remembered
        assertThat(requests.count("HEAD", s -> s.isBlob())).isEqualTo(1);
        assertThat(requests.count("GET", s -> s.isBlob())).isZero();
        assertThat(call("GET", "/v2/pub/lib/base/blobs/" + shared.digest()).status()).isEqualTo(200);
        assertThat(requests.count("HEAD", s -> s.isBlob())).isEqualTo(1);
    }

    @Test
    void aPullOfItsOwnRecordedImageAsksNoUpstream() throws Exception {
        assertThat(call("GET", "/v2/priv/team/secret/manifests/1").status()).isEqualTo(200);
        for (TestImage.Blob b : secret.blobs()) {
            assertThat(call("GET", "/v2/priv/team/secret/blobs/" + b.digest()).status()).isEqualTo(200);
        }
        assertThat(requests.seen).isEmpty();
    }
}
