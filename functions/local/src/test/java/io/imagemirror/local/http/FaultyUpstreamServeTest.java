package io.imagemirror.local.http;

import io.imagemirror.local.LocalStores;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imagemirror.config.MirrorConfig;
import io.imagemirror.local.LocalRuntime;
import io.imagemirror.local.store.FileBlobStore;
import io.imagemirror.mirror.MirrorListener;
import io.imagemirror.mirror.MirrorRequest;
import io.imagemirror.oci.Digest;
import io.imagemirror.reference.ImageReference;
import io.imagemirror.store.Cause;
import io.imagemirror.store.Storage;
import io.imagemirror.testbed.Content;
import io.imagemirror.testbed.FaultProxy;
import io.imagemirror.testbed.FaultProxy.Fault;
import io.imagemirror.testbed.LocalRegistry;
import io.imagemirror.testbed.TestImage;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code serve} (the real runtime and HTTP server, in this JVM) and {@code mirror} (its engine)
 * against a real registry behind the fault-injecting proxy: every request ends byte-identical or
 * with an OCI error / a failed transfer, never with unverified bytes in a successful response, and
 * nothing wrong is stored (issue 15 items 1, 2, 3 and the fault cases of its test list).
 */
class FaultyUpstreamServeTest {

    @TempDir
    static Path shared;
    static LocalRegistry registry;
    static FaultProxy proxy;
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    static final TestImage SMALL = TestImage.builder(151).layer(200_000).build();
    /** Larger than one spool chunk (1 MiB), so a fill hands out bytes before the blob ends. */
    static final TestImage LARGE = TestImage.builder(152).layer(3 << 20).build();

    @TempDir
    Path data;
    LocalRuntime runtime;
    LocalHttpServer server;
    final List<String> log = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void upstream() {
        registry = LocalRegistry.start(shared);
        registry.pusher().pushImage("faults/small", "1", SMALL);
        registry.pusher().pushImage("faults/large", "1", LARGE);
        proxy = FaultProxy.start(registry.url());
    }

    @AfterAll
    static void stopUpstream() {
        proxy.close();
        registry.close();
    }

    static MirrorConfig runtimeConfig() {
        return MirrorConfig.defaults().withUpstream(new MirrorConfig.UpstreamConfig(proxy.hostPort(),
                URI.create(proxy.url().toString()), true, null, null, null, Set.of())).withDefaultUpstream(proxy.hostPort());
    }

    @BeforeEach
    void serve() throws IOException {
        serve(runtimeConfig());
    }

    void serve(MirrorConfig config) throws IOException {
        Storage storage = LocalStores.open(data);
        runtime = new LocalRuntime(config, storage, data.resolve("spool"), Clock.systemUTC());
        server = LocalHttpServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16,
                runtime.routes(true), log::add, Clock.systemUTC());
    }

    @AfterEach
    void stop() {
        proxy.clearFaults();
        server.close();
        runtime.close();
    }

    URI blobUri(String repo, TestImage.Blob blob) {
        return URI.create("http://127.0.0.1:" + server.address().getPort() + "/v2/" + repo + "/blobs/" + blob.digest());
    }

    HttpResponse<byte[]> get(String repo, TestImage.Blob blob, String range) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(blobUri(repo, blob)).timeout(Duration.ofMinutes(1));
        if (range != null) {
            b.header("Range", range);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    /** Whether the blob is stored once any fill of it has ended (a fill leaves the in-flight map after storing). */
    boolean stored(TestImage.Blob blob) {
        Digest d = Digest.parse(blob.digest());
        runtime.fills().inProgress(d).ifPresent(f -> f.done().exceptionally(e -> 0L).join());
        return runtime.storage().blobs().exists(d);
    }

    List<String> leftovers() throws IOException {
        try (Stream<Path> s = Stream.concat(list(data.resolve("tmp")), list(data.resolve("spool")))) {
            return s.map(Path::toString).toList();
        }
    }

    static Stream<Path> list(Path dir) throws IOException {
        return Files.isDirectory(dir) ? Files.list(dir).toList().stream() : Stream.empty();
    }

    static void assertOciError(HttpResponse<byte[]> r, int status) {
        assertThat(r.statusCode()).as(new String(r.body())).isEqualTo(status);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(new String(r.body())).startsWith("{\"errors\":[{\"code\":");
    }

    /**
     * Issue 16: with ranged fetches on for blobs of 1 MiB and more, a cold pull through serve still
     * fetches the layer as one plain GET in order (its client follows the contiguous prefix), also
     * when the recording mirror the manifest GET started is the one filling it; a mirror outside
     * serve ({@code image-mirror mirror}: no spool, nobody following) fetches it in ranged parts.
     */
    @Test
    void aPullStreamsALargeColdBlobInOrderWhileAMirrorFetchesItInRangedParts() throws Exception {
        MirrorConfig ranged = runtimeConfig().withLargeBlobs(new io.imagemirror.upstream.RangedFetch(1 << 20, 1 << 20, 4));
        stop();
        serve(ranged);
        TestImage.Blob layer = LARGE.layers().get(0);
        long rangedGets = proxy.rangedBlobGets();
        long gets = proxy.blobGets(layer.digest());
        HttpResponse<byte[]> manifest = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + server.address().getPort() + "/v2/faults/large/manifests/1")).header("Accept", LARGE.mediaType())
                .build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(manifest.statusCode()).isEqualTo(200);
        HttpResponse<byte[]> pulled = get("faults/large", layer, null);
        assertThat(pulled.statusCode()).isEqualTo(200);
        assertThat(Digest.sha256(pulled.body()).toString()).isEqualTo(layer.digest());
        assertThat(stored(layer)).isTrue();
        assertThat(proxy.blobGets(layer.digest()) - gets).isEqualTo(1);
        assertThat(proxy.rangedBlobGets() - rangedGets).isZero();

        stop();
        Path cli = Files.createTempDirectory(shared, "mirror");
        Storage storage = LocalStores.open(cli);
        try (LocalRuntime mirror = new LocalRuntime(ranged, storage, null, Clock.systemUTC())) {
            mirror.mirror().mirror(MirrorRequest.of(ImageReference.parse(proxy.hostPort() + "/faults/large:1"),
                    Cause.CLI), MirrorListener.NONE);
            assertThat(proxy.rangedBlobGets() - rangedGets).isEqualTo((layer.size() + (1 << 20) - 1) >> 20); // 1 MiB parts
            assertThat(mirror.storage().blobs().exists(Digest.parse(layer.digest()))).isTrue();
        }
        serve(runtimeConfig()); // for stop()
    }

    /** Issue 15 item 1: a Range on a blob being filled from a slow, corrupting upstream. */
    @Test
    void aColdRangeOfACorruptBlobNeverGets206() throws Exception {
        TestImage.Blob layer = LARGE.layers().get(0);
        FaultProxy.Gate gate = new FaultProxy.Gate();
        proxy.inject(Fault.flipAt(100).holdingAt(2 << 20, gate));

        CompletableFuture<HttpResponse<byte[]>> range = HTTP.sendAsync(HttpRequest.newBuilder(blobUri("faults/large", layer))
                .header("Range", "bytes=0-999").build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(gate.awaitReached(Duration.ofSeconds(60))).isTrue();
        // A whole-blob reader joins the fill; its first bytes show the fill has handed out its
        // first chunk (the flipped byte included), which is all the range needs.
        CountDownLatch firstBytes = new CountDownLatch(1);
        CompletableFuture<String> whole = CompletableFuture.supplyAsync(() -> {
            try {
                HttpResponse<InputStream> r = HTTP.send(HttpRequest.newBuilder(blobUri("faults/large", layer)).build(),
                        HttpResponse.BodyHandlers.ofInputStream());
                try (InputStream in = r.body()) {
                    byte[] buf = new byte[64 * 1024];
                    long total = 0;
                    for (int n; (n = in.read(buf)) >= 0; ) {
                        total += n;
                        firstBytes.countDown();
                    }
                    return r.statusCode() + " clean end after " + total;
                }
            } catch (IOException | InterruptedException e) {
                firstBytes.countDown();
                return "failed transfer: " + e;
            }
        });
        assertThat(firstBytes.await(60, TimeUnit.SECONDS)).isTrue();
        gate.release();

        HttpResponse<byte[]> answer = range.get(60, TimeUnit.SECONDS);
        assertOciError(answer, 502);
        // the whole-blob stream had its headers out: it must end as a failed transfer
        assertThat(whole.get(60, TimeUnit.SECONDS)).startsWith("failed transfer");
        assertThat(stored(layer)).isFalse();
        assertThat(leftovers()).isEmpty();
        // without the fault: byte-identical, and the range comes from the stored blob
        HttpResponse<byte[]> again = get("faults/large", layer, "bytes=0-999");
        assertThat(again.statusCode()).isEqualTo(206);
        assertThat(again.body()).isEqualTo(Arrays.copyOf(layer.bytes(), 1000));
        assertThat(Content.sha256(Files.readAllBytes(((FileBlobStore) runtime.storage().blobs())
                .pathOf(Digest.parse(layer.digest()))))).isEqualTo(layer.digest());
    }

    /** Issue 15 item 2: HEAD fine, then the GET fails upstream; whole and range requests alike. */
    @Test
    void upstreamFailuresOnBlobsAnswerOciErrorsWithOneLogLine() throws Exception {
        TestImage.Blob layer = SMALL.layers().get(0);
        record Case(Fault fault, int status, String retryAfter) {
        }
        for (Case c : List.of(new Case(Fault.status(503, "120"), 503, "120"), new Case(Fault.status(429, "90"), 503, "90"),
                new Case(Fault.flipAt(10), 502, null))) {
            for (String range : new String[] {null, "bytes=0-99"}) {
                proxy.inject(c.fault());
                log.clear();
                HttpResponse<byte[]> r = get("faults/small", layer, range);
                assertOciError(r, c.status());
                assertThat(r.headers().firstValue("Retry-After")).isEqualTo(java.util.Optional.ofNullable(c.retryAfter()));
                assertThat(stored(layer)).isFalse();
                // the access line is written just after the answer went out
                org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
                        .until(() -> log.stream().anyMatch(l -> l.contains(layer.digest())));
                List<String> lines = log.stream().filter(l -> l.contains(layer.digest())).toList();
                assertThat(lines).as(c + " " + range).hasSize(1);
                assertThat(lines.get(0)).contains(" " + c.status() + " ").contains("(");
            }
        }
        assertThat(proxy.pendingFaults()).isZero();
        assertThat(leftovers()).isEmpty();
        HttpResponse<byte[]> clean = get("faults/small", layer, null);
        assertThat(clean.statusCode()).isEqualTo(200);
        assertThat(clean.body()).isEqualTo(layer.bytes());
    }

    /** Issue 15 item 3: numbers past a long in a Range header. */
    @Test
    void hugeRangeNumbersAreRangesNotCrashes() throws Exception {
        TestImage.Blob layer = SMALL.layers().get(0);
        assertThat(get("faults/small", layer, null).statusCode()).isEqualTo(200);
        HttpResponse<byte[]> open = get("faults/small", layer, "bytes=0-99999999999999999999");
        assertThat(open.statusCode()).isEqualTo(206);
        assertThat(open.body()).isEqualTo(layer.bytes());
        HttpResponse<byte[]> past = get("faults/small", layer, "bytes=99999999999999999999-");
        assertOciError(past, 416);
        assertThat(past.headers().firstValue("Content-Range")).hasValue("bytes */" + layer.size());
        HttpResponse<byte[]> suffix = get("faults/small", layer, "bytes=-99999999999999999999");
        assertThat(suffix.statusCode()).isEqualTo(206);
        assertThat(suffix.body()).isEqualTo(layer.bytes());
        HttpResponse<byte[]> garbage = get("faults/small", layer, "bytes=5-1");
        assertThat(garbage.statusCode()).isEqualTo(200);
        assertThat(garbage.body()).isEqualTo(layer.bytes());
    }

    /** Faults a resume can heal, through whole and range GETs of cold blobs: byte-identical. */
    @Test
    void cutAndMisframedBodiesAreHealedThroughServe() throws Exception {
        record Heal(Fault fault, String repo, TestImage.Blob layer) {
        }
        TestImage.Blob small = SMALL.layers().get(0);
        TestImage.Blob large = LARGE.layers().get(0);
        for (Heal h : List.of(new Heal(Fault.truncateAt(50_000), "faults/small", small),
                new Heal(Fault.resetAt(70_000), "faults/small", small),
                new Heal(Fault.lengthOver(), "faults/small", small),
                new Heal(Fault.lengthUnder(), "faults/small", small),
                new Heal(Fault.truncateAt(large.size() - 1), "faults/large", large),
                new Heal(Fault.resetAt(1 << 20), "faults/large", large))) {
            for (String range : new String[] {null, "bytes=1000-1999"}) {
                runtime.storage().blobs().delete(Digest.parse(h.layer().digest()));
                proxy.inject(h.fault());
                HttpResponse<byte[]> r = get(h.repo(), h.layer(), range);
                assertThat(r.statusCode()).as(h + " " + range).isEqualTo(range == null ? 200 : 206);
                assertThat(r.body()).isEqualTo(range == null ? h.layer().bytes()
                        : Arrays.copyOfRange(h.layer().bytes(), 1000, 2000));
                assertThat(stored(h.layer())).isTrue();
            }
        }
        assertThat(proxy.pendingFaults()).isZero();
        assertThat(leftovers()).isEmpty();
    }

    /** The same upstream through {@code mirror}: a heal is byte-identical, a corrupt blob a clear failure with nothing left. */
    @Test
    void mirrorThroughFaultsEndsIdenticalOrFailsCleanly() throws Exception {
        ImageReference ref = ImageReference.parse(proxy.hostPort() + "/faults/small:1");
        proxy.inject(Fault.flipAt(0));
        proxy.inject(Fault.flipAt(0));
        assertThatThrownBy(() -> runtime.mirror().mirror(MirrorRequest.of(ref, Cause.CLI),
                MirrorListener.NONE)).hasMessageContaining("sha256:");
        proxy.clearFaults();
        for (TestImage.Blob b : SMALL.layers()) {
            assertThat(stored(b)).isFalse();
        }
        assertThat(leftovers()).isEmpty();

        proxy.inject(Fault.truncateAt(10_000));
        proxy.inject(Fault.lengthUnder());
        runtime.mirror().mirror(MirrorRequest.of(ref, Cause.CLI), MirrorListener.NONE);
        for (TestImage.Blob b : SMALL.blobs()) {
            assertThat(Content.sha256(Files.readAllBytes(((FileBlobStore) runtime.storage().blobs())
                    .pathOf(Digest.parse(b.digest()))))).isEqualTo(b.digest());
        }
        assertThat(leftovers()).isEmpty();
    }
}
