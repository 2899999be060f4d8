package io.imagemirror.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.imagemirror.api.ApiRequest;
import io.imagemirror.api.ApiResponse;
import io.imagemirror.api.MirrorApi;
import io.imagemirror.cache.NameRouter;
import io.imagemirror.cache.PullThroughCache;
import io.imagemirror.cache.Target;
import io.imagemirror.config.MirrorConfig;
import io.imagemirror.jobs.JobQueue;
import io.imagemirror.jobs.MirrorJobs;
import io.imagemirror.jobs.SyncCopy;
import io.imagemirror.mirror.BlobFills;
import io.imagemirror.mirror.ImageMirror;
import io.imagemirror.mirror.MirrorListener;
import io.imagemirror.oci.Digest;
import io.imagemirror.oci.MediaTypes;
import io.imagemirror.reference.ImageReference;
import io.imagemirror.reference.RepositoryName;
import io.imagemirror.store.Concurrently;
import io.imagemirror.store.InMemoryBlobStore;
import io.imagemirror.store.InMemoryIndex;
import io.imagemirror.store.InProcessCoordination;
import io.imagemirror.store.Job;
import io.imagemirror.store.JobStatus;
import io.imagemirror.store.Storage;
import io.imagemirror.store.UpstreamState;
import io.imagemirror.sync.Rule;
import io.imagemirror.sync.SyncListener;
import io.imagemirror.sync.SyncPlanner;
import io.imagemirror.sync.SyncRules;
import io.imagemirror.sync.SyncRun;
import java.net.InetAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import mockwebserver3.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

/**
 * The quota ledger shared by instances (each its own {@link Upstreams}, HTTP client and ledger, over
 * one store): observations converge on the newest whoever made them; below the floor sync planners
 * and copy jobs stop while pulls through the cache pass, and resume when the window resets; an
 * exhausted quota serves stored tags stale instead of asking upstream.
 */
class QuotaLedgerTest {

    private static final Duration SIX_HOURS = Duration.ofSeconds(21600);

    private final MockWebServer hubServer = new MockWebServer();
    private final FakeRegistry hub = FakeRegistry.registry();
    private final MutableClock clock = new MutableClock(Instant.parse("2026-12-02T01:00:00Z"));
    private final InProcessCoordination shared = new InProcessCoordination();
    private final ExecutorService pool = Executors.newCachedThreadPool();
    private final List<String> log = new CopyOnWriteArrayList<>();
    private Storage storage;
    private MirrorConfig config;

    /** One instance: its own HTTP client, ledger and engine over the shared storage. */
    private final class Instance {
        final Upstreams upstreams;
        final ImageMirror mirror;
        final PullThroughCache cache;
        final List<String> queued = new CopyOnWriteArrayList<>();
        final Map<String, Duration> deferred = new ConcurrentHashMap<>();
        final MirrorJobs jobs;
        final SyncPlanner planner;
        final SyncRules rules;

        Instance(Duration tagTtl) {
            upstreams = new Upstreams(config.toUpstreamList(), CredentialStore.none(),
                    RegistryClient.defaultHttpClient(), clock, RetryPolicy.none(),
                    new QuotaLedger(shared, clock, QuotaLedger.DEFAULT_FLUSH_EVERY, log::add));
            BlobFills fills = new BlobFills(storage.blobs(), storage.blobIndex(), null, pool);
            mirror = new ImageMirror(upstreams, storage, pool, clock, fills);
            // Recorded in the request's thread, so what upstream saw is settled when a pull returns.
            cache = new PullThroughCache(upstreams, fills, storage, tagTtl, pool, clock, log::add, r -> {
                try {
                    if (r.request() != null) {
                        mirror.mirror(r.request(), MirrorListener.NONE);
                    }
                    mirror.recordManifest(r.repository(), r.stored());
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, PullThroughCache.ColdBlobs.STORE_FIRST);
            jobs = new MirrorJobs(mirror, upstreams, storage.jobs(), new JobQueue() {
                @Override
                public void send(String jobId) {
                    queued.add(jobId);
                }

                @Override
                public void sendLater(String jobId, Duration delay) {
                    deferred.put(jobId, delay);
                }
            }, clock, 10);
            rules = new SyncRules(storage.rules(), storage.jobs(), new NameRouter(config));
            planner = new SyncPlanner(rules, storage.rules(), storage.tagIndex(), upstreams, jobs, 10, clock);
        }

        PullThroughCache.ServedManifest pull(String tag) throws Exception {
            return cache.manifest(new Target(RepositoryName.of("docker.io", "library/alpine"), "library/alpine"), tag);
        }
    }

    @BeforeEach
    void start() throws Exception {
        hubServer.setDispatcher(hub);
        hubServer.start(InetAddress.getByName("127.0.0.1"), 0);
        config = MirrorConfig.defaults().withUpstream(new MirrorConfig.UpstreamConfig("docker.io",
                URI.create("http://127.0.0.1:" + hubServer.getPort()), true, null, null, null, Set.of()));
        storage = Storage.of(new InMemoryBlobStore(), new InMemoryBlobStore(), new InMemoryIndex(clock), shared,
                List.of());
        hub.rateLimit = "100;w=21600";
    }

    @AfterEach
    void stop() {
        hubServer.close();
        pool.shutdownNow();
    }

    /** An image: a config blob and no layers, tagged {@code tag}. */
    private Digest image(String tag) {
        byte[] cfg = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"tag\":\"" + tag + "\"}")
                .getBytes(StandardCharsets.UTF_8);
        Digest c = hub.putBlob(cfg);
        String m = "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":{\"mediaType\":"
                + "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + c + "\",\"size\":" + cfg.length
                + "},\"layers\":[]}";
        return hub.putManifest("library/alpine", tag, MediaTypes.OCI_MANIFEST, m.getBytes(StandardCharsets.UTF_8));
    }

    private long manifestGets() {
        return hub.requests.stream().filter(r -> r.getMethod().equals("GET")
                && r.getUrl().encodedPath().contains("/manifests/")).count();
    }

    private static RateLimit quota(long remaining, Instant at) {
        return new RateLimit(100, remaining, SIX_HOURS, at);
    }

    @Test
    void twoInstancesThatSawDifferentRemainingCountsConvergeOnTheNewest() {
        QuotaLedger a = new QuotaLedger(shared, clock, Duration.ofSeconds(1), log::add);
        QuotaLedger b = new QuotaLedger(shared, clock, Duration.ofSeconds(1), log::add);
        Instant t0 = clock.instant();
        a.answered("docker.io", "GET", UpstreamObserver.Kind.MANIFEST, 200, Optional.of(quota(50, t0)));
        clock.advance(Duration.ofMillis(300));
        b.answered("docker.io", "GET", UpstreamObserver.Kind.MANIFEST, 200, Optional.of(quota(40, clock.instant())));
        // a's answer to an older request arrives late: it does not undo the newer count
        a.answered("docker.io", "HEAD", UpstreamObserver.Kind.MANIFEST, 200, Optional.of(quota(60, t0.minusMillis(5))));
        clock.advance(Duration.ofSeconds(2));
        a.flush();
        b.flush();
        assertThat(a.quota("docker.io")).map(RateLimit::remaining).contains(40L);
        assertThat(b.quota("docker.io")).map(RateLimit::remaining).contains(40L);
        UpstreamState s = shared.getUpstreamState("docker.io").orElseThrow();
        assertThat(s.remaining()).isEqualTo(40);
        assertThat(s.requests()).isEqualTo(3);
        assertThat(s.manifestGets()).isEqualTo(2);
    }

    @RepeatedTest(5)
    void racingInstancesLoseNoCountAndKeepTheNewestQuota() throws Exception {
        InProcessCoordination store = new InProcessCoordination();
        java.time.Clock real = java.time.Clock.systemUTC();
        List<QuotaLedger> ledgers = List.of(new QuotaLedger(store, real, Duration.ZERO, log::add),
                new QuotaLedger(store, real, Duration.ZERO, log::add));
        Instant base = Instant.parse("2026-12-02T00:00:00Z");
        int perThread = 50;
        Concurrently.run(8, i -> () -> {
            QuotaLedger mine = ledgers.get(i % 2);
            for (int k = 0; k < perThread; k++) {
                int n = i * perThread + k; // the newest observation is the one with the greatest n
                mine.answered("docker.io", "GET", UpstreamObserver.Kind.MANIFEST, 200,
                        Optional.of(new RateLimit(1000, 1000 - n, SIX_HOURS, base.plusMillis(n))));
            }
            return null;
        });
        ledgers.forEach(QuotaLedger::flush);
        UpstreamState s = store.getUpstreamState("docker.io").orElseThrow();
        assertThat(s.requests()).isEqualTo(8 * perThread);
        assertThat(s.remaining()).isEqualTo(1000 - (8 * perThread - 1));
        for (QuotaLedger l : ledgers) {
            assertThat(l.state("docker.io").remaining()).isEqualTo(1000 - (8 * perThread - 1));
        }
    }

    @Test
    void belowTheFloorSyncAndCopiesStopWhilePullsPassAndTheyResumeWhenTheWindowResets() throws Exception {
        image("3.20");
        image("3.21");
        Instance puller = new Instance(Duration.ofMinutes(5));
        Instance syncer = new Instance(Duration.ofMinutes(5));
        hub.rateRemaining = "5;w=21600";
        assertThat(puller.pull("3.20").mediaType()).isEqualTo(MediaTypes.OCI_MANIFEST);
        assertThat(shared.getUpstreamState("docker.io").orElseThrow().remaining()).isEqualTo(5);

        // The syncer's own answers carry no quota from here on: what it knows comes from the ledger.
        hub.rateLimit = null;
        Rule rule = syncer.rules.parse(new ObjectMapper().readTree(
                "{\"name\":\"alpine\",\"source\":\"alpine\",\"schedule\":\"rate(1 minute)\",\"tags\":{\"include\":[\"3.21\"]}}"));
        syncer.rules.put(rule);
        long getsBefore = manifestGets();
        SyncRun run = syncer.planner.run(List.of(rule), false, SyncListener.NONE).get(0);
        assertThat(run.deferred()).containsExactly("3.21");
        assertThat(syncer.queued).isEmpty();
        Job copy = syncer.jobs.submit(new SyncCopy("alpine", ImageReference.parse("docker.io/library/alpine:3.21"),
                List.of(), false, null));
        assertThat(syncer.jobs.run(copy.id())).isEqualTo(MirrorJobs.Outcome.DEFERRED);
        assertThat(syncer.deferred.get(copy.id())).isGreaterThan(Duration.ofHours(5)).isLessThanOrEqualTo(SIX_HOURS);
        assertThat(syncer.jobs.get(copy.id()).orElseThrow().status()).isEqualTo(JobStatus.QUEUED);
        assertThat(manifestGets()).as("no copy spent a pull").isEqualTo(getsBefore);

        // A pull through the cache keeps priority below the floor.
        assertThat(puller.pull("3.21").digest()).isNotNull();
        assertThat(manifestGets()).isGreaterThan(getsBefore);

        // The window resets: copies and sync run again.
        clock.advance(SIX_HOURS.plusSeconds(1));
        assertThat(syncer.jobs.run(copy.id())).isEqualTo(MirrorJobs.Outcome.SUCCEEDED);
        SyncRun after = syncer.planner.run(List.of(rule), false, SyncListener.NONE).get(0);
        assertThat(after.deferred()).isEmpty();
    }

    @Test
    void anExhaustedQuotaServesStoredTagsStaleWithoutAskingUpstream() throws Exception {
        Digest pinned = image("3.20");
        Instance first = new Instance(Duration.ZERO); // every pull re-validates
        hub.rateRemaining = "0;w=21600";
        assertThat(first.pull("3.20").digest()).isEqualTo(pinned);
        int requests = hub.requests.size();

        Instance other = new Instance(Duration.ZERO); // never talked to upstream itself
        PullThroughCache.ServedManifest stale = other.pull("3.20");
        assertThat(stale.digest()).isEqualTo(pinned);
        assertThat(first.pull("3.20").digest()).isEqualTo(pinned);
        assertThat(hub.requests).as("no request while the quota is exhausted").hasSize(requests);
        assertThat(log).anyMatch(l -> l.contains("library/alpine:3.20 stale at " + pinned)
                && l.contains("quota of docker.io is exhausted"));

        // /v1/upstreams shows it, from either instance, once the first has written its counts
        first.upstreams.quota().flush();
        MirrorApi api = new MirrorApi(other.jobs, new NameRouter(config)).withUpstreams(other.upstreams, 10, clock);
        ApiResponse r = api.handle(ApiRequest.of("GET", "/v1/upstreams", Map.of()));
        var json = new ObjectMapper().readTree(r.body());
        var hubState = json.path("upstreams").get(0);
        assertThat(hubState.path("name").asText()).isEqualTo("docker.io");
        assertThat(hubState.at("/quota/state").asText()).isEqualTo("exhausted");
        assertThat(hubState.at("/quota/limit").asLong()).isEqualTo(100);
        assertThat(hubState.at("/requests/manifestGets").asLong()).isGreaterThanOrEqualTo(1);

        // once the window has reset the tag is re-validated again (one HEAD)
        clock.advance(SIX_HOURS.plusSeconds(1));
        hub.rateRemaining = "99;w=21600";
        assertThat(other.pull("3.20").digest()).isEqualTo(pinned);
        assertThat(hub.requests.size()).isGreaterThan(requests);
        List<String> after = new ArrayList<>();
        hub.requests.subList(requests, hub.requests.size()).forEach(q -> after.add(q.getMethod()));
        assertThat(after).containsOnly("HEAD");
    }
}
