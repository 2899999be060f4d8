package io.imagemirror.upstream;

import io.imagemirror.oci.BlobSink;
import io.imagemirror.oci.ContentMismatchException;
import io.imagemirror.oci.Digest;
import io.imagemirror.oci.ErrorCode;
import io.imagemirror.oci.RegistryException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import okhttp3.Response;

/**
 * Fetches one blob into a {@link BlobSink}. A blob the {@link RangedFetch} policy calls large is
 * fetched as parts with parallel ranged GETs: each part is written at its offset as soon as it
 * arrived, and the parts are hashed in order as the contiguous prefix grows, so the blob is still
 * verified in one streaming pass; at most {@link RangedFetch#window()} parts are held at once. The
 * first part's answer decides: a {@code 206} with the exact {@code Content-Range} asked for turns
 * the other parts on; a {@code 200} (ranges ignored) is read as the whole blob in one stream, so
 * nothing is fetched twice; a {@code 206} for another range is dropped for one plain GET. Anything
 * smaller streams through a {@link BlobStream} (resumed with {@code Range} after a break). With
 * {@link RangedFetch#adaptive()} the first part is read alone and timed first: one that came fast
 * enough ({@link RangedFetch#fastEnough}) has the rest follow as one ranged stream, hashed on from
 * it and written behind its reads by a thread of its own ({@link BlobSink#copyInOrderBehind}); a
 * slow one has the other parts fetched in parallel.
 *
 * <p>Returns only after the digest and size matched; a part that fails is asked for again from its
 * last byte, as {@link BlobStream} does. The ranged parts of a blob are one fetch of it. Each call
 * runs on the calling thread plus up to {@code parallelism - 1} helpers from the executor, and
 * returns only when all of them stopped writing into the sink.
 */
final class RangedBlobFetch {

    /** Opens bytes {@code first..last} of the blob (both inclusive); {@code last} -1 means to the end. */
    @FunctionalInterface
    interface RangeOpener {
        Response open(long first, long last, StallWatch.Ticket ticket) throws IOException;
    }

    private static final int STREAM_CHUNK = 1 << 20;
    /** Chunks a stream's reads may run ahead of its writes. */
    private static final int WRITE_BEHIND = 3;
    private static volatile Executor sharedHelpers;

    private final RangeOpener opener;
    private final Digest digest;
    private final long size;
    private final BlobSink sink;
    private final RangedFetch policy;
    private final Executor helpers;
    private final RetryPolicy retry;
    private final StallWatch stalls;

    // ranged state, guarded by `this`
    private int parts;
    private int nextClaim;
    private int nextHash;
    private long hashedBytes;
    private boolean hashing;
    private int running;
    private IOException failure;
    private final Map<Integer, byte[]> ready = new HashMap<>();
    private final ArrayDeque<byte[]> pool = new ArrayDeque<>();
    private final Set<Response> open = new HashSet<>();
    private MessageDigest hasher;

    RangedBlobFetch(RangeOpener opener, Digest digest, long size, BlobSink sink, RangedFetch policy, Executor helpers,
                    RetryPolicy retry, StallWatch stalls) {
        this.opener = opener;
        this.digest = digest;
        this.size = size;
        this.sink = sink;
        this.policy = policy;
        this.helpers = helpers;
        this.retry = retry;
        this.stalls = stalls;
    }

    /** A process-wide pool of daemon threads for the helpers (idle ones end after a minute). */
    static Executor defaultHelpers() {
        Executor e = sharedHelpers;
        if (e == null) {
            synchronized (RangedBlobFetch.class) {
                e = sharedHelpers;
                if (e == null) {
                    java.util.concurrent.ThreadPoolExecutor pool = new java.util.concurrent.ThreadPoolExecutor(0,
                            Integer.MAX_VALUE, 60, java.util.concurrent.TimeUnit.SECONDS,
                            new java.util.concurrent.SynchronousQueue<>(), r -> {
                                Thread t = new Thread(r, "blob-part");
                                t.setDaemon(true);
                                return t;
                            });
                    sharedHelpers = e = pool;
                }
            }
        }
        return e;
    }

    /** Fetches the blob into the sink; returns its size once verified. */
    long run() throws IOException {
        if (size < 0 || !policy.ranged(size)) {
            return stream(null);
        }
        long firstLast = policy.partSize() - 1L;
        StallWatch.Ticket ticket = stalls.start();
        Response first;
        try {
            first = opener.open(0, firstLast, ticket);
        } catch (RegistryException e) {
            ticket.close();
            if (e.status() == 416) {
                return stream(null); // a range it should have been able to serve: not a server for ranges
            }
            throw e;
        }
        if (first.code() == 200) {
            ticket.close();
            return stream(first); // Range ignored: this is the whole blob, read it once
        }
        long[] cr = RegistryClient.contentRange(first);
        if (first.code() != 206 || cr == null || cr[0] != 0 || cr[1] != firstLast || (cr[2] >= 0 && cr[2] != size)) {
            first.close();
            ticket.close();
            return stream(null);
        }
        if (!policy.adaptive()) {
            return ranged(first, ticket, null);
        }
        // The first part alone, its body timed (the wait for the headers is mostly this JVM's first
        // request, tens of ms before the JIT, not the connection): fast enough, and the rest is one stream.
        byte[] part0 = new byte[policy.partSize()];
        long bodyStarted = System.nanoTime();
        int len0 = fetchPart(0, part0, first, ticket);
        if (!policy.fastEnough(len0, System.nanoTime() - bodyStarted)) {
            return ranged(null, null, part0);
        }
        hasher = digest.newHasher();
        sink.write(0, ByteBuffer.wrap(part0, 0, len0));
        hasher.update(part0, 0, len0);
        sink.hashed(len0);
        return streamFrom(len0);
    }

    // ---- one stream ------------------------------------------------------------------------

    private long stream(Response firstAnswer) throws IOException {
        Response[] reuse = {firstAnswer};
        StallWatch.Ticket ticket = stalls.start();
        try (BlobStream in = BlobStream.open(offset -> {
            Response r = reuse[0];
            reuse[0] = null;
            if (r != null && offset == 0) {
                return r;
            }
            if (r != null) {
                r.close();
            }
            return opener.open(offset, -1, ticket);
        }, digest, size, retry, ticket)) {
            return BlobSink.copyInOrder(in, sink, STREAM_CHUNK);
        } finally {
            ticket.close();
            if (reuse[0] != null) {
                reuse[0].close();
            }
        }
    }

    /** The rest of the blob from {@code offset} as one stream, hashed on from {@link #hasher}. */
    private long streamFrom(long offset) throws IOException {
        StallWatch.Ticket ticket = stalls.start();
        try (BlobStream in = BlobStream.resume(at -> opener.open(at, -1, ticket), digest, size, retry, ticket, hasher,
                offset)) {
            return BlobSink.copyInOrderBehind(in, sink, STREAM_CHUNK, offset, WRITE_BEHIND, "blob-write");
        } finally {
            ticket.close();
        }
    }

    // ---- ranged parts ----------------------------------------------------------------------

    /**
     * The parts in parallel: {@code first} is the open answer for part 0 (its ticket {@code
     * firstTicket}), or {@code part0} holds part 0 already read.
     */
    private long ranged(Response first, StallWatch.Ticket firstTicket, byte[] part0) throws IOException {
        int partSize = policy.partSize();
        parts = (int) ((size + partSize - 1) / partSize);
        hasher = digest.newHasher();
        nextClaim = 1; // part 0 is this thread's, with the answer already open
        int helpersWanted = Math.min(policy.parallelism(), parts) - 1;
        synchronized (this) {
            running = 1;
        }
        for (int i = 0; i < helpersWanted; i++) {
            synchronized (this) {
                running++;
            }
            try {
                helpers.execute(() -> work(null, null, null));
            } catch (RejectedExecutionException e) {
                synchronized (this) {
                    running--; // fewer helpers: the parts still get fetched by the others
                }
            }
        }
        work(first, firstTicket, part0);
        boolean interrupted = false;
        synchronized (this) {
            // every worker has stopped writing before this returns, even after a failure
            while (running > 0 || (failure == null && nextHash < parts)) {
                try {
                    wait();
                } catch (InterruptedException e) {
                    interrupted = true;
                    fail(new InterruptedIOException("interrupted fetching " + digest));
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            if (failure != null) {
                throw failure;
            }
        }
        Digest got = Digest.fromHash(digest.algorithm(), hasher.digest());
        if (!got.equals(digest)) {
            throw new ContentMismatchException(ContentMismatchException.Kind.DIGEST, digest, got, size, size);
        }
        return size;
    }

    /**
     * A worker: fetches, writes and deposits parts until none is left or the fetch failed. The
     * calling thread's starts with part 0: its open answer, or its bytes in {@code part0}.
     */
    private void work(Response firstAnswer, StallWatch.Ticket firstTicket, byte[] part0) {
        try {
            if (part0 != null) {
                sink.write(0, ByteBuffer.wrap(part0, 0, partLength(0)));
                deposit(0, part0);
            }
            int k = firstAnswer != null ? 0 : claim();
            Response answer = firstAnswer;
            StallWatch.Ticket ticket = firstTicket;
            while (k >= 0) {
                byte[] buf = buffer();
                int len = fetchPart(k, buf, answer, ticket);
                answer = null;
                ticket = null;
                sink.write((long) k * policy.partSize(), ByteBuffer.wrap(buf, 0, len));
                deposit(k, buf);
                k = claim();
            }
        } catch (IOException | RuntimeException e) {
            fail(e instanceof IOException io ? io : new IOException(e.toString(), e));
        } finally {
            synchronized (this) {
                running--;
                notifyAll();
            }
        }
    }

    /** The next part to fetch, waiting while the window is full; -1 when there is none or the fetch failed. */
    private synchronized int claim() throws InterruptedIOException {
        while (failure == null && nextClaim < parts && nextClaim >= nextHash + policy.window()) {
            try {
                wait();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted fetching " + digest);
            }
        }
        return failure != null || nextClaim >= parts ? -1 : nextClaim++;
    }

    private synchronized byte[] buffer() {
        byte[] b = pool.poll();
        return b != null ? b : new byte[policy.partSize()];
    }

    private int partLength(int k) {
        long first = (long) k * policy.partSize();
        return (int) Math.min(policy.partSize(), size - first);
    }

    /** Reads part {@code k} into {@code buf}; resumes from the last byte after a break. Returns its length. */
    private int fetchPart(int k, byte[] buf, Response answer, StallWatch.Ticket ticket) throws IOException {
        long first = (long) k * policy.partSize();
        int len = partLength(k);
        long last = first + len - 1;
        int filled = 0;
        int failuresWithoutProgress = 0;
        while (true) {
            StallWatch.Ticket t = ticket != null ? ticket : stalls.start();
            Response r = answer;
            answer = null;
            ticket = null;
            int before = filled;
            try {
                if (r == null) {
                    r = opener.open(first + filled, last, t);
                    long[] cr = RegistryClient.contentRange(r);
                    if (r.code() != 206 || cr == null || cr[0] != first + filled || cr[1] != last) {
                        r.close();
                        throw RegistryException.refused("blob " + digest + ": asked for bytes " + (first + filled) + "-"
                                + last + ", got " + (r.code() == 206 ? "Content-Range " + r.header("Content-Range")
                                : "HTTP " + r.code()) + " (the upstream stopped honouring ranges)", ErrorCode.RANGE_INVALID);
                    }
                }
                if (!track(r)) {
                    throw new IOException("fetch of " + digest + " stopped by a failure of another part");
                }
                InputStream body = r.body().byteStream();
                while (filled < len) {
                    int n = body.read(buf, filled, len - filled);
                    if (n < 0) {
                        break;
                    }
                    filled += n;
                    t.progress();
                }
                if (filled == len) {
                    if (body.read() >= 0) {
                        throw RegistryException.refused("blob " + digest + ": the answer for bytes " + first + "-" + last
                                + " is longer than the range", ErrorCode.RANGE_INVALID);
                    }
                    return len;
                }
                throw new IOException("answer for bytes " + first + "-" + last + " ended after " + filled + " bytes");
            } catch (RegistryException | ContentMismatchException e) {
                throw e;
            } catch (IOException e) {
                if (Thread.currentThread().isInterrupted() || failed()) {
                    throw e;
                }
                failuresWithoutProgress = filled > before ? 1 : failuresWithoutProgress + 1;
                if (failuresWithoutProgress > retry.maxAttempts()) {
                    throw RegistryException.transport("reading blob " + digest + " failed at byte " + (first + filled)
                            + " after " + (failuresWithoutProgress - 1) + " attempts to resume", e);
                }
                if (failuresWithoutProgress > 1) {
                    try {
                        retry.sleeper().sleep(retry.delayAfter(failuresWithoutProgress - 1, null));
                    } catch (InterruptedException ie) {
                        Thread.currentThread().interrupt();
                        throw new InterruptedIOException("interrupted resuming blob " + digest);
                    }
                }
            } finally {
                t.close();
                if (r != null) {
                    untrack(r);
                    r.close();
                }
            }
        }
    }

    private synchronized boolean track(Response r) {
        if (failure != null) {
            return false;
        }
        open.add(r);
        return true;
    }

    private synchronized void untrack(Response r) {
        open.remove(r);
    }

    private synchronized boolean failed() {
        return failure != null;
    }

    /** Records the first failure and breaks the other parts' transfers, so every worker stops soon. */
    private void fail(IOException e) {
        Response[] toClose;
        synchronized (this) {
            if (failure != null) {
                return;
            }
            failure = e;
            toClose = open.toArray(new Response[0]);
            notifyAll();
        }
        for (Response r : toClose) {
            r.close();
        }
    }

    /** Hands a written part to the in-order hash; the thread that finds no hasher running becomes it. */
    private void deposit(int k, byte[] buf) throws IOException {
        synchronized (this) {
            ready.put(k, buf);
            if (hashing) {
                return;
            }
            hashing = true;
        }
        while (true) {
            byte[] b;
            int index;
            synchronized (this) {
                index = nextHash;
                b = failure == null ? ready.remove(index) : null;
                if (b == null) {
                    hashing = false;
                    notifyAll();
                    return;
                }
            }
            int len = partLength(index);
            hasher.update(b, 0, len);
            long prefix;
            synchronized (this) {
                nextHash++;
                hashedBytes += len;
                prefix = hashedBytes;
                pool.push(b);
                notifyAll();
            }
            try {
                sink.hashed(prefix);
            } catch (IOException | RuntimeException e) {
                synchronized (this) {
                    hashing = false;
                }
                throw e;
            }
        }
    }
}
