package io.imagemirror.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.imagemirror.cache.NameRouter;
import io.imagemirror.cache.PullThroughCache;
import io.imagemirror.config.MirrorConfig;
import io.imagemirror.mirror.BlobFills;
import io.imagemirror.mirror.ImageMirror;
import io.imagemirror.oci.Digest;
import io.imagemirror.store.InMemoryBlobStore;
import io.imagemirror.store.InMemoryIndex;
import io.imagemirror.store.Storage;
import io.imagemirror.testbed.FaultProxy;
import io.imagemirror.testbed.FaultProxy.Fault;
import io.imagemirror.testbed.LocalRegistry;
import io.imagemirror.testbed.TestImage;
import io.imagemirror.upstream.CredentialStore;
import io.imagemirror.upstream.RegistryClient;
import io.imagemirror.upstream.RetryPolicy;
import io.imagemirror.upstream.Upstreams;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Lambda Registry function's way with cold blobs (fills not spooled, stored before the answer,
 * larger ones sent to upstream's own location): a Range on a cold blob from a corrupting upstream
 * gets an OCI error, never bytes, and a clean one gets its bytes from the stored, verified blob.
 */
class UnspooledColdBlobTest {

    @TempDir
    Path tmp;
    LocalRegistry registry;
    FaultProxy proxy;
    ExecutorService pool;
    InMemoryBlobStore blobs;
    DistributionApi api;
    final TestImage.Blob layer = TestImage.layer(171, 150_000);

    @BeforeEach
    void wire() {
        registry = LocalRegistry.start(tmp);
        registry.pusher().pushBlob("cold/app", layer.bytes());
        proxy = FaultProxy.start(registry.url());
        MirrorConfig config = MirrorConfig.defaults().withUpstream(new MirrorConfig.UpstreamConfig(proxy.hostPort(),
                URI.create(proxy.url().toString()), true, null, null, null, Set.of())).withDefaultUpstream(proxy.hostPort());
        blobs = new InMemoryBlobStore();
        InMemoryIndex metadata = new InMemoryIndex(Clock.systemUTC());
        pool = Executors.newFixedThreadPool(2);
        Upstreams ups = new Upstreams(config.toUpstreamList(), CredentialStore.none(), RegistryClient.defaultHttpClient(),
                Clock.systemUTC(), RetryPolicy.defaults().withMaxAttempts(1));
        Storage storage = Storage.of(blobs, new InMemoryBlobStore(), metadata, List.of());
        BlobFills fills = new BlobFills(blobs, metadata, null, pool);
        PullThroughCache cache = new PullThroughCache(ups, fills, storage, Duration.ofMinutes(5), pool,
                Clock.systemUTC(), l -> { }, r -> { }, new PullThroughCache.ColdBlobs(1 << 20, true));
        api = new DistributionApi(cache, blobs, new NameRouter(config), true, Duration.ofMinutes(10));
    }

    @AfterEach
    void stop() {
        pool.shutdownNow();
        proxy.close();
        registry.close();
    }

    ApiResponse range(String value) throws Exception {
        return api.handle(ApiRequest.of("GET", "/v2/cold/app/blobs/" + layer.digest(), Map.of("Range", List.of(value))));
    }

    @Test
    void aRangeOnACorruptColdBlobIsAnErrorAndACleanOneComesFromTheStore() throws Exception {
        proxy.inject(Fault.flipAt(10));
        ApiResponse bad = range("bytes=0-99");
        assertThat(bad.status()).isEqualTo(502);
        assertThat(bad.stream()).isNull();
        assertThat(bad.bodyText()).contains("does not match");
        assertThat(blobs.exists(Digest.parse(layer.digest()))).isFalse();

        try (ApiResponse good = range("bytes=0-99"); InputStream in = good.stream()) {
            assertThat(good.status()).isEqualTo(206);
            assertThat(in.readAllBytes()).isEqualTo(Arrays.copyOf(layer.bytes(), 100));
        }
        assertThat(blobs.exists(Digest.parse(layer.digest()))).isTrue();
    }
}
