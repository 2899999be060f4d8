package io.imagemirror.aws.store;

import io.imagemirror.oci.Digest;
import io.imagemirror.oci.InvalidDigestException;
import io.imagemirror.oci.VerifyingInputStream;
import io.imagemirror.store.BlobStore;
import io.imagemirror.store.ByteRange;
import io.imagemirror.store.MultipartUploads;
import io.imagemirror.store.Page;
import io.imagemirror.store.RangeNotSatisfiableException;
import io.imagemirror.store.StoreException;
import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.AbortMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CompletedMultipartUpload;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.model.UploadPartResponse;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;

/**
 * A {@link BlobStore} in an S3 bucket under one prefix: {@code blobs/sha256/<hex>} for layers and
 * configs, {@code manifests/sha256/<hex>} for raw manifests.
 *
 * <p>Below the multipart threshold (default 64 MiB) a put is one {@code PutObject} with
 * {@code If-None-Match: *}. Up to 1 MiB the bytes are verified into memory first (so SDK retries
 * can replay them); above that the body streams but withholds its last bytes until the digest has
 * been checked: a mismatch breaks the request before S3 has the whole body, so no object appears. Above it the
 * put is a multipart upload whose parts ({@link #partSize}) are sent in parallel while the next one
 * is read, with at most {@value #PARTS_IN_FLIGHT} + 1 part buffers (so memory is bounded by that
 * many parts whatever the blob's size), completed only
 * after the stream verified (with {@code If-None-Match: *} again) and aborted on any failure, so
 * nothing is visible before it is whole and right. A {@code 412} means another writer won: the
 * object is there, which is success.
 *
 * <p>As {@link MultipartUploads} it also lends its multipart uploads to a copy that spans several
 * invocations ({@code mirror/ResumableCopies}): parts sent from many threads, completed with
 * {@code If-None-Match: *} once the caller verified the whole blob.
 *
 * <p>Thread-safe. The client and presigner are the caller's; this class never closes them.
 */
public final class S3BlobStore implements BlobStore, MultipartUploads {

    /** S3's most parts in one upload. */
    public static final int MAX_PARTS = 10_000;

    public static final long DEFAULT_MULTIPART_THRESHOLD = 64L << 20;
    public static final int DEFAULT_PART_SIZE = 8 << 20;
    /** S3's smallest part (all but the last). */
    public static final int MIN_PART_SIZE = 5 << 20;
    /** Single PUTs up to this size are verified into memory first, so any retry can replay them. */
    static final int SMALL_PUT = 1 << 20;
    /** Part buffers of one streamed upload, less the one filling (memory: this many plus one parts). */
    static final int PARTS_IN_FLIGHT = 4;
    /** Sends the parts of streamed uploads; daemon threads, created as needed and idle ones retired. */
    private static final java.util.concurrent.ExecutorService PART_UPLOADS =
            java.util.concurrent.Executors.newCachedThreadPool(r -> {
                Thread t = new Thread(r, "s3-part-upload");
                t.setDaemon(true);
                return t;
            });
    /** Our own attempts at a part on top of the SDK's retries: its buffer can always be replayed. */
    private static final int PART_ATTEMPTS = 3;

    private final S3Client s3;
    private final S3Presigner presigner;
    private final String bucket;
    private final String prefix;
    private final long multipartThreshold;
    private final int partSize;

    /**
     * @param presigner for {@link #presignGet}; {@code null} makes it return empty
     * @param namespace {@code blobs} or {@code manifests}: the key prefix
     */
    public S3BlobStore(S3Client s3, S3Presigner presigner, String bucket, String namespace) {
        this(s3, presigner, bucket, namespace, DEFAULT_MULTIPART_THRESHOLD, DEFAULT_PART_SIZE);
    }

    public S3BlobStore(S3Client s3, S3Presigner presigner, String bucket, String namespace, long multipartThreshold,
                       int partSize) {
        this.s3 = Objects.requireNonNull(s3, "s3");
        this.presigner = presigner;
        this.bucket = Objects.requireNonNull(bucket, "bucket");
        if (!namespace.matches("[a-z]+")) {
            throw new IllegalArgumentException("namespace must be lowercase letters: " + namespace);
        }
        this.prefix = namespace + "/";
        if (partSize < MIN_PART_SIZE) {
            throw new IllegalArgumentException("part size must be at least 5 MiB, got " + partSize);
        }
        if (multipartThreshold < partSize) {
            throw new IllegalArgumentException("multipart threshold must be at least the part size");
        }
        this.multipartThreshold = multipartThreshold;
        this.partSize = partSize;
    }

    /** The object key for {@code digest}. */
    public String keyOf(Digest digest) {
        return prefix + digest.algorithm().id() + "/" + digest.hex();
    }

    public String bucket() {
        return bucket;
    }

    @Override
    public Optional<Info> stat(Digest digest) {
        try {
            HeadObjectResponse r = s3.headObject(b -> b.bucket(bucket).key(keyOf(digest)));
            return Optional.of(new Info(digest, r.contentLength(), r.lastModified()));
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        } catch (S3Exception e) {
            if (e.statusCode() == 404 && !isNoSuchBucket(e)) {
                return Optional.empty();
            }
            throw translate("stat", digest, e);
        } catch (SdkException e) {
            throw translate("stat", digest, e);
        }
    }

    @Override
    public PutResult put(Digest digest, long size, InputStream in) throws IOException {
        if (stat(digest).isPresent()) {
            return PutResult.ALREADY_EXISTS;
        }
        VerifyingInputStream verifying = new VerifyingInputStream(in, digest, size);
        return size < multipartThreshold ? putSingle(digest, size, verifying) : putMultipart(digest, verifying);
    }

    private PutResult putSingle(Digest digest, long size, VerifyingInputStream verifying) throws IOException {
        if (size <= SMALL_PUT) {
            // Small objects (configs, manifests, most layers of small images) are verified into
            // memory first: their body can then be replayed by every SDK retry.
            byte[] bytes = new byte[(int) size];
            int filled = verifying.readNBytes(bytes, 0, bytes.length);
            if (filled < bytes.length || verifying.read() != -1) {
                throw new IllegalStateException("verifying stream ended without failing"); // cannot happen
            }
            return conditionalPut(digest, size, RequestBody.fromContentProvider(
                    () -> new ByteArrayInputStream(bytes), size, "application/octet-stream"), null);
        }
        HoldLastByteUntilVerified body = new HoldLastByteUntilVerified(verifying, size);
        return conditionalPut(digest, size, RequestBody.fromInputStream(retryableStart(body), size), body);
    }

    private PutResult conditionalPut(Digest digest, long size, RequestBody requestBody,
                                     HoldLastByteUntilVerified body) throws IOException {
        try {
            s3.putObject(b -> b.bucket(bucket).key(keyOf(digest)).contentLength(size).ifNoneMatch("*"), requestBody);
            return PutResult.STORED;
        } catch (S3Exception e) {
            rethrowFailure(body);
            if (e.statusCode() == 412) {
                return PutResult.ALREADY_EXISTS;
            }
            if (e.statusCode() == 409 && stat(digest).isPresent()) {
                return PutResult.ALREADY_EXISTS; // a concurrent conditional write finished first
            }
            throw translate("put", digest, e);
        } catch (RuntimeException e) {
            rethrowFailure(body);
            // Some servers answer before the client has written all of an aws-chunked body (the
            // trailer) and drop the connection, or answer a failed If-None-Match early: the client
            // sees a broken write although the object is there, from a writer whose bytes were verified.
            if (stat(digest).isPresent()) {
                return PutResult.ALREADY_EXISTS;
            }
            throw e instanceof SdkException sdk ? translate("put", digest, sdk)
                    : new StoreException("put " + digest + " failed: " + e.getMessage(), e, true);
        }
    }

    private static void rethrowFailure(HoldLastByteUntilVerified body) throws IOException {
        if (body != null) {
            body.rethrowFailure();
        }
    }

    /**
     * The SDK retries a request that failed on a dead pooled connection by resetting the body to
     * a mark it set with a 128 KiB read limit; a buffered wrapper makes that possible while no
     * more than that was sent. (The held-back last bytes stay held: the buffer fills only through
     * the verifying read.)
     */
    private static InputStream retryableStart(InputStream body) {
        return new java.io.BufferedInputStream(body, 64 * 1024);
    }

    private PutResult putMultipart(Digest digest, VerifyingInputStream verifying) throws IOException {
        String uploadId = begin(digest);
        boolean completed = false;
        PartsInFlight inFlight = new PartsInFlight(digest, uploadId);
        try {
            boolean end = false;
            int partNumber = 0;
            while (!end) {
                byte[] buf = inFlight.takeBuffer();
                int filled = 0;
                try {
                    while (filled < buf.length) {
                        int n = verifying.read(buf, filled, buf.length - filled);
                        if (n < 0) {
                            end = true; // the verifying stream only ends after the digest and size matched
                            break;
                        }
                        filled += n;
                    }
                } catch (IOException | RuntimeException e) {
                    inFlight.release(buf);
                    throw e;
                }
                if (filled == 0 && partNumber > 0) {
                    inFlight.release(buf);
                    break;
                }
                inFlight.send(++partNumber, buf, filled);
            }
            List<String> etags = inFlight.awaitAll();
            PutResult result = complete(digest, uploadId, etags);
            completed = true; // stored, or a rival's object stands (then complete aborted ours)
            return result;
        } finally {
            inFlight.awaitQuietly();
            if (!completed) {
                abort(digest, uploadId);
            }
        }
    }

    /**
     * The parts of one streamed upload: sent on {@link #PART_UPLOADS} while the next part is read, at
     * most {@link #PARTS_IN_FLIGHT} at once; memory is that many buffers plus the one filling.
     */
    private final class PartsInFlight {
        private final Digest digest;
        private final String uploadId;
        private final java.util.concurrent.BlockingQueue<byte[]> free =
                new java.util.concurrent.ArrayBlockingQueue<>(PARTS_IN_FLIGHT + 1);
        private final java.util.concurrent.ConcurrentMap<Integer, String> etags =
                new java.util.concurrent.ConcurrentHashMap<>();
        private final List<java.util.concurrent.Future<?>> sent = new ArrayList<>();
        private final java.util.concurrent.atomic.AtomicReference<RuntimeException> failure =
                new java.util.concurrent.atomic.AtomicReference<>();
        private int buffers;

        PartsInFlight(Digest digest, String uploadId) {
            this.digest = digest;
            this.uploadId = uploadId;
        }

        byte[] takeBuffer() throws java.io.InterruptedIOException {
            rethrow();
            byte[] buf = free.poll();
            if (buf != null) {
                return buf;
            }
            if (buffers <= PARTS_IN_FLIGHT) {
                buffers++;
                return new byte[partSize];
            }
            try {
                return free.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted uploading " + digest);
            }
        }

        void release(byte[] buf) {
            free.add(buf);
        }

        void send(int partNumber, byte[] buf, int length) {
            sent.add(PART_UPLOADS.submit(() -> {
                try {
                    if (failure.get() == null) {
                        etags.put(partNumber, uploadPart(digest, uploadId, partNumber, buf, length));
                    }
                } catch (RuntimeException e) {
                    failure.compareAndSet(null, e);
                } finally {
                    release(buf);
                }
            }));
        }

        /** Waits for every part; the entity tags in part order. */
        List<String> awaitAll() throws java.io.InterruptedIOException {
            for (java.util.concurrent.Future<?> f : sent) {
                try {
                    f.get();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException("interrupted uploading " + digest);
                } catch (java.util.concurrent.ExecutionException e) {
                    failure.compareAndSet(null, new StoreException(e.getCause().getMessage(), e.getCause(), true));
                }
            }
            rethrow();
            List<String> ordered = new ArrayList<>(etags.size());
            for (int i = 1; i <= etags.size(); i++) {
                ordered.add(etags.get(i));
            }
            return ordered;
        }

        /** After a failure: lets the parts still sending end before the upload is aborted. */
        void awaitQuietly() {
            for (java.util.concurrent.Future<?> f : sent) {
                try {
                    f.get();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                } catch (java.util.concurrent.ExecutionException ignored) {
                    // recorded in failure by the task itself
                }
            }
        }

        private void rethrow() {
            RuntimeException e = failure.get();
            if (e != null) {
                throw e;
            }
        }
    }

    @Override
    public long minPartSize() {
        return MIN_PART_SIZE;
    }

    @Override
    public int maxParts() {
        return MAX_PARTS;
    }

    @Override
    public String begin(Digest digest) {
        try {
            return s3.createMultipartUpload(b -> b.bucket(bucket).key(keyOf(digest))).uploadId();
        } catch (SdkException e) {
            throw translate("start upload of", digest, e);
        }
    }

    @Override
    public String uploadPart(Digest digest, String uploadId, int partNumber, byte[] bytes, int length) {
        try {
            return uploadPart(keyOf(digest), uploadId, partNumber, bytes, length).eTag();
        } catch (S3Exception e) {
            throw isNoSuchUpload(e) ? new UploadGoneException("upload " + uploadId + " of " + digest + " is gone", e)
                    : translate("upload part " + partNumber + " of", digest, e);
        } catch (SdkException e) {
            throw translate("upload part " + partNumber + " of", digest, e);
        }
    }

    @Override
    public PutResult complete(Digest digest, String uploadId, List<String> etags) {
        List<CompletedPart> parts = new ArrayList<>(etags.size());
        for (int i = 0; i < etags.size(); i++) {
            parts.add(CompletedPart.builder().partNumber(i + 1).eTag(etags.get(i)).build());
        }
        try {
            s3.completeMultipartUpload(b -> b.bucket(bucket).key(keyOf(digest)).uploadId(uploadId).ifNoneMatch("*")
                    .multipartUpload(CompletedMultipartUpload.builder().parts(parts).build()));
            return PutResult.STORED;
        } catch (S3Exception e) {
            if (e.statusCode() == 412 || (e.statusCode() == 409 && stat(digest).isPresent())) {
                abort(digest, uploadId); // another writer's object stands; these parts are not needed
                return PutResult.ALREADY_EXISTS;
            }
            if (isNoSuchUpload(e)) {
                // Completed by an earlier attempt whose answer was lost, or cleaned up: the object tells which.
                if (stat(digest).isPresent()) {
                    return PutResult.ALREADY_EXISTS;
                }
                throw new UploadGoneException("upload " + uploadId + " of " + digest + " is gone", e);
            }
            throw translate("complete upload of", digest, e);
        } catch (SdkClientException e) {
            // The answer was lost: the object is there (this upload or a rival's, both verified) or not.
            if (stat(digest).isPresent()) {
                return PutResult.ALREADY_EXISTS;
            }
            throw translate("complete upload of", digest, e);
        } catch (SdkException e) {
            throw translate("complete upload of", digest, e);
        }
    }

    @Override
    public void abort(Digest digest, String uploadId) {
        abort(keyOf(digest), uploadId);
    }

    private static boolean isNoSuchUpload(S3Exception e) {
        return e.awsErrorDetails() != null && "NoSuchUpload".equals(e.awsErrorDetails().errorCode());
    }

    private UploadPartResponse uploadPart(String key, String uploadId, int partNumber, byte[] buf, int length) {
        for (int attempt = 1; ; attempt++) {
            try {
                return s3.uploadPart(b -> b.bucket(bucket).key(key).uploadId(uploadId).partNumber(partNumber)
                                .contentLength((long) length),
                        RequestBody.fromContentProvider(() -> new ByteArrayInputStream(buf, 0, length), length,
                                "application/octet-stream"));
            } catch (SdkClientException e) {
                // A broken connection: the part is in memory, so sending it again is cheap and safe.
                if (attempt >= PART_ATTEMPTS) {
                    throw e;
                }
            }
        }
    }

    private void abort(String key, String uploadId) {
        try {
            s3.abortMultipartUpload(AbortMultipartUploadRequest.builder().bucket(bucket).key(key).uploadId(uploadId)
                    .build());
        } catch (SdkException e) {
            // A lifecycle rule for incomplete uploads is the backstop; the failure that got us here matters more.
        }
    }

    @Override
    public Optional<Content> open(Digest digest, ByteRange range) {
        GetObjectRequest.Builder req = GetObjectRequest.builder().bucket(bucket).key(keyOf(digest));
        if (!range.isAll()) {
            req.range(range.toHeader());
        }
        ResponseInputStream<GetObjectResponse> in;
        try {
            in = s3.getObject(req.build());
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        } catch (S3Exception e) {
            if (e.statusCode() == 416) {
                Optional<Info> info = stat(digest);
                if (info.isEmpty()) {
                    return Optional.empty();
                }
                throw new RangeNotSatisfiableException(range, info.get().size());
            }
            if (e.statusCode() == 404 && !isNoSuchBucket(e)) {
                return Optional.empty();
            }
            throw translate("open", digest, e);
        } catch (SdkException e) {
            throw translate("open", digest, e);
        }
        GetObjectResponse r = in.response();
        long length = r.contentLength();
        long size = length;
        long offset = 0;
        String contentRange = r.contentRange();
        if (contentRange != null && contentRange.startsWith("bytes ")) {
            // bytes first-last/size
            String spec = contentRange.substring(6);
            int dash = spec.indexOf('-');
            int slash = spec.indexOf('/');
            offset = Long.parseLong(spec.substring(0, dash));
            size = Long.parseLong(spec.substring(slash + 1));
        } else if (!range.isAll()) {
            closeQuietly(in);
            throw new StoreException("open " + digest + ": the server ignored the Range header", null, false);
        }
        return Optional.of(new Content(in, offset, length, size));
    }

    private static void closeQuietly(InputStream in) {
        try {
            in.close();
        } catch (IOException ignored) {
            // nothing to do
        }
    }

    @Override
    public void delete(Digest digest) {
        try {
            s3.deleteObject(b -> b.bucket(bucket).key(keyOf(digest)));
        } catch (NoSuchKeyException e) {
            // already gone
        } catch (SdkException e) {
            throw translate("delete", digest, e);
        }
    }

    @Override
    public Page<Info> list(int limit, String pageToken) {
        int max = Page.checkLimit(limit);
        ListObjectsV2Response r;
        try {
            r = s3.listObjectsV2(b -> {
                b.bucket(bucket).prefix(prefix).maxKeys(max);
                if (pageToken != null) {
                    b.startAfter(prefix + pageToken);
                }
            });
        } catch (SdkException e) {
            throw translate("list", null, e);
        }
        List<Info> items = new ArrayList<>();
        String lastKey = null;
        for (S3Object o : r.contents()) {
            lastKey = o.key();
            String rest = o.key().substring(prefix.length());
            int slash = rest.indexOf('/');
            if (slash < 0) {
                continue;
            }
            try {
                items.add(new Info(Digest.parse(rest.substring(0, slash) + ":" + rest.substring(slash + 1)), o.size(),
                        o.lastModified()));
            } catch (InvalidDigestException e) {
                // not one of ours
            }
        }
        boolean more = Boolean.TRUE.equals(r.isTruncated()) && lastKey != null;
        return new Page<>(items, more ? lastKey.substring(prefix.length()) : null);
    }

    @Override
    public Optional<URI> presignGet(Digest digest, Duration ttl) {
        if (presigner == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(presigner.presignGetObject(p -> p.signatureDuration(ttl)
                    .getObjectRequest(g -> g.bucket(bucket).key(keyOf(digest)))).url().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        } catch (SdkException e) {
            throw translate("presign", digest, e);
        }
    }

    private static boolean isNoSuchBucket(S3Exception e) {
        return e.awsErrorDetails() != null && "NoSuchBucket".equals(e.awsErrorDetails().errorCode());
    }

    private StoreException translate(String op, Digest digest, SdkException e) {
        String what = op + (digest == null ? "" : " " + digest) + " in s3://" + bucket + "/" + prefix;
        if (e instanceof S3Exception s3e) {
            if (isNoSuchBucket(s3e)) {
                return new StoreException(what + ": bucket " + bucket + " does not exist", e, false);
            }
            boolean retryable = s3e.statusCode() >= 500 || s3e.statusCode() == 429 || s3e.isThrottlingException();
            return new StoreException(what + " failed: " + s3e.statusCode() + " " + s3e.getMessage(), e, retryable);
        }
        return new StoreException(what + " failed: " + e.getMessage(), e, e instanceof SdkClientException
                || e.retryable());
    }

    /**
     * The body of a single PUT: passes bytes through, but before handing over the last of the
     * declared size it reads on to the verified end of the stream. A mismatch therefore fails the
     * read while S3 still lacks bytes, so the request is never complete and no object is created.
     * The first failure is kept, replayed on any later read (an SDK retry cannot succeed) and
     * rethrown to the caller instead of the SDK's wrapper.
     */
    private static final class HoldLastByteUntilVerified extends FilterInputStream {
        private final VerifyingInputStream verifying;
        private final long size;
        private long count;
        private IOException failure;

        HoldLastByteUntilVerified(VerifyingInputStream in, long size) {
            super(in);
            this.verifying = in;
            this.size = size;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (failure != null) {
                throw failure;
            }
            try {
                int n = verifying.read(b, off, len);
                if (n > 0) {
                    count += n;
                    if (count == size && verifying.read() != -1) {
                        throw new IOException("stream continued past its verified end");
                    }
                } else if (n < 0 && count < size) {
                    throw new IOException("stream ended early"); // the verifying stream reports this first
                }
                return n;
            } catch (IOException e) {
                failure = e;
                throw e;
            }
        }

        @Override
        public void close() {
            // The caller owns the underlying stream.
        }

        void rethrowFailure() throws IOException {
            if (failure != null) {
                throw failure;
            }
        }
    }
}
