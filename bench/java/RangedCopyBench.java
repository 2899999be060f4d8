import io.imagemirror.mirror.MirrorListener;
import io.imagemirror.mirror.ResumableCopies;
import io.imagemirror.mirror.TimeBudget;
import io.imagemirror.oci.Digest;
import io.imagemirror.store.BlobStore;
import io.imagemirror.store.MultipartUploads;
import io.imagemirror.upstream.CredentialStore;
import io.imagemirror.upstream.RegistryClient;
import io.imagemirror.upstream.RetryPolicy;
import io.imagemirror.upstream.Upstream;
import io.imagemirror.upstream.Upstreams;
import java.net.URI;
import java.time.Clock;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One resumable copy of a blob (issue 16), as the CopyWorker makes it, from an upstream registry
 * into multipart uploads that keep nothing (so the figure is the fetch and the hash, not a store):
 * parts of 16 MiB, 4 uploading, PARTS_AT_ONCE fetched at once (1: one stream). Prints one line:
 * seconds and MiB/s.
 *
 *   java -cp CLASSES:CP RangedCopyBench HOST:PORT REPOSITORY DIGEST SIZE PARTS_AT_ONCE
 */
public final class RangedCopyBench {
    public static void main(String[] args) throws Exception {
        String hostPort = args[0];
        String repository = args[1];
        Digest digest = Digest.parse(args[2]);
        long size = Long.parseLong(args[3]);
        int atOnce = Integer.parseInt(args[4]);
        Upstream up = Upstream.builder(hostPort).endpoint(URI.create("http://" + hostPort)).insecure(true).build();
        RegistryClient client = new Upstreams(List.of(up), CredentialStore.none(), RegistryClient.defaultHttpClient(),
                Clock.systemUTC(), RetryPolicy.defaults()).client(hostPort);
        ExecutorService uploads = Executors.newCachedThreadPool();
        ExecutorService fetches = Executors.newCachedThreadPool();
        Discard store = new Discard();
        ResumableCopies copies = new ResumableCopies(store, 64L << 20, ResumableCopies.DEFAULT_PART_SIZE,
                ResumableCopies.DEFAULT_PARTS_IN_FLIGHT, uploads, atOnce, atOnce > 1 ? fetches : null);
        long t0 = System.nanoTime();
        copies.session(TimeBudget.UNLIMITED, List.of()).copy(client, repository, digest, size, MirrorListener.NONE);
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf("parts at once %d: %.2f s, %.0f MiB/s, %d bytes in parts%n", atOnce, s,
                size / s / (1 << 20), store.bytes.get());
        uploads.shutdownNow();
        fetches.shutdownNow();
        System.exit(0);
    }

    /** Multipart uploads that count the bytes and keep none of them. */
    static final class Discard implements MultipartUploads {
        final AtomicLong bytes = new AtomicLong();

        @Override
        public long minPartSize() {
            return 5 << 20;
        }

        @Override
        public int maxParts() {
            return 10_000;
        }

        @Override
        public String begin(Digest digest) {
            return UUID.randomUUID().toString();
        }

        @Override
        public String uploadPart(Digest digest, String uploadId, int partNumber, byte[] part, int length) {
            bytes.addAndGet(length);
            return "etag-" + partNumber;
        }

        @Override
        public BlobStore.PutResult complete(Digest digest, String uploadId, List<String> etags) {
            return BlobStore.PutResult.STORED;
        }

        @Override
        public void abort(Digest digest, String uploadId) {
        }
    }
}
