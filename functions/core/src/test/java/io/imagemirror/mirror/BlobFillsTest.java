package io.imagemirror.mirror;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imagemirror.oci.Digest;
import io.imagemirror.oci.VerifyingInputStream;
import io.imagemirror.store.InMemoryBlobStore;
import io.imagemirror.store.InMemoryIndex;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BlobFillsTest {

    @TempDir
    Path spool;

    final ExecutorService executor = Executors.newCachedThreadPool();
    final InMemoryBlobStore blobs = new InMemoryBlobStore();
    final InMemoryIndex metadata = new InMemoryIndex(java.time.Clock.systemUTC());

    @AfterEach
    void stop() {
        executor.shutdownNow();
    }

    static byte[] data(int size) {
        byte[] b = new byte[size];
        new Random(size).nextBytes(b);
        return b;
    }

    /** A source that hands out its bytes slowly, in steps gated by a latch, verifying at the end. */
    static BlobFills.Source slow(byte[] bytes, CountDownLatch gate, AtomicInteger opens) {
        return slow(bytes, gate, opens, new CountDownLatch(1));
    }

    /** As above; {@code atGate} is counted down when the source stops at the gate. */
    static BlobFills.Source slow(byte[] bytes, CountDownLatch gate, AtomicInteger opens, CountDownLatch atGate) {
        return () -> {
            opens.incrementAndGet();
            InputStream raw = new InputStream() {
                int pos;

                @Override
                public int read() {
                    return pos >= bytes.length ? -1 : bytes[pos++] & 0xff;
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    if (pos == bytes.length / 2) {
                        atGate.countDown();
                        try {
                            gate.await();
                        } catch (InterruptedException e) {
                            throw new IOException(e);
                        }
                    }
                    if (pos >= bytes.length) {
                        return -1;
                    }
                    int n = Math.min(Math.min(len, 10_000), bytes.length - pos);
                    System.arraycopy(bytes, pos, b, off, n);
                    pos += n;
                    return n;
                }
            };
            return new VerifyingInputStream(raw, Digest.sha256(bytes), bytes.length);
        };
    }

    @Test
    void readersFollowASpooledFillAndShareOneSourceOpen() throws Exception {
        byte[] bytes = data(300_000);
        Digest d = Digest.sha256(bytes);
        BlobFills fills = new BlobFills(blobs, metadata, spool, executor);
        CountDownLatch gate = new CountDownLatch(1);
        AtomicInteger opens = new AtomicInteger();
        CountDownLatch atGate = new CountDownLatch(1);
        BlobFills.Fill first = fills.fill(d, bytes.length, slow(bytes, gate, opens, atGate));
        BlobFills.Fill second = fills.fill(d, bytes.length, slow(bytes, gate, opens));
        assertThat(first.owned()).isTrue();
        assertThat(second.owned()).isFalse();
        List<Future<byte[]>> reads = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            reads.add(executor.submit(() -> first.open(0, bytes.length).readAllBytes()));
        }
        Future<byte[]> tail = executor.submit(() -> first.open(250_000, 50_000).readAllBytes());
        // The source is held half-way: no reader can have its bytes yet, whatever the scheduling
        // (an event, not a pause, shows it).
        assertThat(atGate.await(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(reads).noneMatch(Future::isDone);
        assertThat(tail.isDone()).isFalse();
        gate.countDown();
        for (Future<byte[]> f : reads) {
            assertThat(f.get()).isEqualTo(bytes);
        }
        assertThat(tail.get()).isEqualTo(Arrays.copyOfRange(bytes, 250_000, 300_000));
        first.await();
        assertThat(opens).hasValue(1);
        assertThat(blobs.exists(d)).isTrue();
        assertThat(metadata.getBlobRecord(d)).isPresent();
        // a reader that opens after the spool is gone reads the stored blob
        assertThat(first.open(0, 10).readAllBytes()).isEqualTo(Arrays.copyOf(bytes, 10));
        try (var files = Files.list(spool)) {
            assertThat(files).isEmpty();
        }
    }

    @Test
    void aBadSourceFailsItsReadersAndStoresNothing() throws Exception {
        byte[] bytes = data(100_000);
        byte[] wrong = bytes.clone();
        wrong[99_999] ^= 1;
        Digest d = Digest.sha256(bytes);
        BlobFills fills = new BlobFills(blobs, metadata, spool, executor);
        BlobFills.Fill fill = fills.fill(d, bytes.length,
                () -> new VerifyingInputStream(new ByteArrayInputStream(wrong), d, bytes.length));
        // even a reader that stops after exactly size bytes (a server honouring Content-Length)
        // never gets the whole blob: the last byte waits for verification, which fails (opening
        // after the failure fails at once)
        assertThatThrownBy(() -> {
            try (InputStream reader = fill.open(0, bytes.length)) {
                reader.readNBytes(bytes.length);
            }
        }).isInstanceOf(IOException.class).hasMessageContaining(d.toString());
        assertThatThrownBy(fill::await).isInstanceOf(IOException.class);
        assertThat(blobs.exists(d)).isFalse();
        assertThat(fills.inProgress(d)).isEmpty();
    }

    /**
     * The window of issue 15 item 7, forced: a caller looks at the store (absent), then a fill of the
     * same blob stores, records and retires, then the caller looks at the fills in flight (none) and
     * starts its own. That fill must find the stored blob instead of fetching it a second time.
     */
    @Test
    void aFillThatWinsTheSlotAfterAnotherStoredTheBlobFetchesNothing() throws Exception {
        for (Path spoolDir : new Path[] {spool, null}) {
            InMemoryBlobStore store = new InMemoryBlobStore();
            byte[] bytes = data(120_000);
            Digest d = Digest.sha256(bytes);
            BlobFills fills = new BlobFills(store, metadata, spoolDir, executor);
            AtomicInteger opens = new AtomicInteger();
            CountDownLatch gate = new CountDownLatch(1);

            // the caller's first look: not stored
            assertThat(store.exists(d)).isFalse();
            // meanwhile another request's fill runs to its end (stored, recorded, retired)
            Future<BlobFills.Fill> other = executor.submit(() -> fills.fill(d, bytes.length, slow(bytes, gate, opens)));
            gate.countDown();
            other.get().await();
            // the caller's second look: nothing in flight any more
            assertThat(fills.inProgress(d)).isEmpty();
            BlobFills.Fill late = fills.fill(d, bytes.length, slow(bytes, new CountDownLatch(0), opens));

            assertThat(late.await()).isZero();
            assertThat(late.owned()).isFalse();
            assertThat(opens).as("upstream opens with spool " + spoolDir).hasValue(1);
            if (spoolDir != null) {
                assertThat(late.open(0, bytes.length).readAllBytes()).isEqualTo(bytes);
                assertThat(late.open(100, 10).readAllBytes()).isEqualTo(Arrays.copyOfRange(bytes, 100, 110));
                late.awaitFirstBytes();
            }
            assertThat(fills.inProgress(d)).isEmpty();
        }
    }

    @Test
    void directFillsStreamIntoTheStoreAndReportBytes() throws Exception {
        byte[] bytes = data(50_000);
        Digest d = Digest.sha256(bytes);
        BlobFills fills = new BlobFills(blobs, metadata, null, executor);
        BlobFills.Fill fill = fills.fill(d, bytes.length,
                () -> new VerifyingInputStream(new ByteArrayInputStream(bytes), d, bytes.length));
        assertThat(fill.await()).isEqualTo(bytes.length);
        assertThat(blobs.exists(d)).isTrue();
        assertThatThrownBy(() -> fill.open(0, 1)).isInstanceOf(IllegalStateException.class);
    }
}
