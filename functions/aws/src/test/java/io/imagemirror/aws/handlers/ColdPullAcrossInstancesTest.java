package io.imagemirror.aws.handlers;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import io.imagemirror.aws.AwsFixture;
import io.imagemirror.aws.AwsWiring;
import io.imagemirror.aws.store.DynamoCoordination;
import io.imagemirror.oci.Digest;
import io.imagemirror.store.BlobStore;
import io.imagemirror.store.Lease;
import io.imagemirror.testbed.FaultProxy;
import io.imagemirror.testbed.LocalRegistry;
import io.imagemirror.testbed.TestImage;
import io.imagemirror.upstream.RegistryClient;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many Registry function instances over one s3proxy + dynoxide, pulling the same cold image from a
 * real docker-registry at once: each instance is its own {@link AwsWiring} (its own SDK clients,
 * HTTP client and lease holder id), driven through {@link RegistryHandler} with API Gateway events.
 * Upstream requests are counted at a {@link FaultProxy} in front of the registry. Then the holder
 * of a blob's lease is a separate process, killed with SIGKILL mid-transfer: another instance takes
 * over once the lease expires, and only verified bytes are ever stored.
 */
class ColdPullAcrossInstancesTest {

    private static final int INSTANCES = 20;
    private static final String FILLS = "\"fills\": {\"leaseTtl\": \"3s\", \"leaseWait\": \"25s\"}";

    @TempDir
    Path tmp;

    LocalRegistry registry;
    FaultProxy proxy;
    AwsFixture aws;
    final List<AwsWiring> wirings = new ArrayList<>();
    final ExecutorService pool = Executors.newCachedThreadPool();
    final HttpClient s3Client = HttpClient.newHttpClient();

    @BeforeEach
    void start() {
        registry = LocalRegistry.start(tmp);
        proxy = FaultProxy.start(registry.url());
        aws = new AwsFixture("coldpull");
    }

    @AfterEach
    void stop() {
        pool.shutdownNow();
        wirings.forEach(AwsWiring::close);
        aws.close();
        proxy.close();
        registry.close();
    }

    private String config() {
        return "{\"upstreams\": [{\"name\": \"docker.io\", \"endpoint\": \"" + proxy.url() + "\", \"insecure\": true}], "
                + FILLS + "}";
    }

    private AwsWiring instance() throws Exception {
        AwsWiring w = AwsWiring.fromEnvironment(aws.functionEnv(config()), RegistryClient.defaultHttpClient(),
                Clock.systemUTC());
        wirings.add(w);
        return w;
    }

    /** A GET event of {@code path} (under /v2/), as API Gateway sends it. */
    static APIGatewayV2HTTPEvent get(String path) {
        return AwsFixture.eventFromJson(eventFor(path), APIGatewayV2HTTPEvent.class);
    }

    /** The sample blob GET event, for another path. */
    private static String eventFor(String path) {
        String sample = "library/alpine/blobs/sha256:c83d59ba2479f4b5c96eb645e80f702bda2587b05e17b3ddf0bdaa112f9d7ccc";
        return AwsFixture.eventJson("registry-blob-get.json").replace(sample, path);
    }

    static byte[] body(APIGatewayV2HTTPResponse r) {
        return r.getIsBase64Encoded() ? Base64.getDecoder().decode(r.getBody())
                : r.getBody().getBytes(StandardCharsets.UTF_8);
    }

    /** Follows a 307 to its presigned S3 URL and returns the bytes S3 serves there. */
    private byte[] followed(APIGatewayV2HTTPResponse r) throws Exception {
        assertThat(r.getStatusCode()).as("blob answer").isEqualTo(307);
        String location = r.getHeaders().get("Location");
        assertThat(location).contains("X-Amz-Signature");
        HttpResponse<byte[]> s3 = s3Client.send(HttpRequest.newBuilder(URI.create(location)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(s3.statusCode()).isEqualTo(200);
        return s3.body();
    }

    private long upstreamRequests(String method, String pathPart) {
        return proxy.requestLines().stream().filter(l -> l.startsWith(method + " ") && l.contains(pathPart)).count();
    }

    @Test
    void twentyInstancesPullingTheSameColdImageMakeOneUpstreamGetPerManifestAndPerBlob() throws Exception {
        TestImage image = TestImage.builder(1414).layer(300_000).layer(2_000_000).layer(5_000).build();
        registry.pusher().pushImage("library/alpine", "3.20", image);
        List<RegistryHandler> handlers = new ArrayList<>();
        for (int i = 0; i < INSTANCES; i++) {
            handlers.add(new RegistryHandler(instance().registryApi()));
        }
        CyclicBarrier together = new CyclicBarrier(INSTANCES);
        List<Future<List<byte[]>>> pulls = new ArrayList<>();
        for (RegistryHandler h : handlers) {
            pulls.add(pool.submit(() -> {
                together.await();
                List<byte[]> got = new ArrayList<>();
                APIGatewayV2HTTPResponse m = h.handleRequest(get("library/alpine/manifests/3.20"), null);
                assertThat(m.getStatusCode()).isEqualTo(200);
                got.add(body(m));
                for (TestImage.Blob b : image.blobs()) {
                    got.add(followed(h.handleRequest(get("library/alpine/blobs/" + b.digest()), null)));
                }
                return got;
            }));
        }
        for (Future<List<byte[]>> f : pulls) {
            List<byte[]> got = f.get(3, TimeUnit.MINUTES);
            assertThat(got.get(0)).isEqualTo(image.manifest());
            for (int i = 0; i < image.blobs().size(); i++) {
                assertThat(got.get(i + 1)).isEqualTo(image.blobs().get(i).bytes());
            }
        }
        assertThat(upstreamRequests("GET", "/manifests/")).as(proxy.requestLines().toString()).isEqualTo(1);
        for (TestImage.Blob b : image.blobs()) {
            assertThat(proxy.blobGets(b.digest())).as("GETs of " + b.digest()).isEqualTo(1);
        }
        long taken = wirings.stream().mapToLong(w -> w.leases().taken()).sum();
        assertThat(taken).as("one lease per manifest and blob").isEqualTo(1 + image.blobs().size());
        assertThat(wirings.stream().mapToLong(w -> w.leases().waitsElapsed()).sum()).isZero();
        System.out.println("20 instances: upstream " + upstreamRequests("HEAD", "/v2/") + " HEADs, "
                + upstreamRequests("GET", "/manifests/") + " manifest GET, "
                + upstreamRequests("GET", "/blobs/") + " blob GETs; "
                + wirings.stream().mapToLong(w -> w.leases().waitedForOthers()).sum() + " waits served from the store");
    }

    @Test
    void whenTheHolderIsKilledMidFillAnotherInstanceTakesOverAfterTheLeaseExpires() throws Exception {
        TestImage image = TestImage.builder(1515).layer(3_000_000).build();
        registry.pusher().pushImage("library/alpine", "3.21", image);
        TestImage.Blob layer = image.layers().get(0);
        FaultProxy.Gate gate = new FaultProxy.Gate();
        proxy.inject(FaultProxy.Fault.pass().holdingAt(1_000_000, gate));

        Map<String, String> env = aws.functionEnv(config());
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
                LeaseHolderChild.class.getName(), eventFor("library/alpine/blobs/" + layer.digest()))
                .redirectErrorStream(true);
        pb.environment().putAll(env);
        Process child = pb.start();
        Lease held;
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            String first = out.readLine();
            assertThat(first).as("the child's first line").startsWith("holder ");
            String holder = first.substring("holder ".length());
            assertThat(gate.awaitReached(Duration.ofMinutes(1))).as("the child's fetch reached the stall").isTrue();
            DynamoCoordination table = new DynamoCoordination(aws.dynamo, aws.table);
            String key = "blob " + Digest.parse(layer.digest());
            held = table.getLease(key).orElseThrow();
            assertThat(held.holder()).isEqualTo(holder);
            // Its heartbeat keeps the lease: wait for one renewal, then kill it mid-transfer.
            Awaitility.await().atMost(Duration.ofSeconds(10))
                    .until(() -> table.getLease(key).map(Lease::version).orElse(0L) > held.version());
        } finally {
            child.destroyForcibly(); // SIGKILL: no finally, no release
        }
        assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        gate.release();
        // What a reader sees: no object at the blob's key, and no blob in the store's listing. (Not
        // the raw bucket listing: while s3proxy notices the dropped PUT it lists its own temporary
        // file "<key>-<uuid>" for a moment; S3 never shows an unfinished PUT.)
        AwsWiring next = instance();
        assertThat(next.storage().blobs().stat(Digest.parse(layer.digest()))).as("nothing of the killed fill is visible")
                .isEmpty();
        assertThat(next.storage().blobs().list(100, null).items()).as("nothing of the killed fill is listed").isEmpty();

        long start = System.nanoTime();
        byte[] got = followed(new RegistryHandler(next.registryApi())
                .handleRequest(get("library/alpine/blobs/" + layer.digest()), null));
        assertThat(got).isEqualTo(layer.bytes());
        assertThat(next.leases().takenOver()).isEqualTo(1);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("waited for the expiry, not the whole wait")
                .isLessThan(Duration.ofSeconds(25));
        assertThat(proxy.blobGets(layer.digest())).as("the killed fetch and the take-over").isEqualTo(2);
        assertThat(next.storage().blobs().list(100, null).items()).extracting(BlobStore.Info::digest)
                .containsExactly(Digest.parse(layer.digest()));
        Optional<byte[]> stored = Optional.of(aws.s3.getObjectAsBytes(b -> b.bucket(aws.bucket)
                .key("blobs/sha256/" + layer.digest().substring(7))).asByteArray());
        assertThat(stored.get()).isEqualTo(layer.bytes());
    }
}
