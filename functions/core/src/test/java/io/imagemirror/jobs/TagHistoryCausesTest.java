package io.imagemirror.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.imagemirror.api.ApiRequest;
import io.imagemirror.api.ApiResponse;
import io.imagemirror.api.MirrorApi;
import io.imagemirror.cache.NameRouter;
import io.imagemirror.cache.PullThroughCache;
import io.imagemirror.cache.Target;
import io.imagemirror.config.MirrorConfig;
import io.imagemirror.mirror.BlobFills;
import io.imagemirror.mirror.MirrorListener;
import io.imagemirror.mirror.MirrorRequest;
import io.imagemirror.mirror.MirrorTestBase;
import io.imagemirror.oci.Digest;
import io.imagemirror.reference.RepositoryName;
import io.imagemirror.store.Cause;
import io.imagemirror.store.Job;
import io.imagemirror.store.TagEvent;
import io.imagemirror.testbed.TestImage;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every entry point that moves a tag says so in its history, over the in-memory stores: the
 * {@code /v1} API through a queued job, the engine as the CLI calls it, and a pull through the
 * cache, recorded in this process or through a queued job (as on Lambda).
 */
class TagHistoryCausesTest extends MirrorTestBase {

    final List<String> queued = new CopyOnWriteArrayList<>();
    final List<String> log = new CopyOnWriteArrayList<>();
    ExecutorService background;
    MirrorJobs jobs;

    @BeforeEach
    void wire() {
        background = Executors.newFixedThreadPool(2);
        jobs = new MirrorJobs(mirror, upstreams, metadata, queued::add, Clock.systemUTC());
    }

    @AfterEach
    void stopBackground() {
        background.shutdownNow();
    }

    BlobFills fills() {
        return new BlobFills(blobs, metadata, null, background);
    }

    List<String> causes(String repo, String tag) {
        return metadata.tagHistory(repoKey(repo), tag, 10, null).items().stream().map(TagEvent::cause).toList();
    }

    ApiResponse post(String body) throws Exception {
        NameRouter names = new NameRouter(MirrorConfig.defaults().withUpstream(new MirrorConfig.UpstreamConfig(
                upstream.hostPort(), URI.create(upstream.url().toString()), true, null, null, null, Set.of())));
        return new MirrorApi(jobs, names, new io.imagemirror.sync.SyncRules(metadata, metadata, names)).handle(new ApiRequest("POST", "/v1/mirror", Map.of(),
                Map.of("Content-Type", List.of("application/json")),
                new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8)), false));
    }

    /** Runs what the queue holds, as a worker would. */
    void drainQueue() throws Exception {
        for (String id : queued) {
            assertThat(jobs.run(id)).isEqualTo(MirrorJobs.Outcome.SUCCEEDED);
        }
        queued.clear();
    }

    @Test
    void aMirrorOverTheApiSaysApi() throws Exception {
        upstream.pusher().pushImage("cause/api", "1", TestImage.builder(1).build());
        assertThat(post("{\"image\":\"" + ref("cause/api:1") + "\"}").status()).isEqualTo(202);
        drainQueue();
        assertThat(causes("cause/api", "1")).containsExactly("api");
    }

    @Test
    void aMirrorAsTheCliAsksSaysCli() throws Exception {
        upstream.pusher().pushImage("cause/cli", "1", TestImage.builder(2).build());
        mirror.mirror(MirrorRequest.of(ref("cause/cli:1"), Cause.CLI), MirrorListener.NONE);
        assertThat(causes("cause/cli", "1")).containsExactly("cli");
    }

    @Test
    void aPullRecordedInThisProcessSaysPullThrough() throws Exception {
        upstream.pusher().pushImage("cause/pulled", "1", TestImage.builder(3).build());
        PullThroughCache cache = new PullThroughCache(mirror, upstreams, fills(), storage, Duration.ofMinutes(5),
                background, Clock.systemUTC(), log::add);
        cache.manifest(new Target(RepositoryName.of(upstream.hostPort(), "cause/pulled"), "cause/pulled"), "1");
        await().atMost(Duration.ofSeconds(30)).until(() -> !causes("cause/pulled", "1").isEmpty());
        assertThat(causes("cause/pulled", "1")).containsExactly("pull-through");
        assertThat(log).isEmpty();
    }

    @Test
    void aPullRecordedByAQueuedJobSaysPullThrough() throws Exception {
        upstream.pusher().pushImage("cause/queued", "1", TestImage.builder(4).build());
        PullThroughCache cache = new PullThroughCache(upstreams, fills(), storage, Duration.ofMinutes(5), background,
                Clock.systemUTC(), log::add, r -> jobs.submit(PullThroughRecording.of(r)),
                PullThroughCache.ColdBlobs.STORE_FIRST);
        cache.manifest(new Target(RepositoryName.of(upstream.hostPort(), "cause/queued"), "cause/queued"), "1");
        assertThat(queued).singleElement().satisfies(id -> assertThat(jobs.get(id).map(Job::kind))
                .hasValue(PullThroughRecording.KIND));
        drainQueue();
        assertThat(causes("cause/queued", "1")).containsExactly("pull-through");
    }

    @Test
    void aQueuedRecordingAlsoRecordsWhatTheCacheServedWhenTheTagMovedOnMeanwhile() throws Exception {
        TestImage served = TestImage.builder(7).build();
        TestImage moved = TestImage.builder(8).build();
        upstream.pusher().pushImage("cause/moving", "1", served);
        upstream.pusher().pushImage("cause/moving", "1", moved);
        Digest servedDigest = Digest.parse(served.digest());
        jobs.submit(new PullThroughRecording(ref("cause/moving:1"), RepositoryName.of(upstream.hostPort(),
                "cause/moving"), servedDigest));
        drainQueue();
        assertThat(metadata.getTag(repoKey("cause/moving"), "1")).hasValueSatisfying(
                t -> assertThat(t.digest().toString()).isEqualTo(moved.digest()));
        assertThat(causes("cause/moving", "1")).containsExactly("pull-through");
        assertThat(metadata.getManifest(repoKey("cause/moving"), servedDigest)).as("served, so recorded").isPresent();
    }

    @Test
    void includeNonDistributableSurvivesTheQueue() throws Exception {
        Digest skipped = pushForeign(5, "skipped");
        Digest copied = pushForeign(6, "copied");

        post("{\"image\":\"" + ref("cause/foreign:skipped") + "\"}");
        drainQueue();
        assertThat(blobs.exists(skipped)).as("recorded, not copied").isFalse();

        post("{\"image\":\"" + ref("cause/foreign:copied") + "\",\"includeNonDistributable\":true}");
        drainQueue();
        assertThat(blobs.exists(copied)).as("copied on request").isTrue();
        assertThat(causes("cause/foreign", "copied")).containsExactly("api");
    }

    /** Pushes an image whose one layer is non-distributable (with the URL such a layer names); returns the layer. */
    Digest pushForeign(long seed, String tag) {
        TestImage img = TestImage.builder(seed).build();
        TestImage.Blob config = img.config();
        TestImage.Blob layer = img.layers().get(0);
        upstream.pusher().pushBlob("cause/foreign", config.bytes());
        upstream.pusher().pushBlob("cause/foreign", layer.bytes());
        String manifest = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"config\":{\"mediaType\":\"" + config.mediaType() + "\",\"digest\":\"" + config.digest()
                + "\",\"size\":" + config.size() + "},\"layers\":[{\"mediaType\":"
                + "\"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip\",\"digest\":\"" + layer.digest()
                + "\",\"size\":" + layer.size() + ",\"urls\":[\"https://foreign.example.com/layer\"]}]}";
        upstream.pusher().pushManifest("cause/foreign", tag, "application/vnd.oci.image.manifest.v1+json",
                manifest.getBytes(StandardCharsets.UTF_8));
        return Digest.parse(layer.digest());
    }
}
