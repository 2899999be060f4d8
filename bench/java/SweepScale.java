import io.imagemirror.aws.store.DynamoIndex;
import io.imagemirror.aws.store.S3BlobStore;
import io.imagemirror.local.store.FileBlobStore;
import io.imagemirror.local.store.SqliteIndex;
import io.imagemirror.oci.Digest;
import io.imagemirror.oci.MediaTypes;
import io.imagemirror.store.BlobIndex;
import io.imagemirror.store.BlobRef;
import io.imagemirror.store.BlobStore;
import io.imagemirror.store.JobStore;
import io.imagemirror.store.ManifestIndex;
import io.imagemirror.store.ManifestRecord;
import io.imagemirror.store.PinIndex;
import io.imagemirror.store.RuleStore;
import io.imagemirror.store.Storage;
import io.imagemirror.store.TagIndex;
import io.imagemirror.sweep.SweepReport;
import io.imagemirror.sweep.Sweeper;
import java.io.ByteArrayInputStream;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;

/**
 * Benchmark (issue 12): the cost of one sweep against the size of the store. Builds a store of N
 * manifests through the store ports (no upstream): each has a config and a layer of its own plus
 * one layer shared by all; D of them, spread evenly, are dangling (never tagged), the rest tagged. Bytes are stored for
 * the dangling ones' content only (the sweep never reads the kept ones' bytes; writing 3 N files
 * would only time the disk). Then times one sweep (grace 0: the dangling ones go with their own
 * blobs and manifest bytes) and counts its store calls (every port method call) and, on AWS, the
 * HTTP requests to DynamoDB and S3.
 *
 *   java SweepScale sqlite DIR N D          # local: DIR/index.db + DIR/blobs
 *   java SweepScale aws DYNAMO_URL S3_URL N D
 *   java SweepScale aws DYNAMO_URL file:DIR N D   # DynamoDB, blobs in a directory
 *
 * Prints one line: backend, N, dangling, setup seconds, sweep ms, manifests/blobs deleted, pages,
 * store calls, DynamoDB requests, S3 requests, and the calls by method.
 */
public final class SweepScale {

    /** Counts calls to the ports by method. */
    static final Map<String, AtomicLong> CALLS = new ConcurrentHashMap<>();
    static volatile boolean counting;

    @SuppressWarnings("unchecked")
    static <T> T counted(Class<T> port, String name, Object target) {
        InvocationHandler h = (proxy, method, args) -> {
            if (counting) {
                CALLS.computeIfAbsent(name + "." + method.getName(), k -> new AtomicLong()).incrementAndGet();
            }
            try {
                return method.invoke(target, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        };
        return (T) Proxy.newProxyInstance(SweepScale.class.getClassLoader(), new Class<?>[] {port}, h);
    }

    /** Counts HTTP requests of one AWS client. */
    static final class RequestCounter implements ExecutionInterceptor {
        final AtomicLong n = new AtomicLong();

        @Override
        public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
            if (counting) {
                n.incrementAndGet();
            }
        }
    }

    public static void main(String[] args) throws Exception {
        String backend = args[0];
        Clock clock = Clock.systemUTC();
        RequestCounter dynamoRequests = new RequestCounter();
        RequestCounter s3Requests = new RequestCounter();
        Storage raw;
        int n;
        int d;
        List<AutoCloseable> closing = new ArrayList<>();
        if (backend.equals("sqlite")) {
            Path dir = Path.of(args[1]);
            Files.createDirectories(dir);
            n = Integer.parseInt(args[2]);
            d = Integer.parseInt(args[3]);
            raw = Storage.of(FileBlobStore.blobs(dir), FileBlobStore.manifests(dir), SqliteIndex.open(dir, clock),
                    List.of());
        } else {
            n = Integer.parseInt(args[3]);
            d = Integer.parseInt(args[4]);
            var creds = StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test"));
            DynamoDbClient dynamo = DynamoDbClient.builder().httpClient(UrlConnectionHttpClient.create())
                    .region(Region.US_EAST_1).credentialsProvider(creds).endpointOverride(URI.create(args[1]))
                    .overrideConfiguration(o -> o.addExecutionInterceptor(dynamoRequests)).build();
            String name = "bench-sweep-" + Long.toHexString(System.nanoTime());
            DynamoIndex.createTable(dynamo, name);
            closing.add(() -> dynamo.deleteTable(b -> b.tableName(name)));
            if (args[2].startsWith("file:")) {
                // DynamoDB with the blobs in a directory (when no S3 server is at hand)
                Path dir = Path.of(args[2].substring(5));
                raw = Storage.of(FileBlobStore.blobs(dir), FileBlobStore.manifests(dir),
                        new DynamoIndex(dynamo, name, clock), List.of());
            } else {
                S3Client s3 = S3Client.builder().httpClient(UrlConnectionHttpClient.create()).region(Region.US_EAST_1)
                        .credentialsProvider(creds).endpointOverride(URI.create(args[2])).forcePathStyle(true)
                        .overrideConfiguration(o -> o.addExecutionInterceptor(s3Requests)).build();
                S3Presigner presigner = S3Presigner.builder().region(Region.US_EAST_1).credentialsProvider(creds)
                        .endpointOverride(URI.create(args[2])).build();
                s3.createBucket(b -> b.bucket(name));
                closing.add(() -> {
                    for (String prefix : List.of("blobs/", "manifests/")) {
                        s3.listObjectsV2Paginator(b -> b.bucket(name).prefix(prefix)).contents()
                                .forEach(o -> s3.deleteObject(b -> b.bucket(name).key(o.key())));
                    }
                    s3.deleteBucket(b -> b.bucket(name));
                });
                raw = Storage.of(new S3BlobStore(s3, presigner, name, "blobs"),
                        new S3BlobStore(s3, presigner, name, "manifests"), new DynamoIndex(dynamo, name, clock),
                        List.of());
            }
        }
        Object index = raw.tagIndex();
        Storage storage = new Storage(counted(BlobStore.class, "blobs", raw.blobs()),
                counted(BlobStore.class, "manifestBytes", raw.manifests()), counted(TagIndex.class, "tags", index),
                counted(ManifestIndex.class, "manifests", index), counted(BlobIndex.class, "blobIndex", index),
                counted(PinIndex.class, "pins", index), counted(JobStore.class, "jobs", index),
                counted(RuleStore.class, "rules", index), List.of());

        long t0 = System.nanoTime();
        byte[] sharedBytes = "shared layer".getBytes(StandardCharsets.UTF_8);
        Digest shared = Digest.sha256(sharedBytes);
        storage.blobIndex().createBlobRecord(shared, sharedBytes.length);
        int dangling = 0;
        int repositories = Math.max(1, n / 100);
        for (int i = 0; i < n; i++) {
            boolean isDangling = (long) i * d / n != (long) (i + 1) * d / n; // d of them, evenly spread
            String repo = "bench.local/app" + (i % repositories);
            byte[] config = ("config " + i).getBytes(StandardCharsets.UTF_8);
            byte[] layer = ("layer " + i).getBytes(StandardCharsets.UTF_8);
            byte[] manifest = ("manifest " + i).getBytes(StandardCharsets.UTF_8);
            Digest c = Digest.sha256(config);
            Digest l = Digest.sha256(layer);
            Digest m = Digest.sha256(manifest);
            for (byte[] b : List.of(config, layer)) {
                if (isDangling) {
                    storage.blobs().put(Digest.sha256(b), b.length, new ByteArrayInputStream(b));
                }
                storage.blobIndex().createBlobRecord(Digest.sha256(b), b.length);
            }
            if (isDangling) {
                storage.manifests().put(m, manifest.length, new ByteArrayInputStream(manifest));
            }
            storage.blobIndex().createBlobRecord(m, manifest.length);
            storage.manifestIndex().putManifest(new ManifestRecord(repo, m, MediaTypes.OCI_MANIFEST, manifest.length,
                    c, List.of(new BlobRef(c, config.length), new BlobRef(l, layer.length),
                    new BlobRef(shared, sharedBytes.length)), List.of(), null, null, null, Map.of(), clock.instant(),
                    null, 0));
            if (isDangling) {
                dangling++;
            } else {
                storage.tagIndex().setTag(repo, "t" + i, null, m, "cli");
            }
        }
        double setup = (System.nanoTime() - t0) / 1e9;

        Sweeper sweeper = new Sweeper(storage, clock);
        counting = true;
        long s0 = System.nanoTime();
        SweepReport r = sweeper.run(Duration.ZERO, false, Sweeper.DEFAULT_PAGE_SIZE, Sweeper.Listener.NONE);
        long ms = (System.nanoTime() - s0) / 1_000_000;
        counting = false;
        long calls = CALLS.values().stream().mapToLong(AtomicLong::get).sum();
        Map<String, Long> byMethod = new TreeMap<>();
        CALLS.forEach((k, v) -> byMethod.put(k, v.get()));
        System.out.printf("%s|%d|%d|%.1f|%d|%d|%d|%d|%d|%d|%d|%s%n", backend, n, dangling, setup, ms,
                r.manifestsDeleted(), r.blobsDeleted(), r.pages(), calls, dynamoRequests.n.get(), s3Requests.n.get(),
                byMethod);
        for (int i = closing.size() - 1; i >= 0; i--) {
            closing.get(i).close();
        }
        raw.close();
    }
}
