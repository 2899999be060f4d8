package io.imagemirror.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imagemirror.mirror.CopySuspendedException;
import io.imagemirror.mirror.MirrorListener;
import io.imagemirror.mirror.PartialBlob;
import io.imagemirror.mirror.ResumableCopies;
import io.imagemirror.mirror.TimeBudget;
import io.imagemirror.oci.ContentMismatchException;
import io.imagemirror.oci.Digest;
import io.imagemirror.oci.RegistryException;
import io.imagemirror.store.BlobStore;
import io.imagemirror.store.InMemoryBlobStore;
import io.imagemirror.store.MultipartUploads;
import io.imagemirror.testbed.Content;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import mockwebserver3.MockWebServer;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link ResumableCopies} over the fake registry and an in-memory multipart store: a copy that
 * stops after every part goes on from the saved hash state with a {@code Range} request, or, where
 * upstream ignores ranges, by hashing the prefix again and checking it against the saved state;
 * wrong bytes never complete an upload.
 */
class ResumableCopiesTest {

    static final int PART = 1024;

    final MockWebServer server = new MockWebServer();
    final FakeRegistry hub = FakeRegistry.registry();
    final InMemoryBlobStore blobs = new InMemoryBlobStore();
    final InMemoryUploads uploads = new InMemoryUploads(blobs);
    final ExecutorService pool = Executors.newFixedThreadPool(3);
    final ResumableCopies copies = new ResumableCopies(uploads, 1, PART, 2, pool);
    /** Spent from the start: every run copies one part and stops. */
    final TimeBudget spent = TimeBudget.of(Duration.ZERO, Duration.ZERO, Clock.systemUTC());
    RegistryClient client;

    @BeforeEach
    void start() throws Exception {
        server.setDispatcher(hub);
        server.start(InetAddress.getByName("127.0.0.1"), 0);
        Upstream up = Upstream.builder("docker.io").endpoint(URI.create("http://127.0.0.1:" + server.getPort()))
                .insecure(true).build();
        client = new Upstreams(List.of(up), CredentialStore.none(), new OkHttpClient(), Clock.systemUTC(),
                RetryPolicy.none()).client("docker.io");
    }

    @AfterEach
    void stop() {
        server.close();
        pool.shutdownNow();
    }

    /** Runs sessions of one part each until the copy is done; returns how many runs it took. */
    int copyInRuns(Digest d, long size) throws IOException {
        List<PartialBlob> from = List.of();
        for (int run = 1; ; run++) {
            ResumableCopies.Session s = copies.session(spent, from);
            try {
                s.copy(client, "library/big", d, size, MirrorListener.NONE);
                assertThat(s.partials()).isEmpty();
                return run;
            } catch (CopySuspendedException e) {
                assertThat(s.suspended()).isTrue();
                from = s.partials();
                assertThat(from).hasSize(1);
                assertThat(from.get(0).offset()).isEqualTo((long) run * PART);
                assertThat(blobs.exists(d)).as("nothing visible before the whole blob verified").isFalse();
            }
        }
    }

    @Test
    void aCopyStoppedAfterEveryPartGoesOnWithRangeRequestsAndStoresTheVerifiedBlob() throws Exception {
        byte[] bytes = Content.randomBytes(3, 4 * PART + 100);
        Digest d = hub.putBlob(bytes);
        assertThat(copyInRuns(d, bytes.length)).isEqualTo(5);
        assertThat(blobs.open(d).orElseThrow().stream().readAllBytes()).isEqualTo(bytes);
        List<String> ranges = hub.requestsTo("/blobs/").stream().map(r -> r.getHeaders().get("Range")).toList();
        assertThat(ranges).containsExactly(null, "bytes=1024-", "bytes=2048-", "bytes=3072-", "bytes=4096-");
        assertThat(uploads.completed).containsExactly(d);
        assertThat(uploads.open()).isEmpty();
    }

    @Test
    void whereUpstreamIgnoresRangesThePrefixIsHashedAgainAndTheCopyGoesOn() throws Exception {
        hub.honourRange = false;
        byte[] bytes = Content.randomBytes(4, 3 * PART + 1);
        Digest d = hub.putBlob(bytes);
        assertThat(copyInRuns(d, bytes.length)).isEqualTo(4);
        assertThat(blobs.open(d).orElseThrow().stream().readAllBytes()).isEqualTo(bytes);
        assertThat(uploads.open()).isEmpty();
    }

    @Test
    void aPrefixThatIsNotWhatWasUploadedBeforeIsRefusedAndTheUploadAborted() throws Exception {
        hub.honourRange = false;
        byte[] bytes = Content.randomBytes(5, 3 * PART);
        Digest d = hub.putBlob(bytes);
        ResumableCopies.Session first = copies.session(spent, List.of());
        assertThatThrownBy(() -> first.copy(client, "library/big", d, bytes.length, MirrorListener.NONE))
                .isInstanceOf(CopySuspendedException.class);
        byte[] other = bytes.clone();
        other[10] ^= 1;
        hub.wrongBlobBytes = other; // upstream now sends other bytes (its first part differs)

        ResumableCopies.Session second = copies.session(spent, first.partials());
        assertThatThrownBy(() -> second.copy(client, "library/big", d, bytes.length, MirrorListener.NONE))
                .isInstanceOf(RegistryException.class).hasMessageContaining("other bytes");
        assertThat(second.partials()).isEmpty();
        assertThat(uploads.open()).as("aborted").isEmpty();
        assertThat(blobs.exists(d)).isFalse();
    }

    @Test
    void bytesThatDoNotHashToTheDigestNeverCompleteTheUpload() throws Exception {
        byte[] bytes = Content.randomBytes(6, 2 * PART + 5);
        Digest d = hub.putBlob(bytes);
        byte[] wrong = bytes.clone();
        wrong[wrong.length - 1] ^= 1;
        hub.wrongBlobBytes = wrong;
        ResumableCopies.Session s = copies.session(TimeBudget.UNLIMITED, List.of());
        assertThatThrownBy(() -> s.copy(client, "library/big", d, bytes.length, MirrorListener.NONE))
                .isInstanceOfSatisfying(ContentMismatchException.class,
                        e -> assertThat(e.kind()).isEqualTo(ContentMismatchException.Kind.DIGEST));
        assertThat(uploads.completed).isEmpty();
        assertThat(uploads.open()).isEmpty();
        assertThat(s.partials()).isEmpty();
        assertThat(blobs.exists(d)).isFalse();
    }

    @Test
    void partialCopiesARunDidNotTakeUpAreAbortedWhenItEnds() throws Exception {
        byte[] bytes = Content.randomBytes(7, 2 * PART + 5);
        Digest d = hub.putBlob(bytes);
        ResumableCopies.Session first = copies.session(spent, List.of());
        assertThatThrownBy(() -> first.copy(client, "library/big", d, bytes.length, MirrorListener.NONE))
                .isInstanceOf(CopySuspendedException.class);
        assertThat(uploads.open()).hasSize(1);
        ResumableCopies.Session next = copies.session(spent, first.partials());
        next.abortUnused(); // e.g. the tag moved upstream and the image no longer has this layer
        assertThat(uploads.open()).isEmpty();
    }

    // Parts fetched with parallel ranged GETs (partsAtOnce 3)

    final ExecutorService fetches = Executors.newCachedThreadPool();
    final ResumableCopies ranged = new ResumableCopies(uploads, 1, PART, 2, pool, 3, fetches);

    @AfterEach
    void stopFetches() {
        fetches.shutdownNow();
    }

    List<String> blobRanges() {
        return hub.requestsTo("/blobs/").stream().filter(r -> r.getMethod().equals("GET"))
                .map(r -> String.valueOf(r.getHeaders().get("Range"))).toList();
    }

    static String part(int i, int size) {
        return "bytes=" + (i * PART) + "-" + (Math.min((i + 1) * PART, size) - 1);
    }

    @Test
    void rangedPartsAreEachFetchedOnceAndTheBlobStoredVerified() throws Exception {
        byte[] bytes = Content.randomBytes(8, 6 * PART + 100);
        Digest d = hub.putBlob(bytes);
        ResumableCopies.Session s = ranged.session(TimeBudget.UNLIMITED, List.of());
        assertThat(s.copy(client, "library/big", d, bytes.length, MirrorListener.NONE)).isEqualTo(bytes.length);
        assertThat(blobs.open(d).orElseThrow().stream().readAllBytes()).isEqualTo(bytes);
        assertThat(blobRanges()).containsExactlyInAnyOrder(part(0, bytes.length), part(1, bytes.length),
                part(2, bytes.length), part(3, bytes.length), part(4, bytes.length), part(5, bytes.length),
                part(6, bytes.length));
        assertThat(uploads.completed).containsExactly(d);
        assertThat(uploads.open()).isEmpty();
        assertThat(ranged.buffersPerCopy()).isEqualTo(2 + 3);
    }

    @Test
    void aRangedCopyStoppedAfterEveryPartAsksForNothingAheadAndGoesOn() throws Exception {
        byte[] bytes = Content.randomBytes(9, 3 * PART + 7);
        Digest d = hub.putBlob(bytes);
        List<PartialBlob> from = List.of();
        int runs = 0;
        while (true) {
            runs++;
            ResumableCopies.Session s = ranged.session(spent, from);
            try {
                s.copy(client, "library/big", d, bytes.length, MirrorListener.NONE);
                break;
            } catch (CopySuspendedException e) {
                from = s.partials();
            }
        }
        assertThat(runs).isEqualTo(4);
        assertThat(blobs.open(d).orElseThrow().stream().readAllBytes()).isEqualTo(bytes);
        // the last run has one part left, which it reads as one stream from the resume point
        assertThat(blobRanges()).containsExactly(part(0, bytes.length), part(1, bytes.length), part(2, bytes.length),
                "bytes=" + (3 * PART) + "-");
        assertThat(uploads.open()).isEmpty();
    }

    @Test
    void whereUpstreamIgnoresRangesTheFirstAnswerIsReadAsTheWholeBlob() throws Exception {
        hub.honourRange = false;
        byte[] bytes = Content.randomBytes(10, 4 * PART + 3);
        Digest d = hub.putBlob(bytes);
        ResumableCopies.Session s = ranged.session(TimeBudget.UNLIMITED, List.of());
        s.copy(client, "library/big", d, bytes.length, MirrorListener.NONE);
        assertThat(blobs.open(d).orElseThrow().stream().readAllBytes()).isEqualTo(bytes);
        assertThat(hub.blobGets.get()).as("one GET, nothing fetched twice").isEqualTo(1);
        assertThat(uploads.open()).isEmpty();
    }

    @Test
    void aPartCutOffMidWayIsAskedForAgainFromWhereItBroke() throws Exception {
        byte[] bytes = Content.randomBytes(11, 5 * PART + 9);
        Digest d = hub.putBlob(bytes);
        hub.truncateAt.add(Long.MAX_VALUE); // the first part: whole
        hub.truncateAt.add((long) PART + 100); // the next GET breaks: part 1 after 100 bytes, a later one at once
        ResumableCopies.Session s = ranged.session(TimeBudget.UNLIMITED, List.of());
        s.copy(client, "library/big", d, bytes.length, MirrorListener.NONE);
        assertThat(blobs.open(d).orElseThrow().stream().readAllBytes()).isEqualTo(bytes);
        assertThat(hub.rangedGets.get()).as("one part asked for again").isEqualTo(7);
        assertThat(uploads.completed).containsExactly(d);
        assertThat(uploads.open()).isEmpty();
    }

    @Test
    void rangedPartsThatDoNotHashToTheDigestNeverCompleteTheUpload() throws Exception {
        byte[] bytes = Content.randomBytes(12, 3 * PART + 5);
        Digest d = hub.putBlob(bytes);
        byte[] wrong = bytes.clone();
        wrong[2 * PART + 1] ^= 1;
        hub.wrongBlobBytes = wrong;
        ResumableCopies.Session s = ranged.session(TimeBudget.UNLIMITED, List.of());
        assertThatThrownBy(() -> s.copy(client, "library/big", d, bytes.length, MirrorListener.NONE))
                .isInstanceOfSatisfying(ContentMismatchException.class,
                        e -> assertThat(e.kind()).isEqualTo(ContentMismatchException.Kind.DIGEST));
        assertThat(uploads.completed).isEmpty();
        assertThat(uploads.open()).isEmpty();
        assertThat(blobs.exists(d)).isFalse();
    }

    @Test
    void copiesWhosePartsDoNotFitTheMemoryBudgetTogetherRunOneAfterTheOther() throws Exception {
        // room for one copy's 5 buffers (2 uploading + 3 at once) of PART bytes: a budget of 1 MiB
        ResumableCopies oneAtATime = new ResumableCopies(uploads, 1, PART, 2, pool, 3, fetches, 1 << 20);
        assertThat(oneAtATime.buffersPerCopy() * PART).isLessThanOrEqualTo(1 << 20);
        List<Digest> digests = new java.util.ArrayList<>();
        List<byte[]> contents = new java.util.ArrayList<>();
        for (int i = 0; i < 4; i++) {
            byte[] bytes = Content.randomBytes(20 + i, 12 * PART + i);
            contents.add(bytes);
            digests.add(hub.putBlob(bytes));
        }
        // a copy that needs more than the whole budget still runs (alone)
        ResumableCopies tight = new ResumableCopies(uploads, 1, 1 << 20, 2, pool, 3, fetches, 1 << 20);
        assertThat(tight.buffersPerCopy() * (1L << 20)).isGreaterThan(1 << 20);

        ResumableCopies.Session s = oneAtATime.session(TimeBudget.UNLIMITED, List.of());
        ExecutorService copiers = Executors.newFixedThreadPool(4);
        try {
            List<java.util.concurrent.Future<Long>> done = new java.util.ArrayList<>();
            for (int i = 0; i < 4; i++) {
                Digest d = digests.get(i);
                long size = contents.get(i).length;
                done.add(copiers.submit(() -> s.copy(client, "library/big", d, size, MirrorListener.NONE)));
            }
            for (java.util.concurrent.Future<Long> f : done) {
                f.get();
            }
        } finally {
            copiers.shutdownNow();
        }
        for (int i = 0; i < 4; i++) {
            assertThat(blobs.open(digests.get(i)).orElseThrow().stream().readAllBytes()).isEqualTo(contents.get(i));
        }
        assertThat(uploads.mostOpen.get()).as("uploads open at once").isEqualTo(1);

        byte[] big = Content.randomBytes(30, 2 * (1 << 20) + 3);
        Digest d = hub.putBlob(big);
        tight.session(TimeBudget.UNLIMITED, List.of()).copy(client, "library/big", d, big.length, MirrorListener.NONE);
        assertThat(blobs.open(d).orElseThrow().stream().readAllBytes()).isEqualTo(big);
    }

    /** Multipart uploads in memory; completing one puts the concatenated parts into the blob store (verified). */
    static final class InMemoryUploads implements MultipartUploads {
        final BlobStore target;
        final Map<String, Map<Integer, byte[]>> uploads = new ConcurrentHashMap<>();
        final Set<Digest> completed = ConcurrentHashMap.newKeySet();

        InMemoryUploads(BlobStore target) {
            this.target = target;
        }

        Set<String> open() {
            return uploads.keySet();
        }

        @Override
        public long minPartSize() {
            return PART;
        }

        @Override
        public int maxParts() {
            return 10_000;
        }

        /** The most uploads open at once. */
        final java.util.concurrent.atomic.AtomicInteger mostOpen = new java.util.concurrent.atomic.AtomicInteger();

        @Override
        public String begin(Digest digest) {
            String id = UUID.randomUUID().toString();
            uploads.put(id, new ConcurrentHashMap<>());
            mostOpen.accumulateAndGet(uploads.size(), Math::max);
            return id;
        }

        @Override
        public String uploadPart(Digest digest, String uploadId, int partNumber, byte[] bytes, int length) {
            Map<Integer, byte[]> parts = uploads.get(uploadId);
            if (parts == null) {
                throw new UploadGoneException("no upload " + uploadId, null);
            }
            byte[] copy = java.util.Arrays.copyOf(bytes, length);
            parts.put(partNumber, copy);
            return "\"" + Digest.sha256(copy).hex().substring(0, 16) + "\"";
        }

        @Override
        public BlobStore.PutResult complete(Digest digest, String uploadId, List<String> etags) {
            Map<Integer, byte[]> parts = uploads.remove(uploadId);
            if (parts == null) {
                throw new UploadGoneException("no upload " + uploadId, null);
            }
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            new TreeMap<>(parts).values().forEach(all::writeBytes);
            assertThat(parts).hasSize(etags.size());
            try {
                BlobStore.PutResult r = target.put(digest, all.size(), new ByteArrayInputStream(all.toByteArray()));
                completed.add(digest);
                return r;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void abort(Digest digest, String uploadId) {
            uploads.remove(uploadId);
        }
    }
}
