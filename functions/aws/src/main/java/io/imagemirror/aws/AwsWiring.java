package io.imagemirror.aws;

import io.imagemirror.api.DistributionApi;
import io.imagemirror.cache.NameRouter;
import io.imagemirror.sync.SyncPlanner;
import io.imagemirror.sync.SyncRules;
import io.imagemirror.cache.PullThroughCache;
import java.time.Duration;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.imagemirror.aws.handlers.LambdaLog;
import io.imagemirror.aws.metrics.EmfMetrics;
import io.imagemirror.aws.queue.SqsJobQueue;
import io.imagemirror.aws.secrets.SecretsManagerCredentials;
import io.imagemirror.aws.store.AwsClients;
import io.imagemirror.aws.store.AwsStorage;
import io.imagemirror.config.ConfigException;
import io.imagemirror.config.MirrorConfig;
import io.imagemirror.jobs.JobQueue;
import io.imagemirror.jobs.MirrorJobs;
import io.imagemirror.jobs.PullThroughRecording;
import io.imagemirror.mirror.BlobFills;
import io.imagemirror.mirror.FillLeases;
import io.imagemirror.upstream.QuotaLedger;
import io.imagemirror.mirror.ImageMirror;
import io.imagemirror.mirror.ResumableCopies;
import io.imagemirror.store.MultipartUploads;
import io.imagemirror.store.Storage;
import io.imagemirror.upstream.CredentialStore;
import io.imagemirror.upstream.RegistryClient;
import io.imagemirror.upstream.RetryPolicy;
import io.imagemirror.upstream.Upstreams;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.OkHttpClient;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * Everything a Lambda function of image-mirror works with, built once per execution environment
 * (the handlers' no-arg constructors use {@link #shared()}), from these environment variables:
 * <ul>
 *   <li>{@value #BUCKET}: the S3 bucket for blobs and manifests (required)</li>
 *   <li>{@value #TABLE}: the DynamoDB table (required)</li>
 *   <li>{@value #QUEUE_URL}: the SQS queue of copy jobs (required)</li>
 *   <li>{@value #CONFIG}: the {@link MirrorConfig} as JSON, the schema of the local YAML file
 *       (optional; unset means Docker Hub only, anonymously)</li>
 *   <li>{@value #CREDENTIALS_SECRET}: ARN of a Secrets Manager secret with upstream credentials,
 *       see {@link SecretsManagerCredentials} (optional)</li>
 * </ul>
 * plus the SDK's own ({@code AWS_REGION}, {@code AWS_ENDPOINT_URL_*}, credentials; see
 * {@link AwsClients}). Credentials configured on an upstream in the config win over the secret's.
 * The bucket and table must exist (the template creates them). Thread-safe once built.
 */
public final class AwsWiring implements AutoCloseable {

    public static final String BUCKET = "IMAGE_MIRROR_BUCKET";
    public static final String TABLE = "IMAGE_MIRROR_TABLE";
    public static final String QUEUE_URL = "IMAGE_MIRROR_QUEUE_URL";
    public static final String CONFIG = "IMAGE_MIRROR_CONFIG";
    public static final String CREDENTIALS_SECRET = "IMAGE_MIRROR_CREDENTIALS_SECRET";
    /** Every variable of image-mirror's own that the functions read (template.yaml sets each one). */
    public static final List<String> VARIABLES = List.of(BUCKET, TABLE, QUEUE_URL, CONFIG, CREDENTIALS_SECRET);

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Cold blobs up to this size are stored within the request (API Gateway allows 30 s). */
    static final long COLD_BLOB_IN_REQUEST = 32L << 20;
    /** How long a presigned blob URL stays valid. */
    static final Duration PRESIGN_TTL = Duration.ofMinutes(10);
    /** Blobs from this size on copy resumably: those the S3 store uploads in parts anyway. */
    static final long RESUMABLE_THRESHOLD = io.imagemirror.aws.store.S3BlobStore.DEFAULT_MULTIPART_THRESHOLD;
    private static AwsWiring shared;

    private final MirrorConfig config;
    private final NameRouter names;
    private final Storage storage;
    private final Upstreams upstreams;
    private final ExecutorService blobPool;
    /** Part uploads of resumable copies: apart from blobPool, whose tasks wait for their parts. */
    private final ExecutorService partPool;
    /** Ranged part fetches of resumable copies, ahead of the part being hashed. */
    private final ExecutorService fetchPool;
    private final ImageMirror mirror;
    private final BlobFills fills;
    private final FillLeases leases;
    private final MirrorJobs jobs;
    private final List<AutoCloseable> resources;
    private final Clock clock;
    private final EmfMetrics metrics;
    private DistributionApi registryApi;

    /**
     * Wires the engine over given ports.
     *
     * @param resources closed by {@link #close()} after the storage (e.g. the queue's client)
     */
    public AwsWiring(MirrorConfig config, Storage storage, CredentialStore credentials, JobQueue queue,
                     OkHttpClient http, Clock clock, List<AutoCloseable> resources) {
        this(config, storage, credentials, queue, http, clock, resources,
                new EmfMetrics(software.amazon.cloudwatchlogs.emf.environment.LambdaEnvironment::new));
    }

    /** @param metrics what the engine reports to, written as EMF lines at the end of each invocation */
    public AwsWiring(MirrorConfig config, Storage storage, CredentialStore credentials, JobQueue queue,
                     OkHttpClient http, Clock clock, List<AutoCloseable> resources, EmfMetrics metrics) {
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.config = Objects.requireNonNull(config, "config");
        this.names = new NameRouter(config);
        this.storage = Objects.requireNonNull(storage, "storage");
        this.resources = List.copyOf(resources);
        this.clock = Objects.requireNonNull(clock, "clock");
        // The quota ledger and the fill leases live in the table: every instance shares them.
        this.upstreams = new Upstreams(config.toUpstreamList(), credentials, http, clock, RetryPolicy.defaults(),
                config.largeBlobs(), new QuotaLedger(storage.upstreamLedger(), clock, QuotaLedger.DEFAULT_FLUSH_EVERY,
                LambdaLog::warn), metrics);
        this.blobPool = Executors.newFixedThreadPool(config.parallelism(), daemonThreads("blob-copy-"));
        this.leases = new FillLeases(storage.leases(), config.fills(), clock, LambdaLog::info);
        this.fills = new BlobFills(storage.blobs(), storage.blobIndex(), null, blobPool, leases, metrics);
        this.mirror = new ImageMirror(upstreams, storage, blobPool, clock, fills);
        this.partPool = Executors.newCachedThreadPool(daemonThreads("part-upload-"));
        this.fetchPool = Executors.newCachedThreadPool(daemonThreads("part-fetch-"));
        this.jobs = new MirrorJobs(mirror, upstreams, storage.jobs(), queue, clock, config.syncQuotaFloor(),
                resumableCopies(storage.blobs(), partPool, fetchPool, config.largeBlobs().parallelism()), metrics);
    }

    /**
     * Large blobs (those S3 takes in parts) copy resumably in the CopyWorker, so a layer that takes
     * longer than one invocation goes on in the next: parts of {@value ResumableCopies#DEFAULT_PART_SIZE}
     * bytes or more, {@value ResumableCopies#DEFAULT_PARTS_IN_FLIGHT} uploading at once per blob, and
     * {@code partsAtOnce} (config {@code largeBlobs.parallelism}, default 4; 1 turns it off) fetched
     * at once with ranged GETs where upstream honours {@code Range} (one connection to a CDN is often
     * slower than the function's network).
     * Their part buffers together stay within {@link #partBufferBudget} of the heap: large layers
     * beyond that wait for one another instead of exhausting the function's memory.
     */
    static ResumableCopies resumableCopies(io.imagemirror.store.BlobStore blobs, ExecutorService partPool,
                                           ExecutorService fetchPool, int partsAtOnce) {
        if (!(blobs instanceof MultipartUploads uploads)) {
            return null;
        }
        return new ResumableCopies(uploads, RESUMABLE_THRESHOLD, ResumableCopies.DEFAULT_PART_SIZE,
                ResumableCopies.DEFAULT_PARTS_IN_FLIGHT, partPool, partsAtOnce, fetchPool,
                partBufferBudget(Runtime.getRuntime().maxMemory()));
    }

    /**
     * Bytes of part buffers the resumable copies of a JVM with {@code maxHeap} may hold at once:
     * three quarters of the heap less 64 MiB for everything else (at least 1 MiB: one copy at a time).
     */
    static long partBufferBudget(long maxHeap) {
        return Math.max(1L << 20, maxHeap / 4 * 3 - (64L << 20));
    }

    /** The wiring of this execution environment, built from the process environment on first use. */
    public static synchronized AwsWiring shared() {
        if (shared == null) {
            try {
                // The upstream HTTP client (TLS setup) is built while the store opens.
                java.util.concurrent.CompletableFuture<OkHttpClient> http = java.util.concurrent.CompletableFuture
                        .supplyAsync(RegistryClient::defaultHttpClient, task -> initThread(task, "init-http"));
                shared = fromEnvironment(System.getenv(), http::join, Clock.systemUTC(),
                        new EmfMetrics(software.amazon.cloudwatchlogs.emf.environment.LambdaEnvironment::new));
                // Off the init path: the metrics library is loaded while the handler finishes its init and
                // reads the first event, so neither init nor the first flush pays for it.
                initThread(EmfMetrics::prepare, "init-metrics");
            } catch (IOException e) {
                throw new IllegalStateException("image-mirror cannot start: " + e.getMessage(), e);
            }
        }
        return shared;
    }

    /**
     * Builds the production objects from {@code env}: SDK clients, the S3 + DynamoDB storage, the
     * SQS queue, the upstream configuration and credentials.
     *
     * @throws ConfigException when a variable is missing or the configuration is invalid
     * @throws IOException when the credentials secret cannot be read
     */
    public static AwsWiring fromEnvironment(Map<String, String> env, OkHttpClient http, Clock clock)
            throws IOException {
        return fromEnvironment(env, http, clock,
                new EmfMetrics(software.amazon.cloudwatchlogs.emf.environment.LambdaEnvironment::new));
    }

    /** As {@link #fromEnvironment(Map, OkHttpClient, Clock)}, reporting to {@code metrics}. */
    public static AwsWiring fromEnvironment(Map<String, String> env, OkHttpClient http, Clock clock,
                                            EmfMetrics metrics) throws IOException {
        return fromEnvironment(env, () -> http, clock, metrics);
    }

    private static AwsWiring fromEnvironment(Map<String, String> env, java.util.function.Supplier<OkHttpClient> http,
                                             Clock clock, EmfMetrics metrics) throws IOException {
        String bucket = required(env, BUCKET);
        String table = required(env, TABLE);
        String queueUrl = required(env, QUEUE_URL);
        MirrorConfig config = config(env);
        AwsClients clients = new AwsClients(env);
        CredentialStore credentials = CredentialStore.none();
        String secret = env.get(CREDENTIALS_SECRET);
        if (secret != null && !secret.isBlank()) {
            try (SecretsManagerClient sm = clients.secretsManager()) {
                credentials = SecretsManagerCredentials.load(sm, secret.trim());
            }
        }
        // The SQS client is built while the store opens (init time is mostly SDK class loading).
        java.util.concurrent.CompletableFuture<SqsClient> sqsClient = java.util.concurrent.CompletableFuture
                .supplyAsync(clients::sqs, task -> initThread(task, "init-sqs"));
        Storage storage;
        try {
            storage = AwsStorage.open(clients, bucket, table, false, clock);
        } catch (RuntimeException e) {
            sqsClient.thenAccept(AwsWiring::closeQuietly);
            throw e;
        }
        List<AutoCloseable> resources = new ArrayList<>();
        try {
            SqsClient sqs = sqsClient.join();
            resources.add(sqs);
            return new AwsWiring(config, storage, credentials, new SqsJobQueue(sqs, queueUrl), http.get(), clock,
                    resources, metrics);
        } catch (RuntimeException e) {
            storage.close();
            resources.forEach(AwsWiring::closeQuietly);
            throw e;
        }
    }

    /** The upstream configuration from {@value #CONFIG} ({@code ${VAR}} expanded from {@code env}). */
    static MirrorConfig config(Map<String, String> env) {
        String json = env.get(CONFIG);
        if (json == null || json.isBlank()) {
            return MirrorConfig.defaults();
        }
        try {
            return MirrorConfig.fromTree(JSON.readTree(json), env::get);
        } catch (JsonProcessingException e) {
            // Only the position: the value may hold an inline password.
            throw new ConfigException(CONFIG + " is not valid JSON (line "
                    + (e.getLocation() == null ? "?" : e.getLocation().getLineNr()) + ", column "
                    + (e.getLocation() == null ? "?" : e.getLocation().getColumnNr()) + ")");
        }
    }

    private static String required(Map<String, String> env, String name) {
        String v = env.get(name);
        if (v == null || v.isBlank()) {
            throw new ConfigException("environment variable " + name + " is not set");
        }
        return v.trim();
    }

    /** Runs {@code task} on a new daemon thread called {@code name}: work that overlaps a function's init. */
    public static void initThread(Runnable task, String name) {
        Thread t = new Thread(task, name);
        t.setDaemon(true);
        t.start();
    }

    private static java.util.concurrent.ThreadFactory daemonThreads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    public MirrorConfig config() {
        return config;
    }

    public Storage storage() {
        return storage;
    }

    public Upstreams upstreams() {
        return upstreams;
    }

    public ImageMirror mirror() {
        return mirror;
    }

    public MirrorJobs jobs() {
        return jobs;
    }

    /** The fill leases this wiring takes (one holder id per wiring). */
    public FillLeases leases() {
        return leases;
    }

    /** The metrics of this execution environment, flushed by the handlers after each event. */
    public EmfMetrics metrics() {
        return metrics;
    }

    /** What a name means on this mirror, for {@code /v1} and {@code /v2} alike. */
    public NameRouter names() {
        return names;
    }

    /** The sync rules stored in the table ({@code /v1/rules}, the SyncPlanner). */
    public SyncRules rules() {
        return new SyncRules(storage.rules(), storage.jobs(), names);
    }

    /** The sync planner over the table's rules, queueing copy jobs like {@code POST /v1/mirror}. */
    public SyncPlanner planner() {
        return new SyncPlanner(rules(), storage.rules(), storage.tagIndex(), upstreams, jobs, config.syncQuotaFloor(),
                clock, metrics);
    }

    /**
     * The {@code /v2} pull-through API as Lambda serves it: stored blobs answered with a 307 to a
     * presigned S3 URL, a cold blob stored within the request when small and otherwise handed over at
     * upstream's own location, and pulled references recorded by a pull-through job on the queue
     * (a frozen Lambda runs no background threads).
     */
    public synchronized DistributionApi registryApi() {
        if (registryApi == null) {
            // A pull-through job carries what the local recorder (PullThroughCache.inBackground) gets:
            // the pulled reference and the manifest stored for the client, which the worker records
            // even when the tag has moved on upstream meanwhile, or when an index names it.
            PullThroughCache.Recorder recorder = r -> jobs.submit(PullThroughRecording.of(r));
            PullThroughCache cache = new PullThroughCache(upstreams, fills, storage, config.tagTtl(), blobPool, clock,
                    LambdaLog::warn, recorder, new PullThroughCache.ColdBlobs(COLD_BLOB_IN_REQUEST, true), metrics);
            registryApi = new DistributionApi(cache, storage.blobs(), names, true, PRESIGN_TTL, metrics);
        }
        return registryApi;
    }

    @Override
    public void close() {
        blobPool.shutdownNow();
        leases.close();
        partPool.shutdownNow();
        fetchPool.shutdownNow();
        try {
            storage.close();
        } finally {
            resources.forEach(AwsWiring::closeQuietly);
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // closing a client at shutdown; nothing left to do with the failure
        }
    }
}
