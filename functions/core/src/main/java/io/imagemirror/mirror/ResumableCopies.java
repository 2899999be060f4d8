package io.imagemirror.mirror;

import io.imagemirror.oci.ContentMismatchException;
import io.imagemirror.oci.Digest;
import io.imagemirror.oci.ErrorCode;
import io.imagemirror.oci.RegistryException;
import io.imagemirror.oci.Sha256State;
import io.imagemirror.store.BlobStore;
import io.imagemirror.store.MultipartUploads;
import io.imagemirror.store.StoreException;
import io.imagemirror.upstream.RegistryClient;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Copies of large blobs that can stop at a part boundary when time runs out and go on in another
 * process (the next Lambda invocation): the blob streams from upstream into a multipart upload of the
 * store, its parts sent in parallel while the next one is read, hashed with a SHA-256 whose state can
 * be saved ({@link Sha256State}). What a follow-up needs is a {@link PartialBlob}, which the job keeps.
 * The upload is completed only after the hash of every byte matched the digest and the size was
 * exact (invariant 1); a copy that cannot succeed (wrong bytes, the blob gone upstream) aborts it.
 *
 * <p>Memory: at most {@code partsInFlight + 1} part buffers per copy (one filling, the others
 * uploading). Parts are at least {@code partSize} and large enough that a blob has at most
 * {@link #MAX_PARTS_IN_A_JOB} of them, which bounds the job's payload (DynamoDB items are ≤ 400 KB).
 *
 * <p>A follow-up fetches from the next byte with a {@code Range} request; an upstream that answers
 * with the whole blob instead has the prefix read and hashed again, and the copy goes on only if that
 * hash state equals the saved one (the bytes are those already uploaded). Thread-safe; a
 * {@link Session} serves one job run.
 */
public final class ResumableCopies {

    /** Parts of one blob at most, so a job's continuation stays small (an etag is ~34 bytes). */
    public static final int MAX_PARTS_IN_A_JOB = 2000;
    public static final int DEFAULT_PART_SIZE = 16 << 20;
    public static final int DEFAULT_PARTS_IN_FLIGHT = 4;
    /** Reads of one part retried after a broken upstream connection, from the part's first byte. */
    private static final int READ_ATTEMPTS = 3;
    private static final int MIB = 1 << 20;

    private final MultipartUploads uploads;
    private final long threshold;
    private final int partSize;
    private final int partsInFlight;
    private final ExecutorService partUploads;
    private final int partsAtOnce;
    private final ExecutorService partFetches;
    /** MiB of part buffers all copies may hold at once; each copy takes what it can hold before it starts. */
    private final int memoryMib;
    private final Semaphore memory;

    /**
     * @param uploads the store's multipart uploads
     * @param threshold blobs of this size and more are copied resumably
     * @param partSize the smallest part (grown for blobs that would need more than {@link #MAX_PARTS_IN_A_JOB})
     * @param partsInFlight parts of one blob uploading at once
     * @param partUploads runs part uploads; must not be the executor that runs the blob copies
     *     themselves (a copy waits for its parts)
     */
    public ResumableCopies(MultipartUploads uploads, long threshold, int partSize, int partsInFlight,
                           ExecutorService partUploads) {
        this(uploads, threshold, partSize, partsInFlight, partUploads, 1, null);
    }

    /**
     * As {@link #ResumableCopies(MultipartUploads, long, int, int, ExecutorService)}, with the parts
     * fetched as parallel ranged GETs where upstream honours {@code Range}.
     *
     * @param partsAtOnce parts of one blob fetched at once (the one hashed next and those ahead of
     *     it); 1 reads the blob as one stream
     * @param partFetches runs the fetches ahead (up to {@code partsAtOnce - 1} per copy, each waiting
     *     for a buffer): an executor that grows, apart from {@code partUploads}; null when
     *     {@code partsAtOnce} is 1
     */
    public ResumableCopies(MultipartUploads uploads, long threshold, int partSize, int partsInFlight,
                           ExecutorService partUploads, int partsAtOnce, ExecutorService partFetches) {
        this(uploads, threshold, partSize, partsInFlight, partUploads, partsAtOnce, partFetches, Long.MAX_VALUE);
    }

    /**
     * As {@link #ResumableCopies(MultipartUploads, long, int, int, ExecutorService, int, ExecutorService)},
     * with the part buffers of all copies bounded.
     *
     * @param memoryBudget bytes of part buffers all copies may hold at once: a copy waits before it
     *     starts until its {@link #buffersPerCopy()} parts fit (one that needs more than all of it
     *     runs alone), so large layers copied side by side cannot exhaust the heap
     */
    public ResumableCopies(MultipartUploads uploads, long threshold, int partSize, int partsInFlight,
                           ExecutorService partUploads, int partsAtOnce, ExecutorService partFetches,
                           long memoryBudget) {
        if (memoryBudget < MIB) {
            throw new IllegalArgumentException("a memory budget of " + memoryBudget + " bytes holds no part");
        }
        this.memoryMib = (int) Math.min(Integer.MAX_VALUE, memoryBudget / MIB);
        this.memory = new Semaphore(memoryMib, true);
        if (partsAtOnce < 1 || (partsAtOnce > 1 && partFetches == null)) {
            throw new IllegalArgumentException("parts at once " + partsAtOnce + " needs an executor above 1");
        }
        this.partsAtOnce = partsAtOnce;
        this.partFetches = partFetches;
        this.uploads = Objects.requireNonNull(uploads, "uploads");
        if (partSize < uploads.minPartSize()) {
            throw new IllegalArgumentException("part size " + partSize + " is below the store's minimum of "
                    + uploads.minPartSize());
        }
        if (partsInFlight < 1) {
            throw new IllegalArgumentException("at least one part in flight");
        }
        this.threshold = threshold;
        this.partSize = partSize;
        this.partsInFlight = partsInFlight;
        this.partUploads = Objects.requireNonNull(partUploads, "partUploads");
    }

    /** The part size for a blob of {@code size} bytes: whole MiB, within the job's and the store's part limits. */
    long partSizeFor(long size) {
        long limit = Math.min(MAX_PARTS_IN_A_JOB, uploads.maxParts());
        long atLeast = (size + limit - 1) / limit;
        long p = atLeast <= partSize ? partSize : ((atLeast + MIB - 1) / MIB) * MIB;
        if (p > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("blob of " + size + " bytes is too large for a resumable copy");
        }
        return p;
    }

    /**
     * Buffers one copy holds at most: the bound on its memory is this times the part size (parts
     * uploading, the one being hashed, and those fetched ahead of it).
     */
    public int buffersPerCopy() {
        return partsInFlight + partsAtOnce;
    }

    /**
     * What one job run copies resumably, within {@code budget}, going on from {@code resumed} (the
     * partial copies its previous run left).
     */
    public Session session(TimeBudget budget, List<PartialBlob> resumed) {
        return new Session(budget, resumed);
    }

    /** The resumable copies of one job run, and what they leave for the next run. Thread-safe. */
    public final class Session {
        private final TimeBudget budget;
        private final Map<Digest, PartialBlob> resumed = new ConcurrentHashMap<>();
        private final Map<Digest, PartialBlob> left = new ConcurrentHashMap<>();
        private volatile boolean suspended;

        private Session(TimeBudget budget, List<PartialBlob> resumed) {
            this.budget = Objects.requireNonNull(budget, "budget");
            resumed.forEach(p -> this.resumed.put(p.digest(), p));
        }

        /** Whether a blob of this digest and size is copied here (large, sha256) rather than in one stream. */
        public boolean takes(Digest digest, long size) {
            return size >= threshold && digest.algorithm() == Digest.Algorithm.SHA256;
        }

        /** Whether a copy stopped because the budget was spent. */
        public boolean suspended() {
            return suspended;
        }

        /**
         * The partial copies a next run can go on from: those suspended, those that broke off with a
         * failure that may pass (a retry of the job resumes them), and those of the previous run that
         * this one did not get to.
         */
        public List<PartialBlob> partials() {
            List<PartialBlob> all = new ArrayList<>(left.values());
            all.addAll(resumed.values());
            return List.copyOf(all);
        }

        /**
         * Aborts the uploads of partial copies this run did not take up (the image changed upstream,
         * or another worker stored the blob meanwhile).
         */
        public void abortUnused() {
            resumed.values().forEach(p -> uploads.abort(p.digest(), p.uploadId()));
            resumed.clear();
        }

        /** The job failed for good: aborts every upload it holds. */
        public void abandon() {
            abortUnused();
            left.values().forEach(p -> uploads.abort(p.digest(), p.uploadId()));
            left.clear();
        }

        /**
         * Copies the blob into the store, or as much of it as the budget allows.
         *
         * @return the bytes fetched from upstream by this call
         * @throws CopySuspendedException when the budget ran out first ({@link #partials()} has the state)
         * @throws ContentMismatchException when the bytes are not the blob (the upload is aborted)
         * @throws IOException when upstream or the store failed (the upload is kept for a retry
         *     when the failure may pass, else aborted)
         */
        public long copy(RegistryClient client, String repository, Digest digest, long size, MirrorListener listener)
                throws IOException {
            PartialBlob peek = resumed.get(digest);
            long itsPartSize = peek != null && peek.size() == size ? peek.partSize() : partSizeFor(size);
            int permits = (int) Math.min(memoryMib, (buffersPerCopy() * itsPartSize + MIB - 1) / MIB);
            try {
                memory.acquire(permits);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted waiting for memory to copy " + digest);
            }
            try {
                return copyHoldingMemory(client, repository, digest, size, listener);
            } finally {
                memory.release(permits);
            }
        }

        private long copyHoldingMemory(RegistryClient client, String repository, Digest digest, long size,
                                       MirrorListener listener) throws IOException {
            PartialBlob from = resumed.remove(digest);
            if (from != null && from.size() != size) {
                uploads.abort(digest, from.uploadId()); // not the blob the manifest names now
                from = null;
            }
            Transfer t = from == null ? new Transfer(digest, size, uploads.begin(digest), partSizeFor(size),
                    List.of(), Sha256State.start()) : new Transfer(digest, size, from.uploadId(), from.partSize(),
                    from.etags(), Sha256State.restore(from.sha256State()));
            left.remove(digest);
            try {
                return t.run(client, repository, listener);
            } catch (CopySuspendedException e) {
                left.put(digest, t.partial());
                suspended = true;
                throw e;
            } catch (IOException | RuntimeException e) {
                if (mayPass(e) && t.completedParts() > 0) {
                    left.put(digest, t.partial());
                } else {
                    uploads.abort(digest, t.uploadId);
                }
                throw e;
            }
        }

        /** One blob's transfer in this run. */
        private final class Transfer {
            final Digest digest;
            final long size;
            final String uploadId;
            final long partSize;
            final int parts;
            /** Entity tags by part index; null while a part is not done. */
            final String[] etags;
            /** Hash states after each part, kept for parts from the first not yet done on. */
            final Map<Integer, byte[]> statesAfter = new ConcurrentHashMap<>();
            final byte[] startState;
            final int startParts;
            final Sha256State hash;
            final AtomicReference<Throwable> uploadFailure = new AtomicReference<>();
            final BlockingQueue<byte[]> pool;
            final AtomicInteger buffers = new AtomicInteger();
            /** Uploads running at once: at most partsInFlight (the reader may hold one more part, filled). */
            final Semaphore slots = new Semaphore(partsInFlight);
            final List<Future<?>> inFlight = new ArrayList<>();

            Transfer(Digest digest, long size, String uploadId, long partSize, List<String> done, Sha256State hash) {
                this.digest = digest;
                this.size = size;
                this.uploadId = uploadId;
                this.partSize = partSize;
                this.parts = (int) ((size + partSize - 1) / partSize);
                this.etags = new String[parts];
                for (int i = 0; i < done.size(); i++) {
                    etags[i] = done.get(i);
                }
                this.startParts = done.size();
                this.hash = hash;
                this.startState = hash.saved();
                this.pool = new ArrayBlockingQueue<>(buffersPerCopy());
            }

            long run(RegistryClient client, String repository, MirrorListener listener) throws IOException {
                long offset = (long) startParts * partSize;
                int part = startParts;
                try {
                    PartSource source = openSource(client, repository, offset);
                    try {
                        while (part < parts) {
                            // At least one part per run, so a copy always gets on.
                            if (part > startParts && budget.spent()) {
                                break;
                            }
                            rethrowUploadFailure();
                            int n = (int) Math.min(partSize, size - offset);
                            byte[] buf = source.next(part, offset, n);
                            hash.update(buf, 0, n);
                            int index = part;
                            statesAfter.put(index, hash.saved());
                            try {
                                slots.acquire();
                            } catch (InterruptedException e) {
                                pool.add(buf);
                                Thread.currentThread().interrupt();
                                throw new InterruptedIOException("interrupted copying " + digest);
                            }
                            inFlight.add(partUploads.submit(() -> upload(index, buf, n)));
                            offset += n;
                            part++;
                            listener.blobProgress(digest, offset, size);
                        }
                        if (part == parts) {
                            source.checkEnd();
                        }
                    } finally {
                        source.close();
                    }
                } finally {
                    awaitUploads();
                }
                rethrowUploadFailure();
                if (part < parts) {
                    throw new CopySuspendedException(digest, offset, size);
                }
                Digest got = hash.finish();
                if (!got.equals(digest)) {
                    throw new ContentMismatchException(ContentMismatchException.Kind.DIGEST, digest, got, size, size);
                }
                BlobStore.PutResult r = uploads.complete(digest, uploadId, Arrays.asList(etags));
                return r == BlobStore.PutResult.STORED ? size - (long) startParts * partSize : 0;
            }

            /**
             * Where this run's parts come from. With more than one part to go and {@code partsAtOnce}
             * above 1, the first part is asked for with a bounded {@code Range}: an exact {@code 206}
             * turns on ranged parts fetched ahead in parallel; a {@code 200} (ranges ignored) is the
             * whole blob, read as one stream from there.
             */
            private PartSource openSource(RegistryClient client, String repository, long offset) throws IOException {
                if (partsAtOnce < 2 || parts - startParts < 2) {
                    return new OneStream(client, repository, open(client, repository, offset));
                }
                int first = startParts;
                int length = (int) Math.min(partSize, size - offset);
                RegistryClient.BlobPart b = client.openBlobPart(repository, digest, offset, offset + length - 1);
                if (b.whole()) {
                    return new OneStream(client, repository, skipToResumePoint(b.stream(), offset));
                }
                byte[] buf = takeBuffer();
                try (InputStream in = b.stream()) {
                    int n = in.readNBytes(buf, 0, length);
                    if (n < length || in.read() >= 0) {
                        throw new EOFException("part " + (first + 1) + " of " + digest + ": " + n
                                + " bytes where " + length + " were promised");
                    }
                } catch (IOException | RuntimeException e) {
                    pool.add(buf);
                    if (e instanceof InterruptedIOException || Thread.currentThread().isInterrupted()) {
                        throw e;
                    }
                    // a broken first part: one stream from the resume point, as without ranged parts
                    return new OneStream(client, repository, open(client, repository, offset));
                }
                return new RangedParts(client, repository, first, buf);
            }

            /** The parts of this run in order: each a buffer from the pool, filled. */
            private interface PartSource extends Closeable {
                byte[] next(int index, long offset, int length) throws IOException;

                /** After the last part: fails when upstream has more bytes than the blob's size. */
                void checkEnd() throws IOException;

                @Override
                void close();
            }

            /** One response read part after part, opened again from the resume point when it breaks. */
            private final class OneStream implements PartSource {
                private final RegistryClient client;
                private final String repository;
                private InputStream in;

                OneStream(RegistryClient client, String repository, InputStream in) {
                    this.client = client;
                    this.repository = repository;
                    this.in = in;
                }

                @Override
                public byte[] next(int index, long offset, int length) throws IOException {
                    for (int attempts = 1; ; attempts++) {
                        byte[] buf = takeBuffer();
                        int n;
                        IOException broken = null;
                        try {
                            n = in.readNBytes(buf, 0, length);
                        } catch (IOException e) {
                            n = -1;
                            broken = e;
                        }
                        if (n == length) {
                            return buf;
                        }
                        pool.add(buf);
                        if (broken instanceof InterruptedIOException || Thread.currentThread().isInterrupted()) {
                            throw broken != null ? broken : new InterruptedIOException("interrupted");
                        }
                        if (attempts >= READ_ATTEMPTS) {
                            throw broken != null ? broken : new ContentMismatchException(
                                    ContentMismatchException.Kind.TOO_SHORT, digest, null, size, offset + n);
                        }
                        // The connection broke (or ended early) mid-part: this part was not
                        // hashed yet, so ask again from its first byte.
                        closeQuietly(in);
                        in = open(client, repository, offset);
                    }
                }

                @Override
                public void checkEnd() throws IOException {
                    if (in.read() >= 0) {
                        throw new ContentMismatchException(ContentMismatchException.Kind.TOO_LONG, digest, null,
                                size, size + 1);
                    }
                }

                @Override
                public void close() {
                    closeQuietly(in);
                }
            }

            /**
             * Parts fetched with their own bounded {@code Range} GETs, up to {@code partsAtOnce} ahead
             * of the one being hashed; each is exact in length (its {@code Content-Range} and body
             * checked), and one that breaks is asked for again from where it broke.
             */
            private final class RangedParts implements PartSource {
                private final RegistryClient client;
                private final String repository;
                private final Map<Integer, Future<byte[]>> ahead = new HashMap<>();
                private final int firstIndex;
                private byte[] first;
                /** Set when the run is over: parts still arriving stop at their next read. */
                private volatile boolean closed;

                RangedParts(RegistryClient client, String repository, int firstIndex, byte[] first) {
                    this.client = client;
                    this.repository = repository;
                    this.firstIndex = firstIndex;
                    this.first = first;
                }

                @Override
                public byte[] next(int index, long offset, int length) throws IOException {
                    // Nothing more is asked for once the budget is spent: this run stops after this part.
                    for (int j = index + 1; j < Math.min(parts, index + partsAtOnce) && !budget.spent(); j++) {
                        int part = j;
                        ahead.computeIfAbsent(j, k -> partFetches.submit(() -> fetch(part)));
                    }
                    if (index == firstIndex && first != null) {
                        byte[] buf = first;
                        first = null;
                        return buf;
                    }
                    Future<byte[]> f = ahead.remove(index);
                    if (f == null) {
                        f = partFetches.submit(() -> fetch(index));
                    }
                    try {
                        return f.get();
                    } catch (InterruptedException e) {
                        f.cancel(true);
                        Thread.currentThread().interrupt();
                        throw new InterruptedIOException("interrupted copying " + digest);
                    } catch (ExecutionException e) {
                        if (e.getCause() instanceof IOException io) {
                            throw io;
                        }
                        if (e.getCause() instanceof RuntimeException r) {
                            throw r;
                        }
                        throw new IOException("part " + (index + 1) + " of " + digest + ": " + e.getCause(), e.getCause());
                    }
                }

                /** Part {@code index} into a buffer of the pool; the buffer goes back when it fails. */
                private byte[] fetch(int index) throws IOException {
                    long start = (long) index * partSize;
                    int length = (int) Math.min(partSize, size - start);
                    byte[] buf = takeBuffer();
                    int got = 0;
                    try {
                        for (int attempts = 1; ; attempts++) {
                            IOException broken = null;
                            try {
                                RegistryClient.BlobPart b = client.openBlobPart(repository, digest, start + got,
                                        start + length - 1);
                                if (b.whole()) {
                                    closeQuietly(b.stream());
                                    throw RegistryException.refused("blob " + digest + ": upstream stopped honouring "
                                            + "Range at part " + (index + 1), ErrorCode.RANGE_INVALID);
                                }
                                try (InputStream in = b.stream()) {
                                    int n;
                                    while (got < length && (n = in.read(buf, got, length - got)) >= 0) {
                                        got += n;
                                        if (closed) {
                                            throw new InterruptedIOException("copy of " + digest + " stopped");
                                        }
                                    }
                                    if (got == length && in.read() >= 0) {
                                        throw RegistryException.refused("blob " + digest + ": part " + (index + 1)
                                                + " is longer than its range", ErrorCode.RANGE_INVALID);
                                    }
                                }
                            } catch (InterruptedIOException e) {
                                throw e;
                            } catch (IOException e) {
                                if (e instanceof RegistryException r && !r.isRetryable()) {
                                    throw e;
                                }
                                broken = e;
                            }
                            if (got == length) {
                                return buf;
                            }
                            if (Thread.currentThread().isInterrupted()) {
                                throw new InterruptedIOException("interrupted copying " + digest);
                            }
                            if (attempts >= READ_ATTEMPTS) {
                                throw broken != null ? broken : new ContentMismatchException(
                                        ContentMismatchException.Kind.TOO_SHORT, digest, null, size, start + got);
                            }
                        }
                    } catch (IOException | RuntimeException | Error e) {
                        pool.add(buf);
                        throw e;
                    }
                }

                @Override
                public void checkEnd() {
                    // every part's length was checked against its range, the last one's against the size
                }

                /** Stops the parts fetched ahead and gives their buffers back. */
                @Override
                public void close() {
                    closed = true;
                    first = null;
                    // Buffers of parts still arriving are dropped with them (the pool is this
                    // transfer's, which is over); those waiting for a buffer or a thread stop here.
                    ahead.values().forEach(f -> f.cancel(true));
                    ahead.clear();
                }
            }

            /**
             * The blob from {@code offset} on. When upstream ignores the range, the prefix is hashed
             * again and must leave the state the copy saved there: those are the bytes uploaded before.
             */
            private InputStream open(RegistryClient client, String repository, long offset) throws IOException {
                RegistryClient.BlobBytes b = client.openBlobFrom(repository, digest, offset);
                return b.start() == offset ? b.stream() : skipToResumePoint(b.stream(), offset);
            }

            /** {@code in}, the whole blob, read up to {@code offset}, where it must hash to the saved state. */
            private InputStream skipToResumePoint(InputStream in, long offset) throws IOException {
                if (offset == 0) {
                    return in;
                }
                Sha256State again = Sha256State.start();
                byte[] buf = new byte[1 << 16];
                long left = offset;
                try {
                    while (left > 0) {
                        int n = in.read(buf, 0, (int) Math.min(buf.length, left));
                        if (n < 0) {
                            throw new IOException("upstream ended at byte " + (offset - left)
                                    + " while reading up to the resume point " + offset + " of " + digest);
                        }
                        again.update(buf, 0, n);
                        left -= n;
                    }
                } catch (IOException e) {
                    closeQuietly(in);
                    throw e;
                }
                Sha256State expected = Sha256State.restore(stateAt(offset));
                if (!again.sameAs(expected)) {
                    closeQuietly(in);
                    throw RegistryException.refused("blob " + digest + ": upstream sent other bytes before "
                            + offset + " than when this copy began", ErrorCode.BLOB_UNKNOWN);
                }
                return in;
            }

            /** The hash state after the first {@code offset} bytes (a part boundary of this run). */
            private byte[] stateAt(long offset) {
                int partsDone = (int) (offset / partSize);
                return partsDone == startParts ? startState : statesAfter.get(partsDone - 1);
            }

            private void upload(int index, byte[] buf, int length) {
                try {
                    if (uploadFailure.get() == null) {
                        etags[index] = uploads.uploadPart(digest, uploadId, index + 1, buf, length);
                    }
                } catch (RuntimeException e) {
                    uploadFailure.compareAndSet(null, e);
                } finally {
                    pool.add(buf);
                    slots.release();
                }
            }

            private byte[] takeBuffer() throws IOException {
                byte[] buf = pool.poll();
                if (buf != null) {
                    return buf;
                }
                if (buffers.incrementAndGet() <= buffersPerCopy()) {
                    return new byte[(int) partSize];
                }
                buffers.decrementAndGet();
                try {
                    return pool.take();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted copying " + digest);
                }
            }

            private void awaitUploads() throws IOException {
                boolean interrupted = false;
                for (Future<?> f : inFlight) {
                    while (true) {
                        try {
                            f.get();
                            break;
                        } catch (InterruptedException e) {
                            interrupted = true; // the parts must settle before the state is saved
                        } catch (ExecutionException e) {
                            uploadFailure.compareAndSet(null, e.getCause());
                            break;
                        }
                    }
                }
                inFlight.clear();
                if (interrupted) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted copying " + digest);
                }
            }

            private void rethrowUploadFailure() {
                Throwable t = uploadFailure.get();
                if (t instanceof RuntimeException r) {
                    throw r;
                }
                if (t instanceof Error e) {
                    throw e;
                }
                if (t != null) {
                    throw new StoreException("upload of " + digest + " failed: " + t.getMessage(), t, true);
                }
            }

            /** Parts done from the first on, without a gap. */
            int completedParts() {
                int n = 0;
                while (n < parts && etags[n] != null) {
                    n++;
                }
                return n;
            }

            /** Where a next run goes on: after the parts done without a gap. */
            PartialBlob partial() {
                int n = completedParts();
                return new PartialBlob(digest, size, uploadId, partSize, Arrays.asList(etags).subList(0, n),
                        stateAt((long) n * partSize));
            }
        }
    }

    /** Whether a failure may pass on a retry of the job (so its partial copy is worth keeping). */
    public static boolean mayPass(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ContentMismatchException || t instanceof MultipartUploads.UploadGoneException) {
                return false;
            }
            if (t instanceof RegistryException r) {
                return r.isRetryable();
            }
            if (t instanceof StoreException s) {
                return s.isRetryable();
            }
        }
        return e instanceof IOException; // a broken connection
    }

    private static void closeQuietly(InputStream in) {
        try {
            in.close();
        } catch (IOException ignored) {
            // the response is discarded either way
        }
    }
}
