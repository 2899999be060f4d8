package io.imagemirror.mirror;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.imagemirror.config.MirrorConfig;
import io.imagemirror.oci.Digest;
import io.imagemirror.reference.RepositoryName;
import io.imagemirror.testbed.TestImage;
import io.imagemirror.upstream.CredentialStore;
import io.imagemirror.upstream.RegistryClient;
import io.imagemirror.upstream.RetryPolicy;
import io.imagemirror.upstream.Upstreams;
import java.io.IOException;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import okhttp3.Interceptor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Two copies of one image at once in one process GET its manifest by digest once (Docker Hub
 * counts manifest GETs): the second joins the first's GET. The first GET is held at the network
 * until the second has joined it, so the overlap is certain, not a matter of timing. Counted as the
 * requests leave for the upstream (docker-registry).
 */
class SharedManifestGetTest extends MirrorTestBase {

    final CountDownLatch release = new CountDownLatch(1);
    final AtomicBoolean held = new AtomicBoolean();
    final ExecutorService callers = Executors.newFixedThreadPool(2);

    @AfterEach
    void stopCallers() {
        release.countDown();
        callers.shutdownNow();
    }

    /** Holds the first manifest GET by digest until released; with {@code failIt}, then fails it. */
    Interceptor holdFirstManifestGet(boolean failIt) {
        return chain -> {
            String path = chain.request().url().encodedPath();
            if (chain.request().method().equals("GET") && path.contains("/manifests/sha256:")
                    && held.compareAndSet(false, true)) {
                try {
                    if (!release.await(60, TimeUnit.SECONDS)) {
                        throw new IOException("never released");
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted", e);
                }
                if (failIt) {
                    throw new IOException("connection reset (injected)");
                }
            }
            return chain.proceed(chain.request());
        };
    }

    ImageMirror mirrorHolding(boolean failIt) {
        MirrorConfig config = MirrorConfig.defaults().withUpstream(new MirrorConfig.UpstreamConfig(
                upstream.hostPort(), URI.create(upstream.url().toString()), true, null, null, null, Set.of()));
        Upstreams ups = new Upstreams(config.toUpstreamList(), CredentialStore.none(),
                RegistryClient.defaultHttpClient().newBuilder().addNetworkInterceptor(requests)
                        .addNetworkInterceptor(holdFirstManifestGet(failIt)).build(),
                Clock.systemUTC(), RetryPolicy.defaults().withSleeper(d -> { }).withMaxAttempts(1));
        return new ImageMirror(ups, storage, pool, Clock.systemUTC());
    }

    /** Records {@code digest} of {@code repo} with {@code m} on a caller thread. */
    Future<?> copy(ImageMirror m, RepositoryName repo, Digest digest) {
        return callers.submit(() -> {
            m.recordManifest(repo, digest);
            return null;
        });
    }

    /** An image pushed to {@code repository}, and two copies of it that share one manifest GET. */
    record Joined(TestImage img, RepositoryName repo, Digest digest, Future<?> first, Future<?> second) {
    }

    /**
     * Pushes a one-layer image and starts two copies of it: the second once the first's GET is
     * held, returning once it has joined that GET; with {@code failIt} the held GET fails.
     */
    Joined twoCopiesJoined(int seed, String repository, boolean failIt) throws Exception {
        TestImage img = TestImage.builder(seed).layer(20_000).build();
        upstream.pusher().pushImage(repository, "1", img);
        ImageMirror m = mirrorHolding(failIt);
        RepositoryName repo = RepositoryName.of(upstream.hostPort(), repository);
        Digest digest = Digest.parse(img.digest());
        Future<?> first = copy(m, repo, digest);
        await().atMost(Duration.ofSeconds(30)).until(held::get);
        Future<?> second = copy(m, repo, digest);
        await().atMost(Duration.ofSeconds(30)).until(() -> m.manifestGetsShared() == 1);
        return new Joined(img, repo, digest, first, second);
    }

    long manifestGetsByDigest(String digest) {
        return requests.count("GET", s -> s.path().endsWith("/manifests/" + digest));
    }

    @Test
    void twoCopiesOfOneImageAtOnceGetItsManifestOnce() throws Exception {
        Joined j = twoCopiesJoined(801, "shared/app", false);
        release.countDown();
        j.first().get(60, TimeUnit.SECONDS);
        j.second().get(60, TimeUnit.SECONDS);

        assertThat(manifestGetsByDigest(j.img().digest())).as("one GET for both copies").isEqualTo(1);
        assertThat(metadata.getManifest(j.repo().toString(), j.digest())).isPresent();
        for (TestImage.Blob b : j.img().blobs()) {
            assertThat(blobs.exists(Digest.parse(b.digest()))).isTrue();
        }
    }

    @Test
    void aCopyWhoseJoinedGetFailedAsksOnItsOwn() throws Exception {
        Joined j = twoCopiesJoined(802, "shared/fails", true);
        release.countDown();

        assertThatThrownBy(() -> j.first().get(60, TimeUnit.SECONDS)).hasCauseInstanceOf(MirrorException.class)
                .hasMessageContaining("connection reset (injected)");
        j.second().get(60, TimeUnit.SECONDS);
        assertThat(manifestGetsByDigest(j.img().digest())).as("the failed GET and the second copy's own").isEqualTo(2);
        assertThat(metadata.getManifest(j.repo().toString(), j.digest())).isPresent();
    }

    @Test
    void aMirrorWithAnotherSweepRaceScheduleJoinsTheOriginalsGet() throws Exception {
        TestImage img = TestImage.builder(804).layer(20_000).build();
        upstream.pusher().pushImage("shared/schedule", "1", img);
        ImageMirror m = mirrorHolding(false);
        ImageMirror other = m.withSweepRaceRetries(RetryPolicy.sweepRaces().withMaxAttempts(2));
        RepositoryName repo = RepositoryName.of(upstream.hostPort(), "shared/schedule");
        Digest digest = Digest.parse(img.digest());

        Future<?> first = copy(m, repo, digest);
        await().atMost(Duration.ofSeconds(30)).until(held::get);
        Future<?> second = copy(other, repo, digest);
        await().atMost(Duration.ofSeconds(30)).until(() -> m.manifestGetsShared() == 1);
        release.countDown();
        first.get(60, TimeUnit.SECONDS);
        second.get(60, TimeUnit.SECONDS);

        assertThat(manifestGetsByDigest(img.digest())).as("one GET for both mirrors").isEqualTo(1);
        assertThat(other.manifestGetsShared()).isEqualTo(1);
    }

    @Test
    void theSameDigestInAnotherRepositoryIsAskedForThere() throws Exception {
        TestImage img = TestImage.builder(803).layer(20_000).build();
        upstream.pusher().pushImage("shared/one", "1", img);
        upstream.pusher().pushImage("shared/two", "1", img);
        ImageMirror m = mirrorHolding(false);
        Digest digest = Digest.parse(img.digest());

        Future<?> first = copy(m, RepositoryName.of(upstream.hostPort(), "shared/one"), digest);
        await().atMost(Duration.ofSeconds(30)).until(held::get);
        // Not joined: its own GET, in its own repository (it is not held: only the first one is).
        m.recordManifest(RepositoryName.of(upstream.hostPort(), "shared/two"), digest);
        assertThat(m.manifestGetsShared()).isZero();
        release.countDown();
        first.get(60, TimeUnit.SECONDS);

        assertThat(requests.count("GET", s -> s.path().endsWith("/shared/one/manifests/" + img.digest()))).isEqualTo(1);
        assertThat(requests.count("GET", s -> s.path().endsWith("/shared/two/manifests/" + img.digest()))).isEqualTo(1);
    }
}
