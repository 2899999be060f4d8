package io.imagemirror.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.imagemirror.cache.PullThroughCache;
import io.imagemirror.cache.Target;
import io.imagemirror.oci.Digest;
import io.imagemirror.reference.RepositoryName;
import io.imagemirror.store.InMemoryBlobStore;
import io.imagemirror.mirror.BlobFills;
import io.imagemirror.store.InMemoryIndex;
import io.imagemirror.store.Storage;
import io.imagemirror.testbed.Content;
import java.net.InetAddress;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import mockwebserver3.MockWebServer;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * How the Lambda registry answers a cold blob: one too large to store within the request goes to
 * the client at upstream's own (CDN) location; a small one is stored first.
 */
class ColdBlobRedirectTest {

    final MockWebServer hubServer = new MockWebServer();
    final MockWebServer cdnServer = new MockWebServer();
    final FakeRegistry hub = FakeRegistry.registry();
    final FakeRegistry cdn = FakeRegistry.cdn();
    final InMemoryBlobStore blobs = new InMemoryBlobStore();
    final ExecutorService pool = Executors.newFixedThreadPool(2);
    final List<PullThroughCache.Recording> recorded = new CopyOnWriteArrayList<>();
    PullThroughCache cache;

    @BeforeEach
    void start() throws Exception {
        hubServer.setDispatcher(hub);
        hubServer.start(InetAddress.getByName("127.0.0.1"), 0);
        cdnServer.setDispatcher(cdn);
        cdnServer.start(InetAddress.getByName("127.0.0.1"), 0);
        hub.cdnBase = "http://localhost:" + cdnServer.getPort();
        Upstream up = Upstream.builder("docker.io").endpoint(URI.create("http://127.0.0.1:" + hubServer.getPort()))
                .insecure(true).build();
        Upstreams upstreams = new Upstreams(List.of(up), CredentialStore.none(), new OkHttpClient(), Clock.systemUTC(),
                RetryPolicy.none());
        Storage storage = Storage.of(blobs, new InMemoryBlobStore(), new InMemoryIndex(Clock.systemUTC()), List.of());
        BlobFills fills = new BlobFills(blobs, storage.blobIndex(), null, pool);
        cache = new PullThroughCache(upstreams, fills, storage, Duration.ofMinutes(5), pool, Clock.systemUTC(),
                l -> { }, recorded::add, new PullThroughCache.ColdBlobs(1000, true));
    }

    @AfterEach
    void stop() {
        hubServer.close();
        cdnServer.close();
        pool.shutdownNow();
    }

    @Test
    void aLargeColdBlobIsRedirectedToUpstreamsLocationAndNotFetched() throws Exception {
        byte[] big = Content.randomBytes(1, 5000);
        Digest d = hub.putBlob(big);
        cdn.putBlob(big);
        PullThroughCache.ServedBlob served = cache.blob(new Target(RepositoryName.of("docker.io", "library/app"), "library/app"), d, false);
        assertThat(served).isInstanceOfSatisfying(PullThroughCache.Redirect.class, r -> {
            assertThat(r.location().toString()).startsWith(hub.cdnBase + "/blobs/" + d);
            assertThat(r.size()).isEqualTo(5000);
        });
        assertThat(cdn.requests).isEmpty();
        assertThat(blobs.exists(d)).isFalse();
    }

    @Test
    void aSmallColdBlobIsStoredWithinTheRequest() throws Exception {
        byte[] small = Content.randomBytes(2, 500);
        Digest d = hub.putBlob(small);
        cdn.putBlob(small);
        PullThroughCache.ServedBlob served = cache.blob(new Target(RepositoryName.of("docker.io", "library/app"), "library/app"), d, false);
        assertThat(served).isInstanceOf(PullThroughCache.Stored.class);
        assertThat(blobs.exists(d)).isTrue();
    }
}
