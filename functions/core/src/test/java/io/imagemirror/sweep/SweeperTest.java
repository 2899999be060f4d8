package io.imagemirror.sweep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imagemirror.mirror.ImageMirror;
import io.imagemirror.mirror.MirrorListener;
import io.imagemirror.mirror.MirrorRequest;
import io.imagemirror.mirror.MirrorTestBase;
import io.imagemirror.oci.Digest;
import io.imagemirror.store.Cause;
import io.imagemirror.store.BlobStore;
import io.imagemirror.store.InMemoryIndex;
import io.imagemirror.store.ManifestRecord;
import io.imagemirror.store.Storage;
import io.imagemirror.store.TagRecord;
import io.imagemirror.store.TickingClock;
import io.imagemirror.testbed.TestImage;
import io.imagemirror.testbed.TestIndex;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The sweeper over the in-memory index and a real upstream (docker-registry) mirrored by the engine. */
class SweeperTest extends MirrorTestBase {

    private TickingClock clock;
    private Sweeper sweeper;

    @BeforeEach
    @Override
    protected void setUp() {
        super.setUp();
        clock = new TickingClock();
        metadata = new InMemoryIndex(clock);
        storage = Storage.of(blobs, manifests, metadata, List.of());
        mirror = new ImageMirror(upstreams, storage, pool, clock);
        sweeper = new Sweeper(storage, clock);
    }

    /** What a sweep deleted, by name. */
    private static final class Recorded implements Sweeper.Listener {
        final List<String> manifests = new ArrayList<>();
        final Set<String> blobs = new HashSet<>();
        long bytes;

        @Override
        public void manifestDeleted(String repository, Digest digest, long size) {
            manifests.add(repository + "@" + digest);
        }

        @Override
        public void blobDeleted(Digest digest, long size) {
            blobs.add(digest.toString());
            bytes += size;
        }
    }

    private void mirrorTag(String ref) throws Exception {
        mirror.mirror(MirrorRequest.of(ref(ref), Cause.CLI), MirrorListener.NONE);
    }

    private static Set<String> digests(TestImage... images) {
        Set<String> out = new HashSet<>();
        for (TestImage i : images) {
            i.blobs().forEach(b -> out.add(b.digest()));
        }
        return out;
    }

    @Test
    void aMutableTagMovedTwiceLeavesTwoDanglingManifestsKeptWithinGraceAndSweptAfter() throws Exception {
        TestImage.Blob base = TestImage.layer(1, 50_000);
        TestImage v1 = TestImage.builder(10).layer(base).layer(10_000).build();
        TestImage v2 = TestImage.builder(11).layer(base).layer(11_000).build();
        TestImage v3 = TestImage.builder(12).layer(base).layer(12_000).build();
        for (TestImage v : List.of(v1, v2, v3)) {
            upstream.pusher().pushImage("golftrack", "1.5", v);
            mirrorTag("golftrack:1.5");
        }
        String repo = repoKey("golftrack");

        Recorded within = new Recorded();
        SweepReport kept = sweeper.run(Sweeper.DEFAULT_GRACE, false, 2, within);
        assertThat(within.manifests).isEmpty();
        assertThat(within.blobs).isEmpty();
        assertThat(kept.manifestsDeleted()).isZero();

        clock.advance(Duration.ofHours(25));
        Recorded after = new Recorded();
        SweepReport swept = sweeper.run(Sweeper.DEFAULT_GRACE, false, 2, after);
        assertThat(after.manifests).containsExactlyInAnyOrder(repo + "@" + v1.digest(), repo + "@" + v2.digest());
        Set<String> gone = digests(v1, v2);
        gone.removeAll(digests(v3));
        gone.add(v1.digest()); // the manifests' own bytes go with their last record
        gone.add(v2.digest());
        assertThat(after.blobs).isEqualTo(gone);
        assertThat(manifests.exists(Digest.parse(v1.digest()))).isFalse();
        assertThat(manifests.exists(Digest.parse(v2.digest()))).isFalse();
        assertThat(manifests.exists(Digest.parse(v3.digest()))).isTrue();
        assertThat(swept.manifestsDeleted()).isEqualTo(2);
        assertThat(swept.blobsDeleted()).isEqualTo(gone.size());
        assertThat(swept.bytesReclaimed()).isEqualTo(after.bytes).isPositive();
        assertThat(swept.pages()).isGreaterThan(3);
        for (String b : gone) {
            assertThat(blobs.exists(Digest.parse(b))).as(b).isFalse();
        }
        assertThatAllTagsAreWhole(repo, "1.5");
        assertThat(metadata.getManifest(repo, Digest.parse(v1.digest()))).isEmpty();
        assertThat(metadata.tagHistory(repo, "1.5", 10, null).items()).hasSize(3);

        Recorded again = new Recorded();
        sweeper.run(Sweeper.DEFAULT_GRACE, false, 2, again);
        assertThat(again.manifests).isEmpty();
        assertThat(again.blobs).isEmpty();
    }

    @Test
    void aDryRunReportsWhatTheRealSweepThenDeletesAndDeletesNothing() throws Exception {
        TestImage.Blob base = TestImage.layer(2, 20_000);
        TestImage amd = TestImage.builder(20).layer(base).layer(3_000).build();
        TestImage arm = TestImage.builder(21).platform("linux", "arm64", "v8").layer(base).layer(4_000).build();
        upstream.pusher().pushIndex("multi", "v1", TestIndex.of(TestImage.Format.OCI, List.of(amd, arm), false));
        mirrorTag("multi:v1");
        TestImage single = TestImage.builder(22).layer(base).layer(5_000).build();
        upstream.pusher().pushImage("multi", "v1", single);
        mirrorTag("multi:v1");
        upstream.pusher().pushImage("other", "x", TestImage.builder(23).layer(base).layer(6_000).build());
        mirrorTag("other:x");
        upstream.pusher().pushImage("other", "x", TestImage.builder(24).layer(7_000).build());
        mirrorTag("other:x");
        clock.advance(Duration.ofHours(25));

        long storedBefore = blobs.list(1000, null).items().size();
        Recorded dry = new Recorded();
        SweepReport dryReport = sweeper.run(Sweeper.DEFAULT_GRACE, true, 2, dry);
        assertThat(dryReport.dryRun()).isTrue();
        assertThat(blobs.list(1000, null).items()).hasSize((int) storedBefore);
        assertThat(metadata.listDangling(clock.instant(), 100, null).items()).hasSize(2);

        Recorded real = new Recorded();
        SweepReport realReport = sweeper.run(Sweeper.DEFAULT_GRACE, false, 2, real);
        // The index and both its children (nothing else keeps them), and other's first image.
        assertThat(real.manifests).hasSize(4);
        assertThat(real.manifests).containsExactlyInAnyOrderElementsOf(dry.manifests);
        assertThat(real.blobs).isEqualTo(dry.blobs).isNotEmpty().doesNotContain(base.digest());
        assertThat(realReport.bytesReclaimed()).isEqualTo(dryReport.bytesReclaimed());
        assertThatAllTagsAreWhole(repoKey("multi"), "v1");
        assertThatAllTagsAreWhole(repoKey("other"), "x");
    }

    @Test
    void aSweepThatStoppedAfterBeginningABlobIsFinishedByTheNext() throws Exception {
        TestImage v1 = TestImage.builder(30).layer(8_000).build();
        upstream.pusher().pushImage("crash", "1", v1);
        mirrorTag("crash:1");
        TestImage v2 = TestImage.builder(31).layer(9_000).build();
        upstream.pusher().pushImage("crash", "1", v2);
        mirrorTag("crash:1");
        clock.advance(Duration.ofHours(25));
        String repo = repoKey("crash");
        // The first sweep got as far as the record of one blob, then stopped (the killed process
        // is in the local e2e test; here the steps are taken one by one).
        assertThat(metadata.deleteManifestIfDangling(repo, Digest.parse(v1.digest()), clock.instant())).isTrue();
        Digest layer = Digest.parse(v1.layers().get(0).digest());
        assertThat(metadata.beginBlobSweep(layer, clock.instant())).isTrue();
        assertThat(blobs.exists(layer)).isTrue();

        Recorded next = new Recorded();
        sweeper.run(Sweeper.DEFAULT_GRACE, false, 100, next);
        Set<String> v1Content = digests(v1);
        v1Content.add(v1.digest());
        assertThat(next.blobs).containsExactlyInAnyOrderElementsOf(v1Content);
        assertThat(blobs.exists(layer)).isFalse();
        assertThat(metadata.listBlobSweeps(10, null).items()).isEmpty();
        assertThatAllTagsAreWhole(repo, "1");
    }

    @Test
    void manifestBytesStayWhileAnyRepositoryRecordsThemAndAReMirrorDuringTheirSweepRecordsThemAgain()
            throws Exception {
        TestImage img = TestImage.builder(45).layer(6_500).build();
        Digest d = Digest.parse(img.digest());
        upstream.pusher().pushImage("share-a", "1", img);
        upstream.pusher().pushImage("share-b", "1", img);
        mirrorTag("share-a:1");
        mirrorTag("share-b:1");
        String a = repoKey("share-a");
        String b = repoKey("share-b");
        metadata.deleteTag(a, "1", d, "rm");
        clock.advance(Duration.ofHours(25));
        Recorded first = new Recorded();
        sweeper.run(Sweeper.DEFAULT_GRACE, false, 10, first);
        assertThat(first.manifests).containsExactly(a + "@" + d);
        assertThat(first.blobs).isEmpty(); // share-b still records the manifest and its blobs
        assertThat(manifests.exists(d)).isTrue();

        // share-b's record goes too, and a sweep begins on the bytes (then stops: a crash)
        metadata.deleteTag(b, "1", d, "rm");
        assertThat(metadata.deleteManifestIfDangling(b, d, clock.instant().plusSeconds(1))).isTrue();
        clock.advance(Duration.ofHours(25));
        assertThat(metadata.beginBlobSweep(d, clock.instant())).isTrue();
        // a mirror now cannot record it while it is being swept (retryable), and loses nothing
        assertThatThrownBy(() -> mirrorTag("share-b:1")).isInstanceOf(io.imagemirror.mirror.MirrorException.class)
                .hasRootCauseInstanceOf(io.imagemirror.store.SweptBlobException.class);
        assertThat(metadata.getManifest(b, d)).isEmpty();
        Recorded next = new Recorded();
        sweeper.run(Sweeper.DEFAULT_GRACE, false, 10, next);
        assertThat(next.blobs).contains(d.toString());
        assertThat(manifests.exists(d)).isFalse();
        // the mirror after the sweep records the bytes anew (the tombstone refused only the racing write)
        mirrorTag("share-b:1");
        assertThatAllTagsAreWhole(b, "1");
        Recorded after = new Recorded();
        sweeper.run(Duration.ZERO, false, 10, after);
        assertThat(after.blobs).doesNotContain(d.toString());
        assertThatAllTagsAreWhole(b, "1");
    }

    @Test
    void aBlobBegunWhileAManifestListedItIsKept() throws Exception {
        TestImage v1 = TestImage.builder(40).layer(8_000).build();
        upstream.pusher().pushImage("kept", "1", v1);
        mirrorTag("kept:1");
        Digest layer = Digest.parse(v1.layers().get(0).digest());
        clock.advance(Duration.ofHours(25));
        assertThat(metadata.beginBlobSweep(layer, clock.instant())).isTrue();
        Recorded next = new Recorded();
        sweeper.run(Sweeper.DEFAULT_GRACE, false, 100, next);
        assertThat(next.blobs).isEmpty();
        assertThat(metadata.getBlobRecord(layer)).isPresent();
        assertThatAllTagsAreWhole(repoKey("kept"), "1");
    }

    @Test
    void mirrorsRacingASweeperWithZeroGraceLoseNothingTheyReference() throws Exception {
        TestImage.Blob base = TestImage.layer(5, 30_000);
        List<TestImage> images = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            images.add(TestImage.builder(50 + i).layer(base).layer(2_000 + i).build());
        }
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger sweeps = new AtomicInteger();
        CompletableFuture<Void> sweeping = CompletableFuture.runAsync(() -> {
            while (!stop.get() || sweeps.get() < 3) {
                sweeper.run(Duration.ZERO, false, 3, Sweeper.Listener.NONE);
                sweeps.incrementAndGet();
                // Sweeps back to back, paced like a very eager schedule (every 10 ms): a copy can
                // still lose to one, but not to an unbroken stream of them.
                java.util.concurrent.locks.LockSupport.parkNanos(10_000_000L);
            }
        });
        // At zero grace a sweep may take a blob or a fresh manifest a copy is about to reference:
        // the copy then starts again, and after its attempts fails with a retryable error naming
        // the swept blob (or manifest). What must never happen is a recorded tag missing anything.
        int copied = 0;
        int lost = 0;
        for (int round = 0; round < 12; round++) {
            for (int t = 0; t < 2; t++) {
                TestImage img = images.get((round + t * 2) % images.size());
                upstream.pusher().pushImage("race" + t, "latest", img);
                try {
                    mirrorTag("race" + t + ":latest");
                    copied++;
                } catch (io.imagemirror.mirror.MirrorException e) {
                    assertThat(org.assertj.core.util.Throwables.getRootCause(e)).isInstanceOfAny(
                            io.imagemirror.store.SweptBlobException.class,
                            io.imagemirror.store.MissingManifestException.class);
                    lost++;
                }
                if (metadata.getTag(repoKey("race" + t), "latest").isPresent()) {
                    assertThatAllTagsAreWhole(repoKey("race" + t), "latest");
                }
            }
        }
        stop.set(true);
        sweeping.join();
        assertThat(sweeps.get()).isGreaterThanOrEqualTo(3);
        assertThat(copied).as("copies that stuck (%d lost to the sweeper)", lost).isPositive();
        for (int t = 0; t < 2; t++) {
            if (metadata.getTag(repoKey("race" + t), "latest").isPresent()) {
                assertThatAllTagsAreWhole(repoKey("race" + t), "latest");
            }
        }
        // and a last sweep after the race leaves them whole too
        sweeper.run(Duration.ZERO, false, 3, Sweeper.Listener.NONE);
        for (int t = 0; t < 2; t++) {
            if (metadata.getTag(repoKey("race" + t), "latest").isPresent()) {
                assertThatAllTagsAreWhole(repoKey("race" + t), "latest");
            }
        }
    }

    /** The tag's manifest is recorded with its bytes, and every blob it lists is stored and live. */
    private void assertThatAllTagsAreWhole(String repo, String tag) throws Exception {
        TagRecord t = metadata.getTag(repo, tag).orElseThrow();
        List<Digest> todo = new ArrayList<>(List.of(t.digest()));
        while (!todo.isEmpty()) {
            Digest d = todo.remove(0);
            ManifestRecord m = metadata.getManifest(repo, d).orElseThrow(() -> new AssertionError("missing " + d));
            assertThat(manifests.exists(d)).as("manifest bytes " + d).isTrue();
            todo.addAll(m.mirroredChildDigests());
            for (Digest b : m.blobDigests()) {
                try (BlobStore.Content c = blobs.open(b).orElseThrow(() -> new AssertionError("blob gone " + b));
                     InputStream in = c.stream()) {
                    assertThat(Digest.sha256(in.readAllBytes())).isEqualTo(b);
                }
                assertThat(metadata.isReferenced(b)).isTrue();
            }
        }
    }
}
