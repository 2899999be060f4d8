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
        BlobFills.Fill first = fills.fill(d, bytes.length, slow(bytes, gate, opens));
        BlobFills.Fill second = fills.fill(d, bytes.length, slow(bytes, gate, opens));
        assertThat(first.owned()).isTrue();
        assertThat(second.owned()).isFalse();
        List<Future<byte[]>> reads = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            reads.add(executor.submit(() -> first.open(0, bytes.length).readAllBytes()));
        }
        Future<byte[]> tail = executor.submit(() -> first.open(250_000, 50_000).readAllBytes());
        Thread.sleep(100);
        assertThat(reads).noneMatch(Future::isDone); // they wait at the gate, half-way
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
