package io.imagemirror.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.imagemirror.cache.PullThroughCache;
import io.imagemirror.cache.Target;
import io.imagemirror.config.MirrorConfig;
import io.imagemirror.oci.Digest;
import io.imagemirror.reference.RepositoryName;
import io.imagemirror.store.ChildManifest;
import io.imagemirror.store.ManifestRecord;
import io.imagemirror.store.ManifestReferences;
import io.imagemirror.store.Storage;
import io.imagemirror.testbed.FaultProxy;
import io.imagemirror.testbed.LocalRegistry;
import io.imagemirror.testbed.TestImage;
import io.imagemirror.testbed.TestIndex;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fetch only what is pulled (issue 14) on the local store (directory + SQLite), with the cache's
 * own background recording: a pull of one platform of a two-platform index fetches no blob of the
 * other (counted at a {@link FaultProxy} in front of the upstream docker-registry, which records each
 * request before it forwards it: the registry's own access log is written after a blob's body is sent,
 * so it can lag a response the test already has); a later pull of the other is recorded as stored.
 */
class PrefetchPulledLocalTest {

    @TempDir
    Path tmp;
    LocalRegistry upstream;
    FaultProxy proxy;
    TestImage amd;
    TestImage arm;
    TestIndex index;

    @BeforeEach
    void startUpstream() {
        upstream = LocalRegistry.start(tmp);
        amd = TestImage.builder(701).layer(30_000).layer(3_000).build();
        arm = TestImage.builder(702).platform("linux", "arm64", "v8").layer(31_000).layer(3_100).build();
        index = TestIndex.of(TestImage.Format.OCI, List.of(amd, arm), true);
        upstream.pusher().pushIndex("local/multi", "1", index);
        proxy = FaultProxy.start(upstream.url());
    }

    @AfterEach
    void stopUpstream() {
        if (proxy != null) {
            proxy.close();
        }
        if (upstream != null) {
            upstream.close();
        }
    }

    LocalRuntime runtime() {
        Path data = tmp.resolve("data");
        MirrorConfig config = MirrorConfig.defaults().withUpstream(new MirrorConfig.UpstreamConfig(proxy.hostPort(),
                URI.create(proxy.url().toString()), true, null, null, null, Set.of()));
        Storage storage = LocalStores.open(data);
        return new LocalRuntime(config, storage, data.resolve("spool"), Clock.systemUTC());
    }

    static void pull(PullThroughCache cache, Target t, TestImage platform) throws Exception {
        assertThat(cache.manifest(t, "1").digest().toString()).isEqualTo(index(cache, t));
        assertThat(cache.manifest(t, platform.digest()).digest().toString()).isEqualTo(platform.digest());
        for (TestImage.Blob b : platform.blobs()) {
            PullThroughCache.ServedBlob served = cache.blob(t, Digest.parse(b.digest()), false);
            if (served instanceof PullThroughCache.Filling f) {
                f.fill().await();
            }
        }
    }

    static String index(PullThroughCache cache, Target t) throws Exception {
        return cache.manifest(t, "1").digest().toString();
    }

    long upstreamBlobGets(TestImage image) {
        return image.blobs().stream().mapToLong(b -> proxy.blobGets(b.digest())).sum();
    }

    static Optional<Boolean> mirrored(Storage s, String repo, String indexDigest, TestImage image) {
        return s.manifestIndex().getManifest(repo, Digest.parse(indexDigest)).flatMap(r -> r.children().stream()
                .filter(c -> c.digest().toString().equals(image.digest())).map(ChildManifest::mirrored).findFirst());
    }

    @Test
    void aPullOfOnePlatformFetchesNothingOfTheOtherAndAPullOfTheOtherIsRecorded() throws Exception {
        String host = proxy.hostPort();
        String repo = host + "/local/multi";
        Target t = new Target(RepositoryName.of(host, "local/multi"), "local/multi");
        try (LocalRuntime rt = runtime()) {
            Storage s = rt.storage();
            pull(rt.cache(), t, amd);
            await().atMost(Duration.ofSeconds(60)).until(() -> mirrored(s, repo, index.digest(), amd).orElse(false)
                    && s.tagIndex().getTag(repo, "1").isPresent());
            ManifestRecord idx = s.manifestIndex().getManifest(repo, Digest.parse(index.digest())).orElseThrow();
            assertThat(idx.children()).hasSize(4); // two platforms and their attestations, listed
            assertThat(idx.mirroredChildDigests()).extracting(Digest::toString).containsExactly(amd.digest());
            assertThat(s.manifestIndex().getManifest(repo, Digest.parse(arm.digest()))).isEmpty();
            assertThat(s.manifestIndex().referenceCounts(repo, Digest.parse(amd.digest())))
                    .contains(new ManifestReferences.Counts(0, 0, 1));
            assertThat(upstreamBlobGets(amd)).isPositive();
            assertThat(upstreamBlobGets(arm)).as("no blob of the other platform fetched").isZero();
            for (TestImage.Blob b : arm.blobs()) {
                assertThat(s.blobs().exists(Digest.parse(b.digest()))).isFalse();
            }

            pull(rt.cache(), t, arm);
            await().atMost(Duration.ofSeconds(60)).until(() -> mirrored(s, repo, index.digest(), arm).orElse(false));
            assertThat(s.manifestIndex().getManifest(repo, Digest.parse(index.digest())).orElseThrow()
                    .mirroredChildDigests()).extracting(Digest::toString)
                    .containsExactlyInAnyOrder(amd.digest(), arm.digest());
            assertThat(s.manifestIndex().referenceCounts(repo, Digest.parse(arm.digest())))
                    .contains(new ManifestReferences.Counts(0, 0, 1));
            for (TestImage.Blob b : arm.blobs()) {
                assertThat(s.blobs().exists(Digest.parse(b.digest()))).isTrue();
                assertThat(s.blobIndex().isReferencedIn(Digest.parse(b.digest()), repo)).isTrue();
            }
        }
    }
}
