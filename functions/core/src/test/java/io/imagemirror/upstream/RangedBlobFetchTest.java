package io.imagemirror.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imagemirror.config.MirrorConfig;
import io.imagemirror.oci.BlobSink;
import io.imagemirror.oci.ContentMismatchException;
import io.imagemirror.oci.Digest;
import io.imagemirror.oci.RegistryException;
import io.imagemirror.testbed.Content;
import io.imagemirror.testbed.FaultProxy;
import io.imagemirror.testbed.FaultProxy.Fault;
import io.imagemirror.testbed.FaultProxy.Ranges;
import io.imagemirror.testbed.LocalRegistry;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link RegistryClient#fetchBlob} against a real docker-registry behind the fault proxy: parallel
 * ranged GETs when ranges are honoured, one stream when they are refused or mislabelled, resumed
 * parts, and corruption anywhere caught by the one in-order hash.
 */
class RangedBlobFetchTest {

    @TempDir
    static Path tmp;
    static LocalRegistry registry;
    static FaultProxy proxy;
    static RegistryClient client;
    static final int PART = 256 << 10;
    /** 13 parts, the last one short. */
    static final byte[] BLOB = Content.randomBytes(16, 12 * PART + 12_345);
    static final Digest DIGEST = Digest.parse(Content.sha256(BLOB));
    static final byte[] SMALL = Content.randomBytes(17, 200_000);
    static final Digest SMALL_DIGEST = Digest.parse(Content.sha256(SMALL));

    @BeforeAll
    static void start() throws Exception {
        registry = LocalRegistry.start(tmp);
        registry.pusher().pushBlob("ranged/app", BLOB);
        registry.pusher().pushBlob("ranged/app", SMALL);
        proxy = FaultProxy.start(registry.url());
        client = client(new RangedFetch(1 << 20, PART, 4));
    }

    static RegistryClient client(RangedFetch policy) throws RegistryException {
        MirrorConfig config = MirrorConfig.defaults().withUpstream(new MirrorConfig.UpstreamConfig(proxy.hostPort(),
                URI.create(proxy.url().toString()), true, null, null, null, Set.of()));
        RetryPolicy retry = RetryPolicy.defaults().withSleeper(d -> { }).withMaxAttempts(3);
        return new Upstreams(config.toUpstreamList(), CredentialStore.none(), RegistryClient.defaultHttpClient(),
                Clock.systemUTC(), retry, policy).client(proxy.hostPort());
    }

    /** Any first part is fast enough: the rest of the blob is one stream. */
    static RegistryClient oneStreamAfterTheFirstPart() throws RegistryException {
        return client(new RangedFetch(1 << 20, PART, 4, 1));
    }

    /** No first part is fast enough: the other parts are fetched in parallel. */
    static RegistryClient partsAfterTheFirstPart() throws RegistryException {
        return client(new RangedFetch(1 << 20, PART, 4, Long.MAX_VALUE));
    }

    @AfterEach
    void reset() {
        assertThat(proxy.pendingFaults()).as("every injected fault was used").isZero();
        proxy.clearFaults();
        proxy.ranges(Ranges.HONOUR);
    }

    @AfterAll
    static void stop() {
        proxy.close();
        registry.close();
    }

    /** Keeps what was written at its offsets and every prefix reported. */
    static final class Recorder implements BlobSink {
        final byte[] bytes;
        final List<Long> prefixes = new ArrayList<>();
        final Set<String> writers = ConcurrentHashMap.newKeySet();

        Recorder(int size) {
            bytes = new byte[size];
        }

        @Override
        public void write(long offset, ByteBuffer b) {
            writers.add(Thread.currentThread().getName());
            b.get(bytes, (int) offset, b.remaining());
        }

        @Override
        public synchronized void hashed(long length) {
            prefixes.add(length);
        }
    }

    long gets(Digest d) {
        return proxy.blobGets(d.toString());
    }

    @Test
    void aLargeBlobArrivesInRangedPartsFetchedInParallelAndHashedInOrder() throws Exception {
        long before = gets(DIGEST);
        long rangedBefore = proxy.rangedBlobGets();
        Recorder sink = new Recorder(BLOB.length);

        assertThat(client.fetchBlob("ranged/app", DIGEST, BLOB.length, sink)).isEqualTo(BLOB.length);

        assertThat(sink.bytes).isEqualTo(BLOB);
        assertThat(gets(DIGEST) - before).as("one GET per part").isEqualTo(13);
        assertThat(proxy.rangedBlobGets() - rangedBefore).as("every part a ranged GET").isEqualTo(13);
        assertThat(sink.writers).as("parts written by several threads").hasSizeGreaterThan(1);
        assertThat(sink.prefixes).isSorted().doesNotHaveDuplicates().endsWith((long) BLOB.length);
        assertThat(sink.prefixes.get(0)).isEqualTo(PART);
    }

    @Test
    void refusedRangesFallBackToTheOneStreamAlreadyOpen() throws Exception {
        proxy.ranges(Ranges.IGNORE);
        long before = gets(DIGEST);
        Recorder sink = new Recorder(BLOB.length);

        assertThat(client.fetchBlob("ranged/app", DIGEST, BLOB.length, sink)).isEqualTo(BLOB.length);

        assertThat(sink.bytes).isEqualTo(BLOB);
        assertThat(gets(DIGEST) - before).as("the 200 to the first ranged GET is read whole: one fetch").isEqualTo(1);
        assertThat(sink.prefixes).isSorted().endsWith((long) BLOB.length);
    }

    @Test
    void aMislabelledRangeIsDroppedForOnePlainGet() throws Exception {
        proxy.ranges(Ranges.MISLABEL);
        long before = gets(DIGEST);
        long rangedBefore = proxy.rangedBlobGets();
        Recorder sink = new Recorder(BLOB.length);

        assertThat(client.fetchBlob("ranged/app", DIGEST, BLOB.length, sink)).isEqualTo(BLOB.length);

        assertThat(sink.bytes).isEqualTo(BLOB);
        assertThat(gets(DIGEST) - before).isEqualTo(2);
        assertThat(proxy.rangedBlobGets() - rangedBefore).as("only the probe asked for a range").isEqualTo(1);
    }

    @Test
    void corruptionInTheFirstOrALaterPartIsCaughtByTheInOrderHash() {
        proxy.inject(Fault.flipAt(1000));
        assertThatThrownBy(() -> client.fetchBlob("ranged/app", DIGEST, BLOB.length, new Recorder(BLOB.length)))
                .isInstanceOf(ContentMismatchException.class);

        proxy.inject(Fault.pass()).inject(Fault.pass()).inject(Fault.flipAt(PART - 1));
        assertThatThrownBy(() -> client.fetchBlob("ranged/app", DIGEST, BLOB.length, new Recorder(BLOB.length)))
                .isInstanceOf(ContentMismatchException.class);
    }

    @Test
    void aPartCutOffMidwayIsAskedForAgainFromItsLastByte() throws Exception {
        proxy.inject(Fault.pass()).inject(Fault.resetAt(1000)).inject(Fault.truncateAt(PART / 2));
        long before = gets(DIGEST);
        Recorder sink = new Recorder(BLOB.length);

        assertThat(client.fetchBlob("ranged/app", DIGEST, BLOB.length, sink)).isEqualTo(BLOB.length);

        assertThat(sink.bytes).isEqualTo(BLOB);
        assertThat(gets(DIGEST) - before).as("13 parts and two resumed ones").isEqualTo(15);
    }

    @Test
    void aFirstPartThatArrivedFastEnoughHasTheRestStreamedOverOneConnection() throws Exception {
        long before = gets(DIGEST);
        long rangedBefore = proxy.rangedBlobGets();
        Recorder sink = new Recorder(BLOB.length);

        assertThat(oneStreamAfterTheFirstPart().fetchBlob("ranged/app", DIGEST, BLOB.length, sink))
                .isEqualTo(BLOB.length);

        assertThat(sink.bytes).isEqualTo(BLOB);
        assertThat(gets(DIGEST) - before).as("the first part, then the rest").isEqualTo(2);
        assertThat(proxy.rangedBlobGets() - rangedBefore).as("both ranged").isEqualTo(2);
        assertThat(sink.writers).as("the first part by the caller, the stream by the writer behind it, no part helpers")
                .containsExactlyInAnyOrder(Thread.currentThread().getName(), "blob-write");
        assertThat(sink.prefixes).isSorted().doesNotHaveDuplicates().endsWith((long) BLOB.length);
        assertThat(sink.prefixes.get(0)).isEqualTo(PART);
    }

    @Test
    void aFirstPartThatArrivedSlowlyHasTheOtherPartsFetchedInParallel() throws Exception {
        long before = gets(DIGEST);
        long rangedBefore = proxy.rangedBlobGets();
        Recorder sink = new Recorder(BLOB.length);

        assertThat(partsAfterTheFirstPart().fetchBlob("ranged/app", DIGEST, BLOB.length, sink)).isEqualTo(BLOB.length);

        assertThat(sink.bytes).isEqualTo(BLOB);
        assertThat(gets(DIGEST) - before).as("one GET per part").isEqualTo(13);
        assertThat(proxy.rangedBlobGets() - rangedBefore).isEqualTo(13);
        assertThat(sink.writers).as("parts written by several threads").hasSizeGreaterThan(1);
        assertThat(sink.prefixes).isSorted().doesNotHaveDuplicates().endsWith((long) BLOB.length);
        assertThat(sink.prefixes.get(0)).isEqualTo(PART);
    }

    @Test
    void theStreamAfterAFastFirstPartIsResumedFromWhereItBroke() throws Exception {
        proxy.inject(Fault.pass()).inject(Fault.resetAt(3 * PART + 17)).inject(Fault.truncateAt(PART));
        long before = gets(DIGEST);
        Recorder sink = new Recorder(BLOB.length);

        assertThat(oneStreamAfterTheFirstPart().fetchBlob("ranged/app", DIGEST, BLOB.length, sink))
                .isEqualTo(BLOB.length);

        assertThat(sink.bytes).isEqualTo(BLOB);
        assertThat(gets(DIGEST) - before).as("the first part, the rest, and two resumptions").isEqualTo(4);
        assertThat(sink.prefixes).isSorted().doesNotHaveDuplicates().endsWith((long) BLOB.length);
    }

    @Test
    void corruptionInTheStreamAfterAFastFirstPartFailsTheWholeDigest() {
        proxy.inject(Fault.pass()).inject(Fault.flipAt(5 * PART));
        assertThatThrownBy(() -> oneStreamAfterTheFirstPart().fetchBlob("ranged/app", DIGEST, BLOB.length,
                new Recorder(BLOB.length))).isInstanceOf(ContentMismatchException.class);

        proxy.inject(Fault.flipAt(7));
        assertThatThrownBy(() -> oneStreamAfterTheFirstPart().fetchBlob("ranged/app", DIGEST, BLOB.length,
                new Recorder(BLOB.length))).as("a flipped byte in the timed first part")
                .isInstanceOf(ContentMismatchException.class);
    }

    @Test
    void fastEnoughComparesBytesPerSecondWithTheSetting() {
        RangedFetch policy = new RangedFetch(1 << 20, PART, 4, 100L << 20);
        assertThat(policy.fastEnough(8L << 20, 50_000_000L)).as("160 MiB/s").isTrue();
        assertThat(policy.fastEnough(8L << 20, 80_000_000L)).as("100 MiB/s").isTrue();
        assertThat(policy.fastEnough(8L << 20, 81_000_000L)).as("98.8 MiB/s").isFalse();
        assertThat(new RangedFetch(1 << 20, PART, 4).fastEnough(8L << 20, 1)).as("0: never one stream").isFalse();
        assertThat(RangedFetch.DEFAULTS.fastStream()).isEqualTo(100L << 20);
        assertThat(RangedFetch.OFF.adaptive()).isFalse();
    }

    @Test
    void aBlobBelowTheThresholdStreamsWithoutRanges() throws Exception {
        long rangedBefore = proxy.rangedBlobGets();
        Recorder sink = new Recorder(SMALL.length);

        assertThat(client.fetchBlob("ranged/app", SMALL_DIGEST, SMALL.length, sink)).isEqualTo(SMALL.length);

        assertThat(sink.bytes).isEqualTo(SMALL);
        assertThat(proxy.rangedBlobGets()).isEqualTo(rangedBefore);
        assertThat(gets(SMALL_DIGEST)).isEqualTo(1);
    }
}
