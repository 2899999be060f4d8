package io.imagemirror.jobs;

import io.imagemirror.metrics.Meter;
import io.imagemirror.metrics.Metrics;
import io.imagemirror.mirror.BlobOutcome;
import io.imagemirror.mirror.ImageMirror;
import io.imagemirror.mirror.MirrorException;
import io.imagemirror.mirror.MirrorListener;
import io.imagemirror.mirror.MirrorResult;
import io.imagemirror.oci.Digest;
import io.imagemirror.oci.ErrorCode;
import io.imagemirror.oci.RegistryException;
import io.imagemirror.store.Job;
import io.imagemirror.store.JobStatus;
import io.imagemirror.store.JobStore;
import io.imagemirror.upstream.Upstreams;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Jobs: {@link #submit} records a typed job ({@link JobRequest}) and queues it; {@link #run} is what
 * a worker does with a delivery, dispatching on the job's kind. Delivery is at least once, so
 * {@code run} claims the job with a conditional update first: a second delivery of a job that is
 * done or being worked on changes nothing (DESIGN.md §5, invariant 5). A failed run leaves the job
 * {@code FAILED} with its reason and throws, so the queue retries it (and, on AWS, dead-letters it
 * after the last try). A job this release cannot read (unknown kind, malformed payload) is failed
 * with its reason and not retried: it would fail the same way every time.
 */
public final class MirrorJobs {

    /** How long job records are kept. */
    public static final Duration RETENTION = Duration.ofDays(7);
    /** A RUNNING job not updated for this long is taken to be abandoned and may be claimed again. */
    public static final Duration LEASE = Duration.ofMinutes(16);
    private static final Duration PROGRESS_EVERY = Duration.ofSeconds(2);

    /** What a delivery came to. */
    public enum Outcome {
        /** This delivery ran the job to success. */
        SUCCEEDED,
        /** The job is done already or another worker holds it: nothing was done. */
        DUPLICATE,
        /** No such job (expired or never recorded): nothing to do. */
        UNKNOWN_JOB,
        /** The job's kind is unknown here or its payload unreadable: recorded FAILED with the reason, not retried. */
        REJECTED
    }

    private final ImageMirror mirror;
    private final Upstreams upstreams;
    private final JobStore metadata;
    private final JobQueue queue;
    private final Clock clock;
    private final Metrics metrics;

    public MirrorJobs(ImageMirror mirror, Upstreams upstreams, JobStore jobs, JobQueue queue, Clock clock) {
        this(mirror, upstreams, jobs, queue, clock, Metrics.NONE);
    }

    /** @param metrics times the jobs run, by kind and outcome ({@link Meter#JOBS}) */
    public MirrorJobs(ImageMirror mirror, Upstreams upstreams, JobStore jobs, JobQueue queue, Clock clock,
                      Metrics metrics) {
        this.metrics = metrics;
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
    public Job submit(JobRequest request) throws IOException {
        String registry = registryOf(request);
        if (!upstreams.isConfigured(registry)) {
            throw RegistryException.refused("registry " + registry + " is not a configured upstream of this mirror",
                    ErrorCode.DENIED);
        }
        Instant now = clock.instant();
        Job job = Job.queued(UUID.randomUUID().toString(), request.kind(), JobJson.payload(request), now,
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
        JobRequest request;
        try {
            request = JobJson.request(job);
        } catch (InvalidJobException e) {
            metadata.updateJob(job.failed(e.getMessage(), now), job.status());
            return Outcome.REJECTED;
        }
        Job running = job.withStatus(JobStatus.RUNNING, now);
        if (!metadata.updateJob(running, job.status())) {
            return Outcome.DUPLICATE;
        }
        ProgressRecorder progress = new ProgressRecorder(running);
        long start = System.nanoTime();
        try {
            JobResult result = execute(request, progress);
            metadata.updateJob(progress.latest().succeeded(JobJson.result(result), clock.instant()), JobStatus.RUNNING);
            metrics.since(Meter.JOBS, start, request.kind(), "succeeded");
            return Outcome.SUCCEEDED;
        } catch (MirrorException e) {
            metrics.since(Meter.JOBS, start, request.kind(), "failed");
            metadata.updateJob(progress.latest().failed(e.getMessage(), clock.instant()), JobStatus.RUNNING);
            throw e;
        } catch (RuntimeException e) {
            metrics.since(Meter.JOBS, start, request.kind(), "failed");
            metadata.updateJob(progress.latest().failed("internal error: " + e, clock.instant()), JobStatus.RUNNING);
            throw e;
        }
    }

    /** The dispatch on the kind: what the engine does for each. */
    private JobResult execute(JobRequest request, MirrorListener progress) throws MirrorException {
        if (request instanceof MirrorImage m) {
            return MirrorJobResult.of(mirror.mirror(m.toMirrorRequest(), progress));
        }
        if (request instanceof PullThroughRecording p) {
            // As PullThroughCache.inBackground does in one process: the pull's mirror, then the
            // manifest the cache stored and served, in case that mirror did not record it.
            MirrorResult result = p.toMirrorRequest().isPresent()
                    ? mirror.mirror(p.toMirrorRequest().get(), progress) : new MirrorResult(List.of(), Duration.ZERO);
            mirror.recordManifest(p.repository(), p.stored());
            return MirrorJobResult.of(result);
        }
        if (request instanceof SyncCopy c) {
            return MirrorJobResult.of(mirror.mirror(c.toMirrorRequest(), progress));
        }
        throw new IllegalStateException("no worker for job kind " + request.kind());
    }

    /** The upstream a job contacts (every kind so far names one repository). */
    private static String registryOf(JobRequest request) {
        if (request instanceof MirrorImage m) {
            return m.image().registry();
        }
        if (request instanceof PullThroughRecording p) {
            return p.repository().registry();
        }
        if (request instanceof SyncCopy c) {
            return c.image().registry();
        }
        throw new IllegalStateException("no worker for job kind " + request.kind());
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
}
