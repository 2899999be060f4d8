package io.imagemirror.mirror;

import io.imagemirror.oci.BlobSink;
import io.imagemirror.metrics.Meter;
import io.imagemirror.metrics.Metrics;
import io.imagemirror.oci.Digest;
import io.imagemirror.store.DirectWriter;
import io.imagemirror.store.WriteBehind;
import io.imagemirror.upstream.RegistryClient;
import io.imagemirror.store.BlobStore;
import io.imagemirror.store.BlobIndex;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

/**
 * Fetches blobs from upstream into the blob store, at most once at a time per digest in this
 * process: a second request for a blob that is being fetched joins the fetch in flight.
 *
 * <p>With a spool directory, a fill first writes the verified upstream bytes to a spool file that
 * readers can follow while it grows ({@link Fill#open}), so the pull-through cache streams a cold
 * blob to its clients while it is being stored; when the last byte has been verified the spool is
 * put into the store and removed. Without one (the CLI, Lambda) the bytes stream straight into the
 * store and only completion can be awaited.
 *
 * <p>With {@link FillLeases}, the fill that owns a digest in this process also takes the
 * cross-instance lease on it before fetching, so instances sharing the store fetch it once: an
 * owner that finds another instance fetching waits for the blob to be stored and then serves it
 * from the store; when the wait elapses it fetches too, or, if its caller asked so
 * ({@code giveUpWhenBusy}), fails with {@link FetchedElsewhereException} (the Lambda then redirects
 * the client to upstream). Thread-safe.
 */
public final class BlobFills {

    /** Where a blob's bytes come from; everything it yields must be verified by it. */
    @FunctionalInterface
    public interface Source {
        /** Opens the blob as a stream that verifies what it yields (a {@code RegistryClient} blob stream does). */
        InputStream open() throws IOException;

        /**
         * Writes the blob into {@code sink} at its offsets and returns its size once it matched its
         * digest and size ({@link RegistryClient#fetchBlob}: parallel ranged GETs for large blobs).
         * The default copies {@link #open()} in order.
         */
        default long fetchInto(BlobSink sink) throws IOException {
            try (InputStream in = open()) {
                return BlobSink.copyInOrder(in, sink, SPOOL_CHUNK);
            }
        }

        /** The blob from {@code client}: streamed, or fetched with parallel ranged GETs when large. */
        static Source upstream(RegistryClient client, String repository, Digest digest, long size) {
            return new Source() {
                @Override
                public InputStream open() throws IOException {
                    return client.openBlob(repository, digest, size);
                }

                @Override
                public long fetchInto(BlobSink sink) throws IOException {
                    return client.fetchBlob(repository, digest, size, sink);
                }
            };
        }
    }

    private final BlobStore blobs;
    private final BlobIndex metadata;
    private final Path spoolDir;
    private final Executor executor;
    private final Metrics metrics;
    private final Map<Digest, Fill> inFlight = new ConcurrentHashMap<>();
    /** Cross-instance leases, or null when this process is the only one filling this store. */
    private final FillLeases leases;
    private static final int SPOOL_CHUNK = 1 << 20;

    /**
     * @param spoolDir where fills spool so readers can follow them, or null to stream into the store
     * @param executor runs spooled fills (they outlive the request that started them)
     */
    public BlobFills(BlobStore blobs, BlobIndex metadata, Path spoolDir, Executor executor) {
        this(blobs, metadata, spoolDir, executor, null, Metrics.NONE);
    }

    /**
     * @param leases coalesces fills across the instances sharing {@code blobs}, or null when only
     *     this process fills them
     */
    public BlobFills(BlobStore blobs, BlobIndex metadata, Path spoolDir, Executor executor, FillLeases leases) {
        this(blobs, metadata, spoolDir, executor, leases, Metrics.NONE);
    }

    /** @param metrics counts fills by outcome ({@link Meter#BLOB_FILLS}) and the bytes fetched */
    public BlobFills(BlobStore blobs, BlobIndex metadata, Path spoolDir, Executor executor, Metrics metrics) {
        this(blobs, metadata, spoolDir, executor, null, metrics);
    }

    /**
     * @param leases coalesces fills across the instances sharing {@code blobs}, or null when only
     *     this process fills them
     * @param metrics counts fills by outcome ({@link Meter#BLOB_FILLS}) and the bytes fetched
     */
    public BlobFills(BlobStore blobs, BlobIndex metadata, Path spoolDir, Executor executor, FillLeases leases,
                     Metrics metrics) {
        this.metrics = metrics;
        this.blobs = blobs;
        this.metadata = metadata;
        this.spoolDir = spoolDir;
        this.executor = executor;
        this.leases = leases;
    }

    /** The key of a blob's lease. */
    static String leaseKey(Digest digest) {
        return "blob " + digest;
    }

    /** The cross-instance leases fills take, if this store is shared by several instances. */
    public Optional<FillLeases> leases() {
        return Optional.ofNullable(leases);
    }

    /** Whether readers can follow a fill while it runs. */
    public boolean spooled() {
        return spoolDir != null;
    }

    /** The fill in flight for {@code digest}, if any. */
    public Optional<Fill> inProgress(Digest digest) {
        return Optional.ofNullable(inFlight.get(digest));
    }

    /**
     * Starts the fill of {@code digest} or joins the one in flight; when another instance holds the
     * blob's lease beyond the wait, fetches it too. Spooled fills run on the executor; direct ones run
     * in the calling thread (so a joiner just waits).
     *
     * @param size the exact size (needed to follow a spooled fill)
     * @return the fill; {@link Fill#owned()} tells whether this call started it
     */
    public Fill fill(Digest digest, long size, Source source) throws IOException {
        return fill(digest, size, source, false);
    }

    /**
     * {@link #fill(Digest, long, Source)}, choosing what happens when another instance still fetches
     * the blob after the lease wait.
     *
     * @param giveUpWhenBusy fail with {@link FetchedElsewhereException} instead of fetching as well
     *     (direct fills only: a spooled fill has clients following it and always fetches)
     */
    public Fill fill(Digest digest, long size, Source source, boolean giveUpWhenBusy) throws IOException {
        Fill running = inFlight.get(digest);
        if (running != null) {
            metrics.count(Meter.BLOB_FILLS, "coalesced");
            return running.joined();
        }
        Fill mine = new Fill(digest, size);
        if (spoolDir != null) {
            // The spool exists before the fill is published, so a joiner can always open it.
            Files.createDirectories(spoolDir);
            mine.spool = Files.createTempFile(spoolDir, digest.hex().substring(0, 12) + "-", ".spool");
        }
        Fill theirs = inFlight.putIfAbsent(digest, mine);
        if (theirs != null) {
            if (mine.spool != null) {
                Files.deleteIfExists(mine.spool);
            }
            metrics.count(Meter.BLOB_FILLS, "coalesced");
            return theirs.joined();
        }
        // Won the slot. Another fill of this digest may have stored, recorded and retired between
        // the caller's look at the store and the look at the fills in flight: look again before
        // fetching, now that no other fill can start, so a blob is fetched once.
        if (storedNow(digest)) {
            mine.foundStored();
            return mine;
        }
        mine.owned = true;
        if (spoolDir == null) {
            try (FillLeases.Outcome lease = lease(digest, mine, giveUpWhenBusy)) {
                if (lease instanceof FillLeases.Present) {
                    return mine; // stored by another instance while this one waited
                }
                mine.decide(false);
                mine.runDirect(source);
            } finally {
                inFlight.remove(digest, mine);
            }
        } else {
            executor.execute(() -> {
                try (FillLeases.Outcome lease = lease(digest, mine, false)) {
                    if (!(lease instanceof FillLeases.Present)) {
                        mine.decide(false);
                        mine.runSpooled(source);
                    }
                } catch (IOException | RuntimeException e) {
                    mine.failBeforeFetch(e);
                } finally {
                    inFlight.remove(digest, mine);
                }
            });
        }
        return mine;
    }

    private boolean storedNow(Digest digest) {
        try {
            return blobs.exists(digest);
        } catch (RuntimeException e) {
            return false; // the store cannot say: fetch, and let its put report what is wrong
        }
    }

    /**
     * Takes the cross-instance lease for the fill this process owns, or waits for another instance's
     * fetch: {@link FillLeases.Present} when that one stored it (the fill then ends as found stored),
     * {@link FillLeases.Held} or an elapsed wait (then the caller fetches) otherwise.
     *
     * @throws FetchedElsewhereException when the wait elapsed and {@code giveUpWhenBusy}
     */
    private FillLeases.Outcome lease(Digest digest, Fill mine, boolean giveUpWhenBusy) throws IOException {
        if (leases == null) {
            return new FillLeases.WaitElapsed("");
        }
        FillLeases.Outcome o;
        try {
            o = leases.acquire(leaseKey(digest), () -> storedNow(digest));
        } catch (IOException | RuntimeException e) {
            mine.failBeforeFetch(e);
            throw e;
        }
        if (o instanceof FillLeases.Present) {
            mine.foundStored();
        } else if (o instanceof FillLeases.WaitElapsed w && giveUpWhenBusy) {
            FetchedElsewhereException busy = new FetchedElsewhereException(digest, w.holder());
            mine.failBeforeFetch(busy);
            throw busy;
        }
        return o;
    }

    /** One blob being fetched. */
    public final class Fill {
        private final Digest digest;
        private final long size;
        private final CompletableFuture<Long> done = new CompletableFuture<>();
        private volatile boolean owned;
        private volatile Path spool;
        private long written;
        private IOException failure;
        /** The source reached its end and its stream verified digest and size: the spool holds the blob. */
        private boolean verified;
        private boolean finished;

        /** Null until the owner decided; true when it found the blob already stored and fetched nothing. */
        private Boolean foundStored;

        /** The fill this handle joined, or null when this is the fill itself. */
        private final Fill joinedTo;

        private Fill(Digest digest, long size) {
            this.digest = digest;
            this.size = size;
            this.joinedTo = null;
        }

        private Fill(Fill original) {
            this.digest = original.digest;
            this.size = original.size;
            this.joinedTo = original;
        }

        /** A handle on this fill for a caller that joined it (it does not own the transfer). */
        private Fill joined() {
            return new Fill(this);
        }

        public Digest digest() {
            return digest;
        }

        public long size() {
            return size;
        }

        /** Whether the call that returned this fill started it (and so transferred the bytes). */
        public boolean owned() {
            return owned;
        }

        /** Completes with the bytes transferred from upstream once the blob is stored, or fails. */
        public CompletableFuture<Long> done() {
            return joinedTo != null ? joinedTo.done() : done;
        }

        /** Waits until the blob is stored; returns the bytes this fill transferred. */
        public long await() throws IOException {
            try {
                return done().join();
            } catch (java.util.concurrent.CompletionException e) {
                Throwable c = e.getCause();
                throw c instanceof IOException io ? io : new IOException(c.getMessage(), c);
            }
        }

        private synchronized void decide(boolean stored) {
            foundStored = stored;
            notifyAll();
        }

        /** Whether the owner found the blob stored after winning the slot; waits the moment it takes to look. */
        private boolean storedBeforeFetch() throws IOException {
            synchronized (this) {
                while (foundStored == null) {
                    try {
                        wait(1000);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new InterruptedIOException("interrupted waiting for " + digest);
                    }
                }
                return foundStored;
            }
        }

        /** The blob was stored by a fill that ended just before this one won the slot: nothing to fetch. */
        private void foundStored() throws IOException {
            try {
                record(); // touch it, as a mirror finding it present would
            } finally {
                if (spool != null) {
                    removeSpool();
                }
                retire();
                synchronized (this) {
                    verified = true;
                    finished = true;
                    notifyAll();
                }
                decide(true);
                metrics.count(Meter.BLOB_FILLS, "found_stored");
                done.complete(0L);
            }
        }

        /** The fill ended before fetching anything (its lease wait failed or gave up): joiners get the failure. */
        private void failBeforeFetch(Exception e) {
            if (done.isDone()) {
                return;
            }
            retire();
            if (spool != null) {
                removeSpool();
            }
            synchronized (this) {
                failure = e instanceof IOException io ? io : new IOException(e.getMessage(), e);
                notifyAll();
            }
            decide(false);
            done.completeExceptionally(e);
        }

        /**
         * Waits until the fill has bytes a reader may have, or has ended (spooled fills only), so a
         * server can answer an upstream failure that comes before the first byte with an error
         * status instead of a transfer it has to abort.
         *
         * @throws IOException the fill's own failure (a {@code RegistryException} from upstream, a
         *     {@code ContentMismatchException}, or the store's error)
         */
        public void awaitFirstBytes() throws IOException {
            if (joinedTo != null) {
                joinedTo.awaitFirstBytes();
                return;
            }
            if (storedBeforeFetch()) {
                return;
            }
            synchronized (this) {
                awaitPast(0);
                if (failure != null && !verified) {
                    throw failure;
                }
            }
        }

        private void runDirect(Source source) throws IOException {
            try {
                BlobStore.PutResult r;
                long copied;
                Optional<BlobStore.Upload> upload = blobs.startUpload(digest, size);
                if (upload.isPresent()) {
                    // written at offsets as it arrives (ranged parts in parallel), committed once verified
                    try (BlobStore.Upload u = upload.get()) {
                        copied = source.fetchInto(u);
                        r = u.commit();
                    }
                } else {
                    try (InputStream in = source.open()) {
                        ProgressInputStream counted = new ProgressInputStream(in, digest, size, MirrorListener.NONE);
                        r = blobs.put(digest, size, counted);
                        copied = counted.bytes();
                    }
                }
                record();
                retire();
                fetched(copied);
                done.complete(r == BlobStore.PutResult.STORED ? copied : 0L);
            } catch (IOException | RuntimeException e) {
                metrics.count(Meter.BLOB_FILLS, "failed");
                retire();
                done.completeExceptionally(e);
                throw e;
            }
        }

        private void runSpooled(Source source) {
            try {
                // Written with O_DIRECT where possible: no copy into the page cache on the way in
                // (clients read the spool back through it), and the disk is done when the blob is.
                DirectWriter direct = DirectWriter.open(spool, size);
                try (FileChannel out = direct == null ? FileChannel.open(spool, StandardOpenOption.WRITE) : null;
                     InputStream in = source.open()) {
                    WriteBehind flusher = out == null ? null : new WriteBehind(out);
                    // Readers are woken once per hashed chunk (1 MiB), not per network read. In order,
                    // never in parallel ranged parts: a client may join any spooled fill (the one a
                    // pull starts, or the recording mirror's that its blob GET joins), and it reads
                    // only the contiguous prefix; parts would delay its first bytes and be held in
                    // memory out of order, for no gain in its wall time.
                    BlobSink.copyInOrder(in, new BlobSink() {
                        @Override
                        public void write(long offset, ByteBuffer bytes) throws IOException {
                            if (direct != null) {
                                direct.write(offset, bytes);
                            } else {
                                flusher.write(offset, bytes);
                            }
                        }

                        @Override
                        public void hashed(long length) {
                            synchronized (Fill.this) {
                                written = length;
                                Fill.this.notifyAll();
                            }
                        }
                    }, SPOOL_CHUNK);
                    if (direct != null) {
                        direct.finish(); // cuts the last block's padding off before readers get the end
                    }
                    // The source verified digest and size at its end: readers may have the last byte
                    // now, before the spool is made durable for the store.
                    synchronized (this) {
                        verified = true;
                        notifyAll();
                    }
                    if (flusher != null) {
                        flusher.finish();
                    }
                } finally {
                    if (direct != null) {
                        direct.close();
                    }
                }
                blobs.putFile(digest, size, spool);
                record();
                removeSpool();
                retire();
                synchronized (this) {
                    finished = true;
                    notifyAll();
                }
                fetched(written);
                done.complete(written);
            } catch (IOException | RuntimeException e) {
                metrics.count(Meter.BLOB_FILLS, "failed");
                removeSpool();
                retire();
                synchronized (this) {
                    failure = e instanceof IOException io ? io : new IOException(e.getMessage(), e);
                    notifyAll();
                }
                done.completeExceptionally(e);
            }
        }

        private void fetched(long bytes) {
            metrics.count(Meter.BLOB_FILLS, "fetched");
            metrics.add(Meter.UPSTREAM_BYTES, bytes);
        }

        /** No longer in flight: a request from now on finds the blob stored, or starts a new fill. */
        private void retire() {
            inFlight.remove(digest, this);
        }

        /** Removes the spool before the fill reports its end; readers that have it open keep reading (POSIX). */
        private void removeSpool() {
            try {
                Files.deleteIfExists(spool);
            } catch (IOException ignored) {
                // a stale spool is only disk space; the next serve start may clear the directory
            }
        }

        /**
         * Records (or touches) the stored blob. A record made anew must find the bytes after it: a
         * sweep that finished between the put (which found them present) and this call deleted them.
         */
        private void record() {
            if (metadata.createBlobRecord(digest, size)) {
                if (!blobs.exists(digest)) {
                    throw new io.imagemirror.store.SweptBlobException(digest);
                }
            } else {
                metadata.touchBlob(digest);
            }
        }

        /**
         * Reads {@code length} bytes from {@code offset} as they arrive (spooled fills only). The
         * stream fails if the fill fails, so a client never gets a clean end of unverified bytes.
         */
        public InputStream open(long offset, long length) throws IOException {
            if (joinedTo != null) {
                return joinedTo.open(offset, length);
            }
            if (spool == null) {
                throw new IllegalStateException("fill of " + digest + " is not spooled");
            }
            if (storedBeforeFetch()) {
                return openStored(offset, length);
            }
            if (length == 0) {
                await();
                return InputStream.nullInputStream();
            }
            try {
                return new TailStream(FileChannel.open(spool, StandardOpenOption.READ), offset, length);
            } catch (java.nio.file.NoSuchFileException done) {
                // The fill finished and removed its spool between lookup and open: read the stored blob.
                await();
                return openStored(offset, length);
            }
        }

        private InputStream openStored(long offset, long length) throws IOException {
            if (length == 0) {
                return InputStream.nullInputStream();
            }
            return blobs.open(digest, io.imagemirror.store.ByteRange.of(offset, offset + length - 1))
                    .orElseThrow(() -> new IOException("blob " + digest + " vanished after its fill"))
                    .stream();
        }

        /** Waits, holding this fill's monitor, until bytes past {@code position} may be read, it failed or it is verified. */
        private void awaitPast(long position) throws InterruptedIOException {
            while (releasable() <= position && failure == null && !verified) {
                try {
                    wait(1000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted waiting for " + digest);
                }
            }
        }

        /**
         * Waits until there are bytes past {@code position} a reader may have, and returns where they
         * end. The blob's last byte is only handed out once the whole blob matched its digest, so a
         * client that stops after {@code Content-Length} bytes never gets unverified content whole.
         */
        private long waitFor(long position) throws IOException {
            synchronized (this) {
                awaitPast(position);
                if (failure != null && !verified) {
                    throw new IOException("fetching " + digest + " from upstream failed: " + failure.getMessage(),
                            failure);
                }
                return releasable();
            }
        }

        /** Bytes readers may have: all once verified, else all but the last byte of the blob. */
        private long releasable() {
            return verified ? written : Math.min(written, size - 1);
        }

        /** Follows the spool file as the fill writes it. */
        private final class TailStream extends InputStream implements io.imagemirror.store.FileRegion {
            private final FileChannel channel;
            private long position;
            private final long end;

            private final long start;

            TailStream(FileChannel channel, long offset, long length) {
                this.channel = channel;
                this.position = offset;
                this.start = offset;
                this.end = offset + length;
            }

            @Override
            public FileChannel channel() {
                return channel;
            }

            @Override
            public long position() {
                return start;
            }

            @Override
            public long length() {
                return end - start;
            }

            @Override
            public long awaitAvailable(long offset) throws IOException {
                if (offset >= end) {
                    if (end == size) {
                        waitUntilVerified();
                    }
                    return end;
                }
                return Math.min(waitFor(offset), end);
            }

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (position >= end) {
                    if (end == size) {
                        waitUntilVerified();
                    }
                    return -1;
                }
                long available = waitFor(position);
                int n = (int) Math.min(len, Math.min(available, end) - position);
                int r = channel.read(ByteBuffer.wrap(b, off, n), position);
                if (r > 0) {
                    position += r;
                }
                return r;
            }

            private void waitUntilVerified() throws IOException {
                // The end is only reported once the whole blob matched its digest.
                synchronized (Fill.this) {
                    while (!verified && failure == null) {
                        try {
                            Fill.this.wait(1000);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new InterruptedIOException();
                        }
                    }
                    if (failure != null && !verified) {
                        throw new IOException("fetching " + digest + " from upstream failed: " + failure.getMessage(),
                                failure);
                    }
                }
            }

            @Override
            public void close() throws IOException {
                channel.close();
            }
        }
    }
}
