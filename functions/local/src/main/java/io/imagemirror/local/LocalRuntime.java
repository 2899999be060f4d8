package io.imagemirror.local;

import io.imagemirror.metrics.Metrics;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.imagemirror.api.ApiErrors;
import io.imagemirror.api.ApiHandler;
import io.imagemirror.api.ApiResponse;
import io.imagemirror.api.DistributionApi;
import io.imagemirror.api.MirrorApi;
import io.imagemirror.cache.NameRouter;
import io.imagemirror.cache.PullThroughCache;
import io.imagemirror.config.ConfigException;
import io.imagemirror.config.MirrorConfig;
import io.imagemirror.jobs.MirrorJobs;
import io.imagemirror.listing.MirrorViews;
import io.imagemirror.local.http.UiPages;
import io.imagemirror.jobs.JobQueue;
import io.imagemirror.mirror.BlobFills;
import io.imagemirror.mirror.FillLeases;
import io.imagemirror.upstream.QuotaLedger;
import io.imagemirror.mirror.ImageMirror;
import io.imagemirror.oci.ErrorCode;
import io.imagemirror.store.Storage;
import io.imagemirror.sync.SyncListener;
import io.imagemirror.sync.SyncPlanner;
import io.imagemirror.sync.SyncRules;
import io.imagemirror.sync.SyncRun;
import io.imagemirror.upstream.CredentialStore;
import io.imagemirror.upstream.DockerConfigCredentials;
import io.imagemirror.upstream.RegistryClient;
import io.imagemirror.upstream.RetryPolicy;
import io.imagemirror.upstream.Upstreams;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything one local process needs, wired once: configuration, storage, upstream clients, the
 * copy engine, jobs (run in this process), the pull-through cache and the HTTP routes. Closing it
 * stops the executors and closes the storage.
 */
public final class LocalRuntime implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LocalRuntime.class);

    private final MirrorConfig config;
    private final Storage storage;
    private final ExecutorService blobPool;
    private final ExecutorService background;
    /**
     * Runs the queued jobs. Apart from {@link #background}: a job waits for the copies it starts;
     * sharing a pool with what it waits for, as many jobs as it has threads held them all for ever.
     */
    private final ExecutorService jobPool;
    /**
     * Runs the blob fills, and nothing else: a fill waits only for its upstream, while jobs, copies
     * and the recordings of pulls ({@link #background}) wait for fills. On the pool of any of those,
     * enough of them at once would hold every thread while the fills they wait for queue behind them.
     */
    private final ExecutorService fillPool;
    private final BlobFills fills;
    private final FillLeases leases;
    private final ImageMirror mirror;
    private final MirrorJobs jobs;
    private final java.util.concurrent.ScheduledExecutorService sweepTimer =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(named("sweep"));
    private final PullThroughCache cache;
    private final Clock clock;
    private final io.imagemirror.sweep.SweepService sweeps;
    private final Upstreams upstreams;
    private final ScheduledExecutorService syncTimer;
    private final Metrics metrics;

    /**
     * @param spoolDir where cold blobs are spooled while served (inside the data directory for the
     *     local store), or null to stream fills straight into the store
     */
    public LocalRuntime(MirrorConfig config, Storage storage, Path spoolDir, Clock clock) {
        this(config, storage, spoolDir, clock, Metrics.NONE);
    }

    /** @param metrics what the engine reports to ({@code serve}'s {@code /metrics}) */
    public LocalRuntime(MirrorConfig config, Storage storage, Path spoolDir, Clock clock, Metrics metrics) {
        this.metrics = metrics;
        this.config = config;
        this.storage = storage;
        this.clock = clock;
        this.blobPool = Executors.newFixedThreadPool(config.parallelism(), named("copy"));
        this.background = Executors.newFixedThreadPool(Math.max(4, config.parallelism()), named("background"));
        this.jobPool = Executors.newFixedThreadPool(Math.max(4, config.parallelism()), named("job"));
        this.fillPool = Executors.newFixedThreadPool(Math.max(8, 2 * config.parallelism()), named("fill"));
        // On the local store the ledger and leases live in this process (it holds the data directory);
        // on the aws store they are the table's, shared with the Lambdas and other serve replicas.
        this.upstreams = new Upstreams(config.toUpstreamList(), credentials(config), RegistryClient.defaultHttpClient(),
                clock, RetryPolicy.defaults(), config.largeBlobs(), new QuotaLedger(storage.upstreamLedger(), clock,
                        QuotaLedger.DEFAULT_FLUSH_EVERY, LOG::warn), metrics);
        this.syncTimer = Executors.newSingleThreadScheduledExecutor(named("sync"));
        this.leases = new FillLeases(storage.leases(), config.fills(), clock, LOG::info);
        this.fills = new BlobFills(storage.blobs(), storage.blobIndex(), spoolDir, fillPool, leases, metrics);
        this.mirror = new ImageMirror(upstreams, storage, blobPool, clock, fills);
        this.jobs = new MirrorJobs(mirror, upstreams, storage.jobs(), new JobQueue() {
            @Override
            public void send(String id) {
                jobPool.execute(() -> runJob(id));
            }

            @Override
            public void sendLater(String id, Duration delay) {
                syncTimer.schedule(() -> send(id), delay.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            }
        }, clock, config.syncQuotaFloor(), null, metrics);
        this.cache = new PullThroughCache(upstreams, fills, storage, config.tagTtl(), background, clock, LOG::warn,
                PullThroughCache.inBackground(mirror, background, LOG::warn), PullThroughCache.ColdBlobs.STORE_FIRST,
                metrics);
        this.sweeps = new io.imagemirror.sweep.SweepService(storage, config.sweep(),
                io.imagemirror.sweep.Retention.of(config.sweep().retention(),
                        io.imagemirror.sweep.Retention.rules(syncRules(), config.rules())), clock, metrics);
    }

    public io.imagemirror.sweep.SweepService sweeps() {
        return sweeps;
    }

    /**
     * Runs the sweeper on the configured schedule ({@code sweep.schedule}) until closed: what
     * {@code serve} does. A failed sweep is logged; the next one finishes its work.
     */
    public void startSweepTimer() {
        io.imagemirror.sync.Schedule schedule = config.sweep().schedule();
        // A rate's first sweep comes one period after the start, a cron's at its next time.
        java.util.Optional<java.time.Instant> first = schedule.nextAfter(clock.instant());
        first.ifPresent(this::scheduleSweep);
    }

    private void scheduleSweep(java.time.Instant at) {
        long delay = Math.max(0, Duration.between(clock.instant(), at).toMillis());
        sweepTimer.schedule(() -> {
            try {
                io.imagemirror.sweep.SweepReport r = sweeps.scheduledSweep(io.imagemirror.sweep.Sweeper.Listener.NONE);
                LOG.info("sweep: {} manifests, {} blobs deleted, {} bytes reclaimed in {} ms", r.manifestsDeleted(),
                        r.blobsDeleted(), r.bytesReclaimed(), r.duration().toMillis());
            } catch (RuntimeException e) {
                LOG.warn("sweep failed (the next one finishes its work): {}", e.getMessage());
            }
            config.sweep().schedule().nextAfter(at.isAfter(clock.instant()) ? at : clock.instant())
                    .ifPresent(this::scheduleSweep);
        }, delay, java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    private void runJob(String id) {
        try {
            jobs.run(id);
        } catch (Exception e) {
            // recorded on the job; the local queue does not retry
            LOG.warn("job {} failed: {}", id, e.getMessage());
        }
    }

    private static CredentialStore credentials(MirrorConfig config) {
        if (!config.dockerConfig()) {
            return CredentialStore.none();
        }
        Path file = DockerConfigCredentials.defaultLocation(System.getenv(), Path.of(System.getProperty("user.home")));
        if (!Files.isRegularFile(file)) {
            return CredentialStore.none();
        }
        try {
            return DockerConfigCredentials.read(file);
        } catch (IOException e) {
            LOG.warn("ignoring {}: {}", file, e.getMessage());
            return CredentialStore.none();
        }
    }

    private static ThreadFactory named(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /**
     * Reads a YAML (or JSON) configuration file; {@code ${VAR}} is taken from the environment.
     *
     * @throws ConfigException naming the file and what is wrong
     */
    public static MirrorConfig readConfig(Path file, Map<String, String> env) {
        JsonNode tree;
        try {
            tree = new ObjectMapper(new YAMLFactory()).readTree(file.toFile());
        } catch (IOException e) {
            throw new ConfigException(file + ": " + e.getMessage(), e);
        }
        try {
            return MirrorConfig.fromTree(tree, env::get);
        } catch (ConfigException | io.imagemirror.sync.InvalidRuleException e) {
            throw new ConfigException(file + ": " + e.getMessage(), e);
        }
    }

    public MirrorConfig config() {
        return config;
    }

    /** The blob fills the mirror and the cache share (one upstream fetch per blob in this process). */
    public BlobFills fills() {
        return fills;
    }

    public ImageMirror mirror() {
        return mirror;
    }

    public MirrorJobs jobs() {
        return jobs;
    }

    public PullThroughCache cache() {
        return cache;
    }

    public Storage storage() {
        return storage;
    }

    public Upstreams upstreams() {
        return upstreams;
    }

    // ---- sync rules ----

    /** The stored sync rules and their runs. */
    public SyncRules syncRules() {
        return new SyncRules(storage.rules(), storage.jobs(), new NameRouter(config));
    }

    /** A sync planner that queues its copy jobs through {@code copyJobs}. */
    public SyncPlanner planner(MirrorJobs copyJobs) {
        return new SyncPlanner(syncRules(), storage.rules(), storage.tagIndex(), upstreams, copyJobs,
                config.syncQuotaFloor(), clock, metrics);
    }

    /**
     * Applies the configuration file's {@code rules:} to the store, which is what the planner reads:
     * each is created or updated; a stored rule the file does not name is left alone (rules may come
     * from {@code /v1/rules} too; {@code rules apply --prune} removes them).
     */
    public Map<String, SyncRules.Change> applyConfigRules() {
        return syncRules().apply(config.rules(), false);
    }

    /**
     * Runs a planner pass every {@code every} on this runtime's own timer; its copy jobs run on the
     * job executor like every other job ({@code serve}). Stops when the runtime closes.
     */
    public void startSyncTimer(Duration every) {
        SyncPlanner planner = planner(jobs);
        syncTimer.scheduleWithFixedDelay(() -> {
            try {
                planner.runDue(SyncListener.NONE).stream().filter(SyncRun::hasFailures).forEach(run ->
                        LOG.warn("sync rule {}: {}", run.rule(), run.error() != null ? run.error()
                                : run.failed().size() + " tag(s) failed"));
            } catch (RuntimeException e) {
                // a store or upstream fault ends this pass only; the next tick tries again
                LOG.warn("sync planner pass failed: {}", e.getMessage());
            }
        }, 0, every.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    /**
     * The HTTP routes of {@code serve}: {@code /v2} (read-only registry), {@code /v1} (mirror jobs, sync
     * rules and running one now, the read-only views) and {@code /ui/} (a page over those views).
     * Writes to {@code /v1} are allowed only on a loopback listener or with the configured bearer token.
     */
    public ApiHandler routes(boolean loopbackListener) {
        NameRouter names = new NameRouter(config);
        DistributionApi registry = new DistributionApi(cache, storage.blobs(), names, false, Duration.ofMinutes(15),
                metrics);
        MirrorApi mirrorApi = new MirrorApi(jobs, names, new SyncRules(storage.rules(), storage.jobs(), names),
                new MirrorViews(storage, names)).withSweeps(sweeps)
                .withUpstreams(upstreams, config.syncQuotaFloor(), clock)
                // POST /v1/rules/<name>/runs: copy jobs on the job executor, as the timer's are
                .withPlanner(planner(jobs));
        String token = config.serveToken();
        UiPages ui = new UiPages();
        return request -> {
            if (DistributionApi.handles(request.path())) {
                return registry.handle(request);
            }
            if (UiPages.handles(request.path())) {
                return ui.handle(request);
            }
            if (MirrorApi.handles(request.path())) {
                if (!request.isRead() && !loopbackListener) {
                    Optional<String> auth = request.header("Authorization");
                    if (token == null || auth.isEmpty() || !constantTimeEquals(auth.get(), "Bearer " + token)) {
                        return ApiErrors.of(401, ErrorCode.UNAUTHORIZED, token == null
                                ? "write routes need a loopback listener or serveToken in the configuration"
                                : "write routes need Authorization: Bearer <serveToken>")
                                .header("WWW-Authenticate", "Bearer realm=\"image-mirror\"");
                    }
                }
                return mirrorApi.handle(request);
            }
            return ApiResponse.json(404, "{\"errors\":[{\"code\":\"NAME_UNKNOWN\",\"message\":\"no route "
                    + request.path().replace("\"", "") + "\",\"detail\":null}]}");
        };
    }

    private static boolean constantTimeEquals(String a, String b) {
        return java.security.MessageDigest.isEqual(a.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                b.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /** Where a log line of the server goes. */
    public static Consumer<String> accessLog() {
        Logger access = LoggerFactory.getLogger("access");
        return access::info;
    }

    @Override
    public void close() {
        sweepTimer.shutdownNow();
        syncTimer.shutdownNow();
        leases.close();
        jobPool.shutdownNow();
        blobPool.shutdownNow();
        background.shutdownNow();
        fillPool.shutdownNow();
        // Copies cancelled by a failed mirror are interrupted, not ended: let them reach the finally
        // that removes their part file before the process exits (the next open clears what is left).
        try {
            jobPool.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS);
            blobPool.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS);
            background.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
            fillPool.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        storage.close();
    }
}
