package io.imagemirror.mirror;

import io.imagemirror.metrics.Meter;
import io.imagemirror.metrics.Metrics;
import io.imagemirror.oci.Digest;
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
 * store and only completion can be awaited. Thread-safe.
 */
public final class BlobFills {

    /** Opens the upstream stream of a blob; it must verify what it yields (a {@code RegistryClient} blob stream does). */
    @FunctionalInterface
    public interface Source {
        InputStream open() throws IOException;
    }

    private final BlobStore blobs;
    private final BlobIndex metadata;
    private final Path spoolDir;
    private final Executor executor;
    private final Metrics metrics;
    private final Map<Digest, Fill> inFlight = new ConcurrentHashMap<>();
    private static final int SPOOL_CHUNK = 1 << 20;

    /**
     * @param spoolDir where fills spool so readers can follow them, or null to stream into the store
     * @param executor runs spooled fills (they outlive the request that started them)
     */
    public BlobFills(BlobStore blobs, BlobIndex metadata, Path spoolDir, Executor executor) {
        this(blobs, metadata, spoolDir, executor, Metrics.NONE);
    }

    /** @param metrics counts fills by outcome ({@link Meter#BLOB_FILLS}) and the bytes fetched */
    public BlobFills(BlobStore blobs, BlobIndex metadata, Path spoolDir, Executor executor, Metrics metrics) {
        this.metrics = metrics;
        this.blobs = blobs;
        this.metadata = metadata;
        this.spoolDir = spoolDir;
        this.executor = executor;
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
     * Starts the fill of {@code digest} or joins the one in flight. Spooled fills run on the
     * executor; direct ones run in the calling thread (so a joiner just waits).
     *
     * @param size the exact size (needed to follow a spooled fill)
     * @return the fill; {@link Fill#owned()} tells whether this call started it
     */
    public Fill fill(Digest digest, long size, Source source) throws IOException {
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
        boolean stored;
        try {
            stored = blobs.exists(digest);
        } catch (RuntimeException e) {
            stored = false; // the store cannot say: fetch, and let its put report what is wrong
        }
        if (stored) {
            mine.foundStored();
            return mine;
        }
        mine.owned = true;
        mine.decide(false);
        if (spoolDir == null) {
            try {
                mine.runDirect(source);
            } finally {
                inFlight.remove(digest, mine);
            }
        } else {
            executor.execute(() -> {
                try {
                    mine.runSpooled(source);
                } finally {
                    inFlight.remove(digest, mine);
                }
            });
        }
        return mine;
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
                while (releasable() <= 0 && failure == null && !verified) {
                    try {
                        wait(1000);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new InterruptedIOException("interrupted waiting for " + digest);
                    }
                }
                if (failure != null && !verified) {
                    throw failure;
                }
            }
        }

        private void runDirect(Source source) throws IOException {
            try (InputStream in = source.open()) {
                ProgressInputStream counted = new ProgressInputStream(in, digest, size, MirrorListener.NONE);
                BlobStore.PutResult r = blobs.put(digest, size, counted);
                record();
                retire();
                fetched(counted.bytes());
                done.complete(r == BlobStore.PutResult.STORED ? counted.bytes() : 0L);
            } catch (IOException | RuntimeException e) {
                metrics.count(Meter.BLOB_FILLS, "failed");
                retire();
                done.completeExceptionally(e);
                throw e;
            }
        }

        private void runSpooled(Source source) {
            try {
                try (InputStream in = source.open();
                     FileChannel out = FileChannel.open(spool, StandardOpenOption.WRITE)) {
                    // Fill a large buffer before each write and wake readers once per write, not per
                    // network read (which hands over 8 KiB at a time).
                    byte[] buf = new byte[SPOOL_CHUNK];
                    while (true) {
                        int n = in.readNBytes(buf, 0, buf.length);
                        if (n > 0) {
                            ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
                            while (bb.hasRemaining()) {
                                out.write(bb);
                            }
                            synchronized (this) {
                                written += n;
                                notifyAll();
                            }
                        }
                        if (n < buf.length) {
                            break; // end of stream: readNBytes read less than asked only there
                        }
                    }
                    // The source verified digest and size at its end: readers may have the last byte
                    // now, before the spool is made durable for the store.
                    synchronized (this) {
                        verified = true;
                        notifyAll();
                    }
                    out.force(true);
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

        /**
         * Waits until there are bytes past {@code position} a reader may have, and returns where they
         * end. The blob's last byte is only handed out once the whole blob matched its digest, so a
         * client that stops after {@code Content-Length} bytes never gets unverified content whole.
         */
        private long waitFor(long position) throws IOException {
            synchronized (this) {
                while (releasable() <= position && failure == null && !verified) {
                    try {
                        wait(1000);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new InterruptedIOException("interrupted waiting for " + digest);
                    }
                }
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
