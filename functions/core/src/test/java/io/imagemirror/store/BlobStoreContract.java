package io.imagemirror.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.imagemirror.oci.ContentMismatchException;
import io.imagemirror.oci.Digest;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link BlobStore} does. Subclass once per adapter and give a fresh, empty store per
 * test. A behaviour difference between adapters is a bug in the adapter, not in this suite.
 */
public abstract class BlobStoreContract {

    protected BlobStore store;

    /** A new store, empty and not shared with any other test. */
    protected abstract BlobStore newStore() throws Exception;

    /** Releases what {@link #newStore} made (bucket, directory). */
    protected void cleanUp(BlobStore store) throws Exception {
    }

    /** Whether {@link BlobStore#presignGet} gives URLs on this adapter. */
    protected abstract boolean presigns();

    /**
     * The main class that puts {@link BigBlobPut}'s 200 MiB blob into the same store in a child JVM
     * with {@code -Xmx96m}, and its arguments; {@code null} where the store is in memory.
     */
    protected abstract BigPutChild bigPutChild();

    /**
     * Whether {@link BlobStore#put} reports exactly who wrote an object. S3 cannot: when the SDK
     * retries a conditional PUT whose first attempt was stored but whose answer was lost, the retry
     * gets 412 and the put says {@link BlobStore.PutResult#ALREADY_EXISTS}. Then only "stored, by
     * someone" is checked.
     */
    protected boolean exactPutResult() {
        return true;
    }

    private void assertStored(BlobStore.PutResult r) {
        if (exactPutResult()) {
            assertThat(r).isEqualTo(BlobStore.PutResult.STORED);
        } else {
            assertThat(r).isIn(BlobStore.PutResult.STORED, BlobStore.PutResult.ALREADY_EXISTS);
        }
    }

    /** A class whose {@code main(args)} builds this test's store and calls {@link BigBlobPut#putInThisJvm}. */
    public record BigPutChild(Class<?> mainClass, List<String> args) {
    }

    @BeforeEach
    void openStore() throws Exception {
        store = newStore();
    }

    @AfterEach
    void closeStore() throws Exception {
        cleanUp(store);
    }

    protected static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    protected static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    protected static byte[] read(BlobStore.Content c) throws IOException {
        try (c) {
            return c.stream().readAllBytes();
        }
    }

    private void putBytes(byte[] b) throws IOException {
        store.put(Digest.sha256(b), b.length, new ByteArrayInputStream(b));
    }

    @Test
    void putThenOpenGivesTheBytes() throws Exception {
        byte[] b = bytes("hello, layer");
        Digest d = Digest.sha256(b);
        assertThat(store.exists(d)).isFalse();
        assertStored(store.put(d, b.length, new ByteArrayInputStream(b)));
        assertThat(store.exists(d)).isTrue();
        BlobStore.Info info = store.stat(d).orElseThrow();
        assertThat(info.digest()).isEqualTo(d);
        assertThat(info.size()).isEqualTo(b.length);
        assertThat(info.lastModified()).isNotNull();
        BlobStore.Content c = store.open(d).orElseThrow();
        assertThat(c.size()).isEqualTo(b.length);
        assertThat(c.length()).isEqualTo(b.length);
        assertThat(c.isPartial()).isFalse();
        assertThat(read(c)).isEqualTo(b);
    }

    @Test
    void emptyBlobIsStoredAndOpened() throws Exception {
        byte[] b = new byte[0];
        Digest d = Digest.sha256(b);
        assertStored(store.put(d, 0, new ByteArrayInputStream(b)));
        BlobStore.Content c = store.open(d).orElseThrow();
        assertThat(c.size()).isZero();
        assertThat(read(c)).isEmpty();
    }

    @Test
    void secondPutIsIdempotentAndDoesNotReadTheStream() throws Exception {
        byte[] b = bytes("same bytes twice");
        Digest d = Digest.sha256(b);
        store.put(d, b.length, new ByteArrayInputStream(b));
        InputStream mustNotBeRead = new InputStream() {
            @Override
            public int read() throws IOException {
                throw new IOException("read although the blob exists");
            }
        };
        assertThat(store.put(d, b.length, mustNotBeRead)).isEqualTo(BlobStore.PutResult.ALREADY_EXISTS);
        assertThat(read(store.open(d).orElseThrow())).isEqualTo(b);
    }

    @Test
    void wrongDigestIsRejectedAndNothingIsVisible() throws Exception {
        byte[] b = bytes("these bytes");
        Digest claimed = Digest.sha256(bytes("other bytes"));
        assertThatThrownBy(() -> store.put(claimed, b.length, new ByteArrayInputStream(b)))
                .isInstanceOfSatisfying(ContentMismatchException.class,
                        e -> assertThat(e.kind()).isEqualTo(ContentMismatchException.Kind.DIGEST));
        assertNothingStored(claimed);
    }

    @Test
    void shortStreamIsRejectedAndNothingIsVisible() throws Exception {
        byte[] b = random(10_000, 1);
        Digest d = Digest.sha256(b);
        byte[] cut = java.util.Arrays.copyOf(b, 9_000);
        assertThatThrownBy(() -> store.put(d, b.length, new ByteArrayInputStream(cut)))
                .isInstanceOfSatisfying(ContentMismatchException.class,
                        e -> assertThat(e.kind()).isEqualTo(ContentMismatchException.Kind.TOO_SHORT));
        assertNothingStored(d);
    }

    @Test
    void longStreamIsRejectedAndNothingIsVisible() throws Exception {
        byte[] b = random(10_000, 2);
        Digest d = Digest.sha256(b);
        InputStream longer = new SequenceInputStream(new ByteArrayInputStream(b), new ByteArrayInputStream(new byte[5]));
        assertThatThrownBy(() -> store.put(d, b.length, longer))
                .isInstanceOfSatisfying(ContentMismatchException.class,
                        e -> assertThat(e.kind()).isEqualTo(ContentMismatchException.Kind.TOO_LONG));
        assertNothingStored(d);
    }

    @Test
    void aLargerBlobWithTheWrongDigestOrLengthIsRejected() throws Exception {
        // Large enough that stores which buffer small objects have to stream this one.
        GeneratedBlob blob = new GeneratedBlob(3L << 20, 7);
        Digest wrong = new GeneratedBlob(3L << 20, 8).digest();
        try (InputStream in = blob.stream()) {
            assertThatThrownBy(() -> store.put(wrong, blob.size(), in))
                    .isInstanceOfSatisfying(ContentMismatchException.class,
                            e -> assertThat(e.kind()).isEqualTo(ContentMismatchException.Kind.DIGEST));
        }
        assertNothingStored(wrong);
        Digest right = blob.digest();
        try (InputStream in = blob.stream()) {
            assertThatThrownBy(() -> store.put(right, blob.size() + 10, in))
                    .isInstanceOfSatisfying(ContentMismatchException.class,
                            e -> assertThat(e.kind()).isEqualTo(ContentMismatchException.Kind.TOO_SHORT));
        }
        assertNothingStored(right);
        try (InputStream in = blob.stream()) {
            assertStored(store.put(right, blob.size(), in));
        }
        assertThat(store.stat(right).orElseThrow().size()).isEqualTo(blob.size());
    }

    @Test
    void wrongDeclaredSizeIsRejected() throws Exception {
        byte[] b = random(4_000, 3);
        Digest d = Digest.sha256(b);
        assertThatThrownBy(() -> store.put(d, b.length + 1, new ByteArrayInputStream(b)))
                .isInstanceOf(ContentMismatchException.class);
        assertNothingStored(d);
    }

    @Test
    void failingSourceLeavesNothingVisible() throws Exception {
        byte[] b = random(300_000, 4);
        Digest d = Digest.sha256(b);
        InputStream breaks = new InputStream() {
            private int pos;

            @Override
            public int read() throws IOException {
                throw new IOException("unexpected");
            }

            @Override
            public int read(byte[] buf, int off, int len) throws IOException {
                if (pos >= 200_000) {
                    throw new IOException("connection reset by upstream");
                }
                int n = Math.min(len, 200_000 - pos);
                System.arraycopy(b, pos, buf, off, n);
                pos += n;
                return n;
            }
        };
        assertThatThrownBy(() -> store.put(d, b.length, breaks)).isInstanceOf(IOException.class)
                .isNotInstanceOf(ContentMismatchException.class);
        assertNothingStored(d);
        // and a later good put works
        assertStored(store.put(d, b.length, new ByteArrayInputStream(b)));
    }

    private void assertNothingStored(Digest d) {
        assertThat(store.exists(d)).isFalse();
        assertThat(store.open(d)).isEmpty();
        assertThat(allDigests()).doesNotContain(d);
    }

    @Test
    void eightThreadsPuttingTheSameBlobAllSucceedAndOneObjectExists() throws Exception {
        byte[] b = random(1_500_000, 5);
        Digest d = Digest.sha256(b);
        int threads = 8;
        CyclicBarrier start = new CyclicBarrier(threads);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<BlobStore.PutResult>> results = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                results.add(pool.submit(() -> {
                    start.await();
                    return store.put(d, b.length, new ByteArrayInputStream(b));
                }));
            }
            int stored = 0;
            for (Future<BlobStore.PutResult> f : results) {
                if (f.get() == BlobStore.PutResult.STORED) {
                    stored++;
                }
            }
            if (exactPutResult()) {
                assertThat(stored).as("puts that wrote the object").isEqualTo(1);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(allDigests()).containsOnlyOnce(d);
        assertThat(read(store.open(d).orElseThrow())).isEqualTo(b);
    }

    @Test
    void rangesReturnTheRequestedBytes() throws Exception {
        byte[] b = random(10_000, 6);
        Digest d = Digest.sha256(b);
        putBytes(b);

        BlobStore.Content mid = store.open(d, ByteRange.of(100, 199)).orElseThrow();
        assertThat(mid.offset()).isEqualTo(100);
        assertThat(mid.length()).isEqualTo(100);
        assertThat(mid.size()).isEqualTo(10_000);
        assertThat(mid.isPartial()).isTrue();
        assertThat(read(mid)).isEqualTo(java.util.Arrays.copyOfRange(b, 100, 200));

        BlobStore.Content tail = store.open(d, ByteRange.from(9_990)).orElseThrow();
        assertThat(tail.length()).isEqualTo(10);
        assertThat(read(tail)).isEqualTo(java.util.Arrays.copyOfRange(b, 9_990, 10_000));

        BlobStore.Content clipped = store.open(d, ByteRange.of(9_000, 20_000)).orElseThrow();
        assertThat(clipped.length()).isEqualTo(1_000);
        assertThat(read(clipped)).isEqualTo(java.util.Arrays.copyOfRange(b, 9_000, 10_000));

        BlobStore.Content one = store.open(d, ByteRange.of(0, 0)).orElseThrow();
        assertThat(read(one)).containsExactly(b[0]);

        assertThatThrownBy(() -> store.open(d, ByteRange.from(10_000)))
                .isInstanceOfSatisfying(RangeNotSatisfiableException.class, e -> assertThat(e.size()).isEqualTo(10_000));
        assertThat(store.open(Digest.sha256(bytes("absent")), ByteRange.of(0, 5))).isEmpty();
    }

    @Test
    void absentBlobIsEmptyNotAnError() {
        Digest d = Digest.sha256(bytes("never stored"));
        assertThat(store.exists(d)).isFalse();
        assertThat(store.stat(d)).isEmpty();
        assertThat(store.open(d)).isEmpty();
        store.delete(d);
    }

    @Test
    void deleteRemovesAndIsIdempotent() throws Exception {
        byte[] b = bytes("to be deleted");
        Digest d = Digest.sha256(b);
        putBytes(b);
        store.delete(d);
        assertThat(store.exists(d)).isFalse();
        assertThat(allDigests()).doesNotContain(d);
        store.delete(d);
        assertStored(store.put(d, b.length, new ByteArrayInputStream(b)));
    }

    @Test
    void sha512DigestsAreStoredToo() throws Exception {
        byte[] b = bytes("sha512 content");
        Digest d = Digest.compute(Digest.Algorithm.SHA512, b);
        assertStored(store.put(d, b.length, new ByteArrayInputStream(b)));
        assertThat(read(store.open(d).orElseThrow())).isEqualTo(b);
        assertThat(allDigests()).contains(d);
    }

    @Test
    void listingPagesInDigestOrderWithSizesAndTimes() throws Exception {
        List<Digest> expected = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            byte[] b = bytes("blob number " + i);
            putBytes(b);
            expected.add(Digest.sha256(b));
        }
        expected.sort(null);
        List<BlobStore.Info> seen = new ArrayList<>();
        String token = null;
        int pages = 0;
        do {
            Page<BlobStore.Info> page = store.list(3, token);
            assertThat(page.items().size()).isLessThanOrEqualTo(3);
            seen.addAll(page.items());
            token = page.nextToken();
            pages++;
        } while (token != null && pages < 20);
        assertThat(pages).isGreaterThan(2);
        assertThat(seen).extracting(BlobStore.Info::digest).containsExactlyElementsOf(expected);
        assertThat(seen).allSatisfy(i -> {
            assertThat(i.lastModified()).isNotNull();
            assertThat(i.size()).isEqualTo(("blob number x").length());
        });
    }

    @Test
    void presignedGetServesTheBytesWhereSupported() throws Exception {
        byte[] b = bytes("presigned");
        Digest d = Digest.sha256(b);
        putBytes(b);
        Optional<URI> url = store.presignGet(d, Duration.ofMinutes(5));
        if (!presigns()) {
            assertThat(url).isEmpty();
            return;
        }
        HttpResponse<byte[]> r = HttpClient.newHttpClient()
                .send(HttpRequest.newBuilder(url.orElseThrow()).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo(b);
    }

    @Test
    void twoHundredMebibytesStreamInANinetySixMebibyteHeap() throws Exception {
        BigPutChild child = bigPutChild();
        assumeTrue(child != null, "store keeps blobs in memory");
        String out = BigBlobPut.runChild(child.mainClass(), child.args());
        Digest d = new GeneratedBlob(BigBlobPut.SIZE, BigBlobPut.SEED).digest();
        java.util.regex.Matcher heap = java.util.regex.Pattern.compile("maxHeap=(\\d+)").matcher(out);
        assertThat(heap.find()).as("child output: " + out).isTrue();
        assertThat(Long.parseLong(heap.group(1))).as("child max heap").isLessThanOrEqualTo(96L << 20);
        assertThat(out).containsPattern("PUT " + (exactPutResult() ? "STORED" : "(STORED|ALREADY_EXISTS)") + " " + d);
        assertThat(store.stat(d).orElseThrow().size()).isEqualTo(BigBlobPut.SIZE);
        BlobStore.Content tail = store.open(d, ByteRange.from(BigBlobPut.SIZE - 1000)).orElseThrow();
        byte[] expectedTail = new byte[1000];
        try (InputStream gen = new GeneratedBlob(BigBlobPut.SIZE, BigBlobPut.SEED).stream()) {
            gen.skipNBytes(BigBlobPut.SIZE - 1000);
            gen.readNBytes(expectedTail, 0, 1000);
        }
        assertThat(read(tail)).isEqualTo(expectedTail);
        store.delete(d);
    }

    protected List<Digest> allDigests() {
        List<Digest> all = new ArrayList<>();
        String token = null;
        do {
            Page<BlobStore.Info> page = store.list(100, token);
            page.items().forEach(i -> all.add(i.digest()));
            token = page.nextToken();
        } while (token != null);
        return all;
    }
}
