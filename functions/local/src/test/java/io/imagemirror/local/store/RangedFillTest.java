package io.imagemirror.local.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imagemirror.config.MirrorConfig;
import io.imagemirror.mirror.BlobFills;
import io.imagemirror.oci.ContentMismatchException;
import io.imagemirror.oci.Digest;
import io.imagemirror.testbed.Content;
import io.imagemirror.testbed.FaultProxy;
import io.imagemirror.testbed.FaultProxy.Fault;
import io.imagemirror.testbed.LocalRegistry;
import io.imagemirror.upstream.CredentialStore;
import io.imagemirror.upstream.RangedFetch;
import io.imagemirror.upstream.RegistryClient;
import io.imagemirror.upstream.RetryPolicy;
import io.imagemirror.upstream.Upstreams;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A large blob from a source that can fetch it in parallel ranged GETs, both ways the local store
 * is filled: straight into a {@link FileBlobStore} upload (mirror: ranged parts) and through a
 * spool that clients follow (serve: one stream in order, as a client reads only the contiguous
 * prefix). A real docker-registry behind the fault proxy; corrupted bytes leave nothing stored, no
 * record, and no temp or spool file.
 */
class RangedFillTest {

    @TempDir
    static Path shared;
    static LocalRegistry registry;
    static FaultProxy proxy;
    static RegistryClient client;
    static final int PART = 256 << 10;
    static final byte[] BLOB = Content.randomBytes(21, 10 * PART + 777);
    static final Digest DIGEST = Digest.parse(Content.sha256(BLOB));

    @TempDir
    Path data;
    FileBlobStore store;
    SqliteIndex index;
    ExecutorService background = Executors.newFixedThreadPool(2);

    @BeforeAll
    static void start() throws Exception {
        registry = LocalRegistry.start(shared);
        registry.pusher().pushBlob("ranged/fill", BLOB);
        proxy = FaultProxy.start(registry.url());
        MirrorConfig config = MirrorConfig.defaults().withUpstream(new MirrorConfig.UpstreamConfig(proxy.hostPort(),
                URI.create(proxy.url().toString()), true, null, null, null, Set.of()));
        client = new Upstreams(config.toUpstreamList(), CredentialStore.none(), RegistryClient.defaultHttpClient(),
                Clock.systemUTC(), RetryPolicy.defaults().withSleeper(d -> { }).withMaxAttempts(2),
                new RangedFetch(1 << 20, PART, 4)).client(proxy.hostPort());
    }

    @AfterAll
    static void stop() {
        proxy.close();
        registry.close();
    }

    @BeforeEach
    void open() {
        store = FileBlobStore.blobs(data);
        index = SqliteIndex.open(data, Clock.systemUTC());
    }

    @AfterEach
    void close() throws Exception {
        assertThat(proxy.pendingFaults()).isZero();
        background.shutdownNow();
        index.close();
    }

    BlobFills.Source source() {
        return BlobFills.Source.upstream(client, "ranged/fill", DIGEST, BLOB.length);
    }

    static long filesUnder(Path dir) throws Exception {
        if (!Files.exists(dir)) {
            return 0;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).count();
        }
    }

    @Test
    void aMirrorWritesTheRangedPartsIntoAnUploadAndCommitsItVerified() throws Exception {
        long ranged = proxy.rangedBlobGets();
        BlobFills fills = new BlobFills(store, index, null, background);

        BlobFills.Fill fill = fills.fill(DIGEST, BLOB.length, source());

        assertThat(fill.await()).isEqualTo(BLOB.length);
        assertThat(proxy.rangedBlobGets() - ranged).isEqualTo(11);
        assertThat(Files.readAllBytes(store.pathOf(DIGEST))).isEqualTo(BLOB);
        assertThat(index.getBlobRecord(DIGEST)).isPresent();
        assertThat(filesUnder(data.resolve("tmp"))).isZero();
    }

    @Test
    void aCorruptedPartLeavesNothingStoredInTheUploadPath() throws Exception {
        proxy.inject(Fault.pass()).inject(Fault.flipAt(12));
        BlobFills fills = new BlobFills(store, index, null, background);

        assertThatThrownBy(() -> fills.fill(DIGEST, BLOB.length, source()).await())
                .isInstanceOf(ContentMismatchException.class);

        assertThat(store.exists(DIGEST)).isFalse();
        assertThat(index.getBlobRecord(DIGEST)).isEmpty();
        assertThat(filesUnder(data.resolve("tmp"))).isZero();
    }

    @Test
    void aSpooledFillStreamsInOrderAndItsClientGetsTheVerifiedBlob() throws Exception {
        Path spool = data.resolve("spool");
        BlobFills fills = new BlobFills(store, index, spool, background);
        long ranged = proxy.rangedBlobGets();
        long gets = proxy.blobGets(DIGEST.toString());

        BlobFills.Fill fill = fills.fill(DIGEST, BLOB.length, source());
        byte[] read;
        try (InputStream in = fill.open(0, BLOB.length)) {
            read = in.readAllBytes();
        }

        assertThat(read).isEqualTo(BLOB);
        assertThat(fill.await()).isEqualTo(BLOB.length);
        assertThat(Files.readAllBytes(store.pathOf(DIGEST))).isEqualTo(BLOB);
        assertThat(filesUnder(spool)).isZero();
        assertThat(proxy.rangedBlobGets() - ranged).isZero();
        assertThat(proxy.blobGets(DIGEST.toString()) - gets).isEqualTo(1);
    }

    @Test
    void corruptedBytesFailTheFollowingClientAndLeaveNothingStoredInTheSpoolPath() throws Exception {
        Path spool = data.resolve("spool");
        proxy.inject(Fault.flipAt(3L * PART - 1));
        BlobFills fills = new BlobFills(store, index, spool, background);

        BlobFills.Fill fill = fills.fill(DIGEST, BLOB.length, source());
        assertThatThrownBy(() -> {
            try (InputStream in = fill.open(0, BLOB.length)) {
                in.readAllBytes();
            }
        }).hasRootCauseInstanceOf(ContentMismatchException.class);
        assertThatThrownBy(fill::await).isInstanceOf(ContentMismatchException.class);

        assertThat(store.exists(DIGEST)).isFalse();
        assertThat(index.getBlobRecord(DIGEST)).isEmpty();
        assertThat(filesUnder(spool)).isZero();
    }
}
