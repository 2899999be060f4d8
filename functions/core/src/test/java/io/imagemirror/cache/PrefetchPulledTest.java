package io.imagemirror.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.imagemirror.config.MirrorConfig;
import io.imagemirror.mirror.BlobFills;
import io.imagemirror.mirror.ImageMirror;
import io.imagemirror.mirror.MirrorTestBase;
import io.imagemirror.oci.Digest;
import io.imagemirror.reference.RepositoryName;
import io.imagemirror.store.ChildManifest;
import io.imagemirror.store.ManifestRecord;
import io.imagemirror.store.ManifestReferences;
import io.imagemirror.testbed.TestImage;
import io.imagemirror.testbed.TestIndex;
import io.imagemirror.upstream.CredentialStore;
import io.imagemirror.upstream.Prefetch;
import io.imagemirror.upstream.RegistryClient;
import io.imagemirror.upstream.RetryPolicy;
import io.imagemirror.upstream.Upstreams;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Fetch only what is pulled (issue 14): a pull of one platform of a multi-platform index through
 * the cache fetches nothing of the other platforms, and records the index with them listed, not
 * stored; a later pull of another platform fills it in. Counted as the requests leave for the upstream
 * ({@link io.imagemirror.mirror.UpstreamRequestCounter}): docker-registry's own access log is written
 * after a blob's body is sent, so it can lag a response the test already has. The recordings run when
 * the test says, in both orders.
 */
class PrefetchPulledTest extends MirrorTestBase {

    final PullThroughRecordingTest.StepExecutor background = new PullThroughRecordingTest.StepExecutor();
    final List<String> log = new CopyOnWriteArrayList<>();
    TestImage amd;
    TestImage arm;
    TestIndex index;
    Target target;

    @BeforeEach
    void pushIndex() {
        amd = TestImage.builder(501).layer(30_000).layer(4_000).build();
        arm = TestImage.builder(502).platform("linux", "arm64", "v8").layer(31_000).layer(5_000).build();
        index = TestIndex.of(TestImage.Format.OCI, List.of(amd, arm), false);
        upstream.pusher().pushIndex("multi/app", "1", index);
        target = new Target(RepositoryName.of(upstream.hostPort(), "multi/app"), "multi/app");
    }

    PullThroughCache cache(Upstreams ups, PullThroughCache.Recorder recorder) {
        BlobFills fills = new BlobFills(blobs, metadata, null, pool);
        return new PullThroughCache(ups, fills, storage, Duration.ofMinutes(5), background, Clock.systemUTC(), log::add,
                recorder, PullThroughCache.ColdBlobs.STORE_FIRST);
    }

    PullThroughCache.Recorder inBackground(Upstreams ups) {
        return PullThroughCache.inBackground(new ImageMirror(ups, storage, pool, Clock.systemUTC(),
                new BlobFills(blobs, metadata, null, pool)), background, log::add);
    }

    /** What a client (docker pull --platform) asks for: the index by tag, one child, its blobs. */
    void pull(PullThroughCache cache, TestImage platform) throws Exception {
        assertThat(cache.manifest(target, "1").digest().toString()).isEqualTo(index.digest());
        assertThat(cache.manifest(target, platform.digest()).digest().toString()).isEqualTo(platform.digest());
        for (TestImage.Blob b : platform.blobs()) {
            assertThat(cache.blob(target, Digest.parse(b.digest()), false).size()).isEqualTo(b.size());
        }
    }

    /** GETs of {@code image}'s blobs sent to the upstream registry. */
    long upstreamBlobGets(TestImage image) {
        return image.blobs().stream().mapToLong(this::upstreamBlobGets).sum();
    }

    long upstreamBlobGets(TestImage.Blob blob) {
        return requests.count("GET", s -> s.path().endsWith("/blobs/" + blob.digest()));
    }

    ManifestRecord indexRecord() {
        return metadata.getManifest(target.repositoryKey(), Digest.parse(index.digest())).orElseThrow();
    }

    ChildManifest child(ManifestRecord idx, TestImage image) {
        return idx.children().stream().filter(c -> c.digest().toString().equals(image.digest())).findFirst()
                .orElseThrow();
    }

    void assertPulledOnly(TestImage pulled, TestImage other) {
        String repo = target.repositoryKey();
        ManifestRecord idx = indexRecord();
        assertThat(metadata.getTag(repo, "1").orElseThrow().digest().toString()).isEqualTo(index.digest());
        assertThat(child(idx, pulled).mirrored()).isTrue();
        assertThat(child(idx, other).mirrored()).as("listed, not stored").isFalse();
        assertThat(idx.children()).hasSize(2);
        assertThat(metadata.getManifest(repo, Digest.parse(other.digest()))).isEmpty();
        assertThat(metadata.referenceCounts(repo, Digest.parse(pulled.digest())))
                .as("kept by its index").contains(new ManifestReferences.Counts(0, 0, 1));
        assertThat(upstreamBlobGets(pulled)).as("the pulled platform came from upstream").isPositive();
        assertThat(upstreamBlobGets(other)).as("nothing of the other platform was fetched").isZero();
        for (TestImage.Blob b : other.blobs()) {
            assertThat(blobs.exists(Digest.parse(b.digest()))).isFalse();
        }
        assertThat(manifests.exists(Digest.parse(other.digest()))).isFalse();
    }

    void pullTheOtherAndCheckItIsFilledIn(PullThroughCache cache) throws Exception {
        pull(cache, arm);
        background.runAll();
        String repo = target.repositoryKey();
        ManifestRecord idx = indexRecord();
        assertThat(idx.mirroredChildDigests()).extracting(Digest::toString)
                .containsExactlyInAnyOrder(amd.digest(), arm.digest());
        assertThat(metadata.referenceCounts(repo, Digest.parse(arm.digest())))
                .contains(new ManifestReferences.Counts(0, 0, 1));
        assertThat(metadata.getManifest(repo, Digest.parse(arm.digest())).orElseThrow().blobs())
                .hasSize(arm.blobs().size());
        for (TestImage.Blob b : arm.blobs()) {
            assertThat(upstreamBlobGets(b)).as("each blob of the second platform fetched once").isEqualTo(1);
        }
        assertThat(log).isEmpty();
    }

    @Test
    void aPullOfOnePlatformFetchesNothingOfTheOtherAndAPullOfTheOtherFillsItIn() throws Exception {
        PullThroughCache cache = cache(upstreams, inBackground(upstreams));
        pull(cache, amd);
        background.runAll(); // the index's recording first, then the child's
        assertPulledOnly(amd, arm);
        assertThat(log).isEmpty();
        pullTheOtherAndCheckItIsFilledIn(cache);
    }

    @Test
    void theChildRecordedBeforeItsIndexIsListedAsMirroredToo() throws Exception {
        PullThroughCache.Recorder inner = inBackground(upstreams);
        List<PullThroughCache.Recording> held = new ArrayList<>();
        PullThroughCache cache = cache(upstreams, held::add);
        pull(cache, amd);
        assertThat(held).hasSize(2);
        Collections.reverse(held); // the child's recording runs before the index's
        for (PullThroughCache.Recording r : held) {
            inner.record(r);
            background.runAll();
        }
        assertPulledOnly(amd, arm);
        assertThat(log).isEmpty();
        held.clear();
        pull(cache, arm);
        for (PullThroughCache.Recording r : held) {
            inner.record(r);
        }
        background.runAll();
        assertThat(indexRecord().mirroredChildDigests()).extracting(Digest::toString)
                .containsExactlyInAnyOrder(amd.digest(), arm.digest());
    }

    @Test
    void prefetchAllOnTheUpstreamFetchesEveryPlatformInTheBackground() throws Exception {
        MirrorConfig config = MirrorConfig.defaults().withUpstream(new MirrorConfig.UpstreamConfig(
                upstream.hostPort(), URI.create(upstream.url().toString()), true, null, null, null, Set.of(),
                Prefetch.ALL));
        Upstreams all = new Upstreams(config.toUpstreamList(), CredentialStore.none(),
                RegistryClient.defaultHttpClient().newBuilder().addNetworkInterceptor(requests).build(),
                Clock.systemUTC(), RetryPolicy.defaults());
        PullThroughCache cache = cache(all, inBackground(all));
        pull(cache, amd);
        background.runAll();
        assertThat(indexRecord().mirroredChildDigests()).extracting(Digest::toString)
                .containsExactlyInAnyOrder(amd.digest(), arm.digest());
        assertThat(upstreamBlobGets(arm)).isEqualTo(arm.blobs().size());
    }
}
