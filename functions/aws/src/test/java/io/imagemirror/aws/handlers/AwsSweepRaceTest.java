package io.imagemirror.aws.handlers;

import static org.assertj.core.api.Assertions.assertThat;

import io.imagemirror.aws.AwsFixture;
import io.imagemirror.aws.AwsWithUpstream;
import io.imagemirror.aws.AwsWiring;
import io.imagemirror.mirror.ImageMirror;
import io.imagemirror.mirror.MirrorException;
import io.imagemirror.mirror.MirrorListener;
import io.imagemirror.mirror.MirrorRequest;
import io.imagemirror.mirror.UpstreamRequestCounter;
import io.imagemirror.oci.Digest;
import io.imagemirror.reference.ImageReference;
import io.imagemirror.store.BlobStore;
import io.imagemirror.store.Cause;
import io.imagemirror.store.ManifestRecord;
import io.imagemirror.store.MissingManifestException;
import io.imagemirror.store.Storage;
import io.imagemirror.store.SweptBlobException;
import io.imagemirror.store.TagRecord;
import io.imagemirror.sweep.Sweeper;
import io.imagemirror.testbed.LocalRegistry;
import io.imagemirror.testbed.TestImage;
import io.imagemirror.upstream.RetryPolicy;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.assertj.core.util.Throwables;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Mirrors of images sharing layers while the sweeper loops with a zero grace period, on s3proxy +
 * dynoxide: every recorded tag stays whole (its blobs stored, byte-identical, and live).
 */
class AwsSweepRaceTest {

    @TempDir
    Path tmp;
    LocalRegistry upstream;
    AwsFixture aws;
    AwsWiring wiring;
    AwsWithUpstream env;

    @BeforeEach
    void start() {
        env = AwsWithUpstream.start(tmp, "sweeprace", null, new UpstreamRequestCounter());
        upstream = env.upstream();
        aws = env.aws();
        wiring = env.wiring();
    }

    @AfterEach
    void stop() {
        env.close();
    }

    /** With 60 layers of its own an image is recorded in steps (more than one transaction holds). */
    @ParameterizedTest(name = "{0} layers of its own")
    @ValueSource(ints = {1, 60})
    void mirrorsRacingAZeroGraceSweeperLoseNothingTheyReference(int ownLayers) throws Exception {
        Storage storage = wiring.storage();
        Sweeper sweeper = new Sweeper(storage, Clock.systemUTC());
        // The production schedule (10 attempts) with waits of milliseconds: against a sweeper that runs
        // all along, a wait makes no attempt likelier to stick, and the default's (up to 8.5 s per lost
        // copy) made most of this test's minutes.
        ImageMirror mirror = wiring.mirror().withSweepRaceRetries(new RetryPolicy(RetryPolicy.sweepRaces().maxAttempts(),
                Duration.ofMillis(2), Duration.ofMillis(20), Duration.ofSeconds(1), RetryPolicy.Sleeper.real(), () -> 1));
        TestImage.Blob base = TestImage.layer(7, 20_000);
        List<TestImage> images = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            TestImage.Builder b = TestImage.builder(90 + i).layer(base);
            for (int l = 0; l < ownLayers; l++) {
                b.layer(1_000 + i * 100 + l);
            }
            images.add(b.build());
        }
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger sweeps = new AtomicInteger();
        CompletableFuture<Void> sweeping = CompletableFuture.runAsync(() -> {
            while (!stop.get() || sweeps.get() < 2) {
                sweeper.run(Duration.ZERO, false, 5, Sweeper.Listener.NONE);
                sweeps.incrementAndGet();
                // Paced like SweeperTest's race (a very eager schedule, every 10 ms): a copy still loses
                // to sweeps, but not to an unbroken stream of them that also keeps the table busy.
                java.util.concurrent.locks.LockSupport.parkNanos(10_000_000L);
            }
        });
        int copied = 0;
        int lost = 0;
        for (int round = 0; round < 6; round++) {
            for (int t = 0; t < 2; t++) {
                upstream.pusher().pushImage("library/race" + t, "latest", images.get((round + t) % images.size()));
                try {
                    mirror.mirror(MirrorRequest.of(ImageReference.parse("race" + t + ":latest"), Cause.CLI),
                            MirrorListener.NONE);
                    copied++;
                } catch (MirrorException e) {
                    assertThat(Throwables.getRootCause(e)).isInstanceOfAny(SweptBlobException.class,
                            MissingManifestException.class);
                    lost++;
                }
                whole(storage, "docker.io/library/race" + t);
            }
        }
        stop.set(true);
        sweeping.join();
        assertThat(copied).as("copies that stuck (%d lost to the sweeper)", lost).isPositive();
        sweeper.run(Duration.ZERO, false, 5, Sweeper.Listener.NONE);
        for (int t = 0; t < 2; t++) {
            whole(storage, "docker.io/library/race" + t);
        }
    }

    private static void whole(Storage storage, String repo) throws Exception {
        TagRecord tag = storage.tagIndex().getTag(repo, "latest").orElse(null);
        if (tag == null) {
            return;
        }
        ManifestRecord m = storage.manifestIndex().getManifest(repo, tag.digest()).orElseThrow();
        assertThat(storage.manifests().exists(tag.digest())).isTrue();
        for (Digest b : m.blobDigests()) {
            try (BlobStore.Content c = storage.blobs().open(b).orElseThrow(() -> new AssertionError("blob gone " + b));
                 InputStream in = c.stream()) {
                assertThat(Digest.sha256(in.readAllBytes())).isEqualTo(b);
            }
            assertThat(storage.blobIndex().isReferenced(b)).isTrue();
        }
    }
}
