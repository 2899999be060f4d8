package io.imagemirror.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.imagemirror.mirror.BlobFills;
import io.imagemirror.mirror.ImageMirror;
import io.imagemirror.mirror.MirrorTestBase;
import io.imagemirror.oci.Digest;
import io.imagemirror.reference.RepositoryName;
import io.imagemirror.store.BlobStore;
import io.imagemirror.store.ManifestRecord;
import io.imagemirror.store.Page;
import io.imagemirror.testbed.TestImage;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Every manifest the pull-through cache stores ends with a record in the repository it was served
 * for, so listing and the sweeper see it. The background work runs when the test says, so the
 * interleavings are forced, not hoped for.
 */
class PullThroughRecordingTest extends MirrorTestBase {

    /** Runs what was handed to it only when told to (and what that work hands on, too). */
    static final class StepExecutor implements Executor {
        private final Queue<Runnable> queued = new ArrayDeque<>();

        @Override
        public synchronized void execute(Runnable r) {
            queued.add(r);
        }

        void runAll() {
            while (true) {
                Runnable next;
                synchronized (this) {
                    next = queued.poll();
                }
                if (next == null) {
                    return;
                }
                next.run();
            }
        }
    }

    final StepExecutor background = new StepExecutor();
    final List<String> log = new CopyOnWriteArrayList<>();

    PullThroughCache cache(PullThroughCache.Recorder recorder) {
        BlobFills fills = new BlobFills(blobs, metadata, null, pool);
        return new PullThroughCache(upstreams, fills, storage, Duration.ofMinutes(5), background, Clock.systemUTC(),
                log::add, recorder, PullThroughCache.ColdBlobs.STORE_FIRST);
    }

    PullThroughCache.Recorder recordInBackground() {
        return PullThroughCache.inBackground(new ImageMirror(upstreams, storage, pool, Clock.systemUTC(),
                new BlobFills(blobs, metadata, null, pool)), background, log::add);
    }

    Target target(String repository) {
        return new Target(RepositoryName.of(upstream.hostPort(), repository), repository);
    }

    /** Every manifest in the manifest store has a record in {@code repoKey}. */
    void assertEveryStoredManifestIsRecorded(String repoKey) {
        String token = null;
        do {
            Page<BlobStore.Info> page = manifests.list(100, token);
            for (BlobStore.Info i : page.items()) {
                assertThat(metadata.getManifest(repoKey, i.digest())).as("record of stored " + i.digest()).isPresent();
            }
            token = page.nextToken();
        } while (token != null);
    }

    @Test
    void aManifestServedForATagThatMovesBeforeItIsRecordedIsRecordedAnyway() throws Exception {
        TestImage first = TestImage.builder(41).build();
        upstream.pusher().pushImage("moving/app", "1", first);
        PullThroughCache cache = cache(recordInBackground());
        Target t = target("moving/app");

        PullThroughCache.ServedManifest served = cache.manifest(t, "1");
        assertThat(served.digest()).isEqualTo(Digest.parse(first.digest()));
        // the tag moves upstream before the background recording runs
        TestImage second = TestImage.builder(42).build();
        upstream.pusher().pushImage("moving/app", "1", second);
        background.runAll();

        String key = t.repositoryKey();
        assertThat(metadata.getTag(key, "1").orElseThrow().digest()).isEqualTo(Digest.parse(second.digest()));
        ManifestRecord old = metadata.getManifest(key, served.digest()).orElseThrow();
        assertThat(old.blobs()).hasSize(first.blobs().size());
        assertThat(metadata.listDangling(Instant.now().plus(Duration.ofDays(1)), 100, null).items())
                .extracting(ManifestRecord::digest).as("untagged and unpinned, so the sweeper may take it")
                .contains(served.digest());
        for (TestImage.Blob b : first.blobs()) {
            assertThat(blobs.exists(Digest.parse(b.digest()))).as("blob " + b.digest()).isTrue();
        }
        assertEveryStoredManifestIsRecorded(key);
        assertThat(log).isEmpty();
    }

    @Test
    void aStoredManifestWhoseRecordingWasLostIsRecordedWhenItIsServedAgain() throws Exception {
        TestImage img = TestImage.builder(43).build();
        upstream.pusher().pushImage("lost/app", "1", img);
        PullThroughCache.Recorder inner = recordInBackground();
        AtomicBoolean lostOne = new AtomicBoolean();
        PullThroughCache cache = cache(r -> {
            if (lostOne.compareAndSet(false, true)) {
                return; // the first recording is lost (a crashed process, a job that never ran)
            }
            inner.record(r);
        });
        Target t = target("lost/app");
        Digest d = Digest.parse(img.digest());

        assertThat(cache.manifest(t, "1").digest()).isEqualTo(d);
        background.runAll();
        assertThat(metadata.getManifest(t.repositoryKey(), d)).as("lost").isEmpty();
        assertThat(manifests.exists(d)).isTrue();

        assertThat(cache.manifest(t, "1").digest()).isEqualTo(d); // served from what is stored
        background.runAll();
        assertThat(metadata.getManifest(t.repositoryKey(), d)).isPresent();
        assertThat(metadata.getTag(t.repositoryKey(), "1").orElseThrow().digest()).isEqualTo(d);
        assertEveryStoredManifestIsRecorded(t.repositoryKey());
    }

    @Test
    void aManifestPulledByDigestIsRecordedWithAPin() throws Exception {
        TestImage img = TestImage.builder(44).build();
        upstream.pusher().pushImage("bydigest/app", "1", img);
        PullThroughCache cache = cache(recordInBackground());
        Target t = target("bydigest/app");
        Digest d = Digest.parse(img.digest());

        cache.manifest(t, d.toString());
        background.runAll();
        assertThat(metadata.getManifest(t.repositoryKey(), d)).isPresent();
        assertThat(metadata.listPins(t.repositoryKey(), 10, null).items()).singleElement()
                .satisfies(p -> assertThat(p.digest()).isEqualTo(d));
        assertEveryStoredManifestIsRecorded(t.repositoryKey());
    }
}
