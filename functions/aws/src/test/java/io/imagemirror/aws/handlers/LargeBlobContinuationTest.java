package io.imagemirror.aws.handlers;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.imagemirror.aws.AwsFixture;
import io.imagemirror.aws.AwsWiring;
import io.imagemirror.aws.queue.SqsJobQueue;
import io.imagemirror.aws.store.DiskS3Proxy;
import io.imagemirror.aws.store.S3BlobStore;
import io.imagemirror.jobs.Continuation;
import io.imagemirror.jobs.JobJson;
import io.imagemirror.jobs.MirrorImage;
import io.imagemirror.jobs.MirrorJobs;
import io.imagemirror.mirror.MirrorRequest;
import io.imagemirror.mirror.ResumableCopies;
import io.imagemirror.mirror.TimeBudget;
import io.imagemirror.mirror.UpstreamRequestCounter;
import io.imagemirror.oci.Digest;
import io.imagemirror.reference.ImageReference;
import io.imagemirror.store.BlobStore;
import io.imagemirror.store.Cause;
import io.imagemirror.store.Job;
import io.imagemirror.store.JobStatus;
import io.imagemirror.store.MultipartUploads;
import io.imagemirror.testbed.Content;
import io.imagemirror.testbed.LocalRegistry;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * A layer larger than one invocation can copy: a 1 GiB blob, pushed to a real docker-registry,
 * mirrored by the CopyWorker (parts fetched with parallel ranged GETs) into s3proxy (this test's
 * own, on disk: the shared one keeps objects in a 512 MiB heap) + dynoxide through ElasticMQ with a
 * time budget of two
 * seconds per invocation, so the copy stops at part boundaries and goes on in follow-up deliveries
 * of the same job (its multipart upload, parts and SHA-256 state kept in the job). And a copy that
 * fails for good aborts its upload. {@code -Dimagemirror.resumeBlob.mib=N} changes the size.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LargeBlobContinuationTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int PART_SIZE = 8 << 20;
    private static final int PARTS_IN_FLIGHT = 3;
    /** As the CopyWorker: parts fetched with parallel ranged GETs (the test's registry honours Range). */
    private static final int PARTS_AT_ONCE = 3;
    private static final long THRESHOLD = 64L << 20;

    @TempDir
    static Path tmp;

    LocalRegistry upstream;
    DiskS3Proxy s3proxy;
    AwsFixture aws;
    AwsWiring wiring;
    CountingUploads uploads;
    ExecutorService partPool;
    ExecutorService fetchPool;
    MirrorJobs jobs;

    @BeforeAll
    void start() {
        upstream = LocalRegistry.start(tmp);
        s3proxy = DiskS3Proxy.start(tmp);
        aws = new AwsFixture("resume", s3proxy.endpoint());
        wiring = aws.wiringWithDockerHubAt(upstream, "\"parallelism\": 2", new UpstreamRequestCounter());
        partPool = Executors.newCachedThreadPool();
        fetchPool = Executors.newCachedThreadPool();
    }

    /** Jobs over the test bed whose resumable copies go through fresh counters. */
    @BeforeEach
    void countUploads() {
        uploads = new CountingUploads((S3BlobStore) wiring.storage().blobs());
        jobs = new MirrorJobs(wiring.mirror(), wiring.upstreams(), wiring.storage().jobs(),
                new SqsJobQueue(aws.sqs, aws.queueUrl), Clock.systemUTC(), 0,
                new ResumableCopies(uploads, THRESHOLD, PART_SIZE, PARTS_IN_FLIGHT, partPool, PARTS_AT_ONCE, fetchPool));
    }

    @AfterAll
    void stop() {
        if (partPool != null) {
            partPool.shutdownNow();
        }
        if (fetchPool != null) {
            fetchPool.shutdownNow();
        }
        if (wiring != null) {
            wiring.close();
        }
        if (aws != null) {
            aws.close();
        }
        if (upstream != null) {
            upstream.close();
        }
        if (s3proxy != null) {
            s3proxy.close();
        }
    }

    @Test
    void aGigabyteLayerCopiesAcrossInvocationsAndIsStoredVerifiedOnce() throws Exception {
        long size = Long.getLong("imagemirror.resumeBlob.mib", 1024) << 20;
        long seed = 16;
        String layer = pushImage("library/huge", "1", seed, size);
        CopyWorkerHandler worker = new CopyWorkerHandler(jobs,
                context -> TimeBudget.of(Duration.ofSeconds(2), Duration.ZERO, Clock.systemUTC()));

        Job job = jobs.submit(MirrorImage.of(MirrorRequest.of(ImageReference.parse("docker.io/library/huge:1"),
                Cause.API)));
        int deliveries = 0;
        while (jobs.get(job.id()).orElseThrow().status() != JobStatus.SUCCEEDED) {
            assertThat(deliveries++).as("deliveries before the job is done").isLessThan(200);
            Message message = aws.receiveOne();
            SQSBatchResponse r = worker.handleRequest(AwsFixture.sqsEvent(message), null);
            assertThat(r.getBatchItemFailures()).as("a continued run is not a failure").isEmpty();
            aws.sqs.deleteMessage(b -> b.queueUrl(aws.queueUrl).receiptHandle(message.receiptHandle()));
        }

        Job done = jobs.get(job.id()).orElseThrow();
        Continuation c = JobJson.continuation(done);
        assertThat(c.count()).as("continuations").isGreaterThanOrEqualTo(2);
        assertThat(c.blobs()).as("nothing left to go on from").isEmpty();
        assertThat(deliveries).isEqualTo(c.count() + 1);
        assertThat(uploads.begun.get()).as("one upload for the whole copy").isEqualTo(1);
        assertThat(uploads.completed.get()).as("completed exactly once").isEqualTo(1);
        assertThat(uploads.maxConcurrent.get()).as("parts upload in parallel, bounded by parts in flight")
                .isBetween(2, PARTS_IN_FLIGHT);
        assertThat(aws.s3.listMultipartUploads(b -> b.bucket(aws.bucket)).uploads()).isEmpty();

        String key = "blobs/sha256/" + layer.substring("sha256:".length());
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        long read = 0;
        try (InputStream in = aws.s3.getObject(b -> b.bucket(aws.bucket).key(key))) {
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) >= 0; ) {
                sha.update(buf, 0, n);
                read += n;
            }
        }
        assertThat(read).isEqualTo(size);
        assertThat("sha256:" + HexFormat.of().formatHex(sha.digest())).isEqualTo(layer);
        assertThat(wiring.storage().tagIndex().getTag("docker.io/library/huge", "1")).isPresent();
        System.out.println("copied " + size + " bytes in " + deliveries + " invocations (" + c.count()
                + " continuations), at most " + uploads.maxConcurrent.get() + " parts uploading at once");
    }

    @Test
    void aCopyThatFailsForGoodAbortsItsUpload() throws Exception {
        long size = 96L << 20;
        String layer = pushImage("library/doomed", "1", 77, size);
        // A spent budget: every run copies one part and stops.
        CopyWorkerHandler worker = new CopyWorkerHandler(jobs,
                context -> TimeBudget.of(Duration.ZERO, Duration.ZERO, Clock.systemUTC()));
        Job job = jobs.submit(MirrorImage.of(MirrorRequest.of(ImageReference.parse("docker.io/library/doomed:1"),
                Cause.API)));
        Message first = aws.receiveOne();
        assertThat(worker.handleRequest(AwsFixture.sqsEvent(first), null).getBatchItemFailures()).isEmpty();
        aws.sqs.deleteMessage(b -> b.queueUrl(aws.queueUrl).receiptHandle(first.receiptHandle()));
        Continuation kept = JobJson.continuation(jobs.get(job.id()).orElseThrow());
        assertThat(kept.blobs()).hasSize(1);
        assertThat(kept.blobs().get(0).offset()).isEqualTo(PART_SIZE);
        assertThat(uploadsOf(layer)).hasSize(1);

        // The layer is deleted upstream before the next invocation: the copy can never finish.
        HttpResponse<String> deleted = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create(upstream.url() + "/v2/library/doomed/blobs/" + layer)).DELETE().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(deleted.statusCode()).as(deleted.body()).isEqualTo(202);

        Message second = aws.receiveOne();
        SQSBatchResponse r = worker.handleRequest(AwsFixture.sqsEvent(second), null);
        assertThat(r.getBatchItemFailures()).hasSize(1);
        aws.sqs.deleteMessage(b -> b.queueUrl(aws.queueUrl).receiptHandle(second.receiptHandle()));
        Job failed = jobs.get(job.id()).orElseThrow();
        assertThat(failed.status()).isEqualTo(JobStatus.FAILED);
        assertThat(failed.error()).contains(layer);
        assertThat(JobJson.continuation(failed).blobs()).as("nothing to go on from").isEmpty();
        assertThat(uploadsOf(layer)).as("the upload is aborted").isEmpty();
        assertThat(aws.keys("blobs/")).doesNotContain("blobs/sha256/" + layer.substring("sha256:".length()));
    }

    private List<MultipartUpload> uploadsOf(String digest) {
        return aws.s3.listMultipartUploads(b -> b.bucket(aws.bucket)).uploads().stream()
                .filter(u -> u.key().endsWith(digest.substring("sha256:".length()))).toList();
    }

    /** Pushes an image whose one layer is {@code size} generated bytes (never in memory); returns the layer digest. */
    private String pushImage(String repo, String tag, long seed, long size) {
        String layer = Content.sha256(Content.randomStream(seed, size));
        upstream.pusher().pushBlob(repo, layer, size, () -> Content.randomStream(seed, size));
        byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\""
                + layer + "\"]}}").getBytes(StandardCharsets.UTF_8);
        String configDigest = upstream.pusher().pushBlob(repo, config);
        ObjectNode manifest = JSON.createObjectNode();
        manifest.put("schemaVersion", 2);
        manifest.put("mediaType", "application/vnd.oci.image.manifest.v1+json");
        manifest.putObject("config").put("mediaType", "application/vnd.oci.image.config.v1+json")
                .put("digest", configDigest).put("size", config.length);
        manifest.putArray("layers").addObject().put("mediaType", "application/vnd.oci.image.layer.v1.tar+gzip")
                .put("digest", layer).put("size", size);
        upstream.pusher().pushManifest(repo, tag, "application/vnd.oci.image.manifest.v1+json",
                manifest.toString().getBytes(StandardCharsets.UTF_8));
        return layer;
    }



    /** The S3 store's uploads, counted: begun, completed, and the most parts sent at once. */
    private static final class CountingUploads implements MultipartUploads {
        final MultipartUploads store;
        final AtomicInteger begun = new AtomicInteger();
        final AtomicInteger completed = new AtomicInteger();
        final AtomicInteger sending = new AtomicInteger();
        final AtomicInteger maxConcurrent = new AtomicInteger();

        CountingUploads(MultipartUploads store) {
            this.store = store;
        }

        @Override
        public long minPartSize() {
            return store.minPartSize();
        }

        @Override
        public int maxParts() {
            return store.maxParts();
        }

        @Override
        public String begin(Digest digest) {
            begun.incrementAndGet();
            return store.begin(digest);
        }

        @Override
        public String uploadPart(Digest digest, String uploadId, int partNumber, byte[] bytes, int length) {
            maxConcurrent.accumulateAndGet(sending.incrementAndGet(), Math::max);
            try {
                return store.uploadPart(digest, uploadId, partNumber, bytes, length);
            } finally {
                sending.decrementAndGet();
            }
        }

        @Override
        public BlobStore.PutResult complete(Digest digest, String uploadId, List<String> etags) {
            BlobStore.PutResult r = store.complete(digest, uploadId, etags);
            if (r == BlobStore.PutResult.STORED) {
                completed.incrementAndGet();
            }
            return r;
        }

        @Override
        public void abort(Digest digest, String uploadId) {
            store.abort(digest, uploadId);
        }
    }
}
