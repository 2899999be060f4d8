package io.imagemirror.jobs;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.imagemirror.mirror.BlobOutcome;
import io.imagemirror.mirror.ImageMirror;
import io.imagemirror.mirror.MirrorException;
import io.imagemirror.mirror.MirrorListener;
import io.imagemirror.mirror.MirrorRequest;
import io.imagemirror.mirror.MirrorResult;
import io.imagemirror.oci.Digest;
import io.imagemirror.oci.ErrorCode;
import io.imagemirror.oci.RegistryException;
import io.imagemirror.upstream.Upstreams;
import io.imagemirror.store.Job;
import io.imagemirror.store.JobStatus;
import io.imagemirror.store.JobStore;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Mirror jobs: {@link #submit} records a job and queues it; {@link #run} is what a worker does
 * with a delivery. Delivery is at least once, so {@code run} claims the job with a conditional
 * update first: a second delivery of a job that is done or being worked on changes nothing
 * (DESIGN.md §5, invariant 5). A failed run leaves the job {@code FAILED} with its reason and
 * throws, so the queue retries it (and, on AWS, dead-letters it after the last try).
 */
public final class MirrorJobs {

    public static final String KIND = "mirror";
    /** How long job records are kept. */
    public static final Duration RETENTION = Duration.ofDays(7);
    /** A RUNNING job not updated for this long is taken to be abandoned and may be claimed again. */
    public static final Duration LEASE = Duration.ofMinutes(16);
    private static final Duration PROGRESS_EVERY = Duration.ofSeconds(2);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What a delivery came to. */
    public enum Outcome {
        /** This delivery ran the job to success. */
        SUCCEEDED,
        /** The job is done already or another worker holds it: nothing was done. */
        DUPLICATE,
        /** No such job (expired or never recorded): nothing to do. */
        UNKNOWN_JOB
    }

    private final ImageMirror mirror;
    private final Upstreams upstreams;
    private final JobStore metadata;
    private final JobQueue queue;
    private final Clock clock;

    public MirrorJobs(ImageMirror mirror, Upstreams upstreams, JobStore jobs, JobQueue queue, Clock clock) {
        this.mirror = mirror;
        this.upstreams = upstreams;
        this.metadata = jobs;
        this.queue = queue;
        this.clock = clock;
    }

    /**
     * Records a queued job for {@code request} and sends it to the queue.
     *
     * @throws RegistryException {@code DENIED} when the image's registry is not a configured upstream
     */
    public Job submit(MirrorRequest request) throws IOException {
        if (!upstreams.isConfigured(request.reference().registry())) {
            throw RegistryException.refused("registry " + request.reference().registry()
                    + " is not a configured upstream of this mirror", ErrorCode.DENIED);
        }
        Instant now = clock.instant();
        Job job = Job.queued(UUID.randomUUID().toString(), KIND, MirrorJobRequest.toJson(request), now,
                now.plus(RETENTION));
        metadata.createJob(job);
        queue.send(job.id());
        return job;
    }

    public Optional<Job> get(String id) {
        return metadata.getJob(id);
    }

    /**
     * Runs a delivered job.
     *
     * @throws MirrorException when the mirror failed (the job is then recorded FAILED)
     */
    public Outcome run(String jobId) throws MirrorException {
        Optional<Job> found = metadata.getJob(jobId);
        if (found.isEmpty()) {
            return Outcome.UNKNOWN_JOB;
        }
        Job job = found.get();
        Instant now = clock.instant();
        if (job.status() == JobStatus.SUCCEEDED) {
            return Outcome.DUPLICATE;
        }
        if (job.status() == JobStatus.RUNNING && job.updated().isAfter(now.minus(LEASE))) {
            return Outcome.DUPLICATE;
        }
        Job running = job.withStatus(JobStatus.RUNNING, now);
        if (!metadata.updateJob(running, job.status())) {
            return Outcome.DUPLICATE;
        }
        MirrorRequest request = MirrorJobRequest.parse(job.request());
        ProgressRecorder progress = new ProgressRecorder(running);
        try {
            MirrorResult result = mirror.mirror(request, progress);
            metadata.updateJob(progress.latest().succeeded(resultJson(result), clock.instant()), JobStatus.RUNNING);
            return Outcome.SUCCEEDED;
        } catch (MirrorException e) {
            metadata.updateJob(progress.latest().failed(e.getMessage(), clock.instant()), JobStatus.RUNNING);
            throw e;
        } catch (RuntimeException e) {
            metadata.updateJob(progress.latest().failed("internal error: " + e, clock.instant()), JobStatus.RUNNING);
            throw e;
        }
    }

    /** Writes bytes done / total into the job every few seconds while blobs copy. */
    private final class ProgressRecorder implements MirrorListener {
        private final AtomicLong done = new AtomicLong();
        private final AtomicLong total = new AtomicLong();
        private volatile Job latest;
        private volatile Instant lastWrite;

        ProgressRecorder(Job running) {
            this.latest = running;
            this.lastWrite = clock.instant();
        }

        Job latest() {
            return latest;
        }

        @Override
        public void blobStarted(Digest digest, long size) {
            total.addAndGet(size);
            maybeWrite();
        }

        @Override
        public void blobFinished(BlobOutcome outcome) {
            if (outcome.status() != BlobOutcome.Status.COPIED) {
                total.addAndGet(outcome.size());
                done.addAndGet(outcome.size());
            }
            maybeWrite();
        }

        @Override
        public void blobProgress(Digest digest, long d, long size) {
            if (d == size) {
                done.addAndGet(size);
            }
            maybeWrite();
        }

        private void maybeWrite() {
            Instant now = clock.instant();
            if (Duration.between(lastWrite, now).compareTo(PROGRESS_EVERY) < 0) {
                return;
            }
            synchronized (this) {
                lastWrite = now;
                Job next = latest.withProgress(done.get(), total.get(), now);
                if (metadata.updateJob(next, JobStatus.RUNNING)) {
                    latest = next;
                }
            }
        }
    }

    /** The result of a run as JSON: what a job's {@code result} holds and the CLI can print. */
    public static String resultJson(MirrorResult r) {
        ObjectNode o = JSON.createObjectNode();
        ArrayNode images = o.putArray("images");
        for (MirrorResult.Image i : r.images()) {
            ObjectNode n = images.addObject();
            n.put("reference", i.reference());
            n.put("digest", i.digest().toString());
            n.put("mediaType", i.mediaType());
            n.put("upToDate", i.upToDate());
            n.put("previousDigest", i.previousDigest() == null ? null : i.previousDigest().toString());
            ArrayNode ms = n.putArray("manifests");
            i.manifests().forEach(d -> ms.add(d.toString()));
            ArrayNode bs = n.putArray("blobs");
            for (BlobOutcome b : i.blobs()) {
                ObjectNode bn = bs.addObject();
                bn.put("digest", b.digest().toString());
                bn.put("size", b.size());
                bn.put("status", b.status().name());
                bn.put("bytesCopied", b.bytesCopied());
            }
            n.put("bytesCopied", i.bytesCopied());
            n.put("bytesReused", i.bytesReused());
        }
        o.put("bytesCopied", r.bytesCopied());
        o.put("bytesReused", r.bytesReused());
        o.put("durationMs", r.duration().toMillis());
        return o.toString();
    }
}
