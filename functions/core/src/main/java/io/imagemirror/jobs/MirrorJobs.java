package io.imagemirror.jobs;

import io.imagemirror.cache.PullThroughCache;
import io.imagemirror.metrics.Meter;
import io.imagemirror.metrics.Metrics;
import io.imagemirror.mirror.BlobOutcome;
import io.imagemirror.mirror.CopySuspendedException;
import io.imagemirror.mirror.ImageMirror;
import io.imagemirror.mirror.MirrorException;
import io.imagemirror.mirror.MirrorListener;
import io.imagemirror.mirror.PartialBlob;
import io.imagemirror.mirror.ResumableCopies;
import io.imagemirror.mirror.TimeBudget;
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
 *
 * <p>With {@link ResumableCopies} (on Lambda) a run has a {@link TimeBudget}: large blobs copy in
 * parts, and when the budget is spent they stop at a part boundary; the job is then stored again as
 * {@code QUEUED}, same id and kind, its payload carrying a {@link Continuation} (the uploads, their
 * parts and hash states), and sent to the queue once more: the next run goes on from there. A run
 * that fails in a way a retry may get past keeps its partial copies for the retry; one that cannot
 * succeed aborts their uploads.
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
        REJECTED,
        /**
         * A copy (sync or mirror job) while the upstream's quota is below the floor: left queued and
         * sent again for when the quota window resets; pull-through recordings are never deferred.
         */
        DEFERRED,
        /** The time budget ran out: the job is queued again and goes on where this run stopped. */
        CONTINUED
    }

    /** How long a deferred job waits when the upstream stated no quota window. */
    static final Duration DEFER_WITHOUT_WINDOW = Duration.ofMinutes(5);

    private final ImageMirror mirror;
    private final Upstreams upstreams;
    private final JobStore metadata;
    private final JobQueue queue;
    private final Clock clock;
    private final int quotaFloor;
    private final ResumableCopies resumable;
    private final Metrics metrics;

    /** Jobs that never wait for the upstream's quota. */
    public MirrorJobs(ImageMirror mirror, Upstreams upstreams, JobStore jobs, JobQueue queue, Clock clock) {
        this(mirror, upstreams, jobs, queue, clock, 0, null);
    }

    /**
     * @param quotaFloor copies (sync and mirror jobs) are deferred while the upstream's quota, as the
     *     shared ledger ({@link Upstreams#quota()}) knows it, is below this
     */
    public MirrorJobs(ImageMirror mirror, Upstreams upstreams, JobStore jobs, JobQueue queue, Clock clock,
                      int quotaFloor) {
        this(mirror, upstreams, jobs, queue, clock, quotaFloor, null);
    }

    /**
     * @param quotaFloor copies (sync and mirror jobs) are deferred while the upstream's quota, as the
     *     shared ledger ({@link Upstreams#quota()}) knows it, is below this
     * @param resumable how large blobs are copied across runs, or null to copy each in one stream
     */
    public MirrorJobs(ImageMirror mirror, Upstreams upstreams, JobStore jobs, JobQueue queue, Clock clock,
                      int quotaFloor, ResumableCopies resumable) {
        this(mirror, upstreams, jobs, queue, clock, quotaFloor, resumable, Metrics.NONE);
    }

    /** @param metrics times the jobs run, by kind and outcome ({@link Meter#JOBS}) */
    public MirrorJobs(ImageMirror mirror, Upstreams upstreams, JobStore jobs, JobQueue queue, Clock clock,
                      Metrics metrics) {
        this(mirror, upstreams, jobs, queue, clock, 0, null, metrics);
    }

    /**
     * @param quotaFloor copies (sync and mirror jobs) are deferred while the upstream's quota, as the
     *     shared ledger ({@link Upstreams#quota()}) knows it, is below this
     * @param resumable how large blobs are copied across runs, or null to copy each in one stream
     * @param metrics times the jobs run, by kind and outcome ({@link Meter#JOBS})
     */
    public MirrorJobs(ImageMirror mirror, Upstreams upstreams, JobStore jobs, JobQueue queue, Clock clock,
                      int quotaFloor, ResumableCopies resumable, Metrics metrics) {
        this.metrics = metrics;
        this.mirror = mirror;
        this.upstreams = upstreams;
        this.metadata = jobs;
        this.queue = queue;
        this.clock = clock;
        this.quotaFloor = quotaFloor;
        this.resumable = resumable;
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
        return run(jobId, TimeBudget.UNLIMITED, MirrorListener.NONE);
    }

    /**
     * Runs a delivered job, as {@link #run(String)}, telling {@code watcher} its progress as well (a
     * foreground command's display); the job's own progress record is kept either way.
     *
     * @throws MirrorException when the mirror failed (the job is then recorded FAILED)
     */
    public Outcome run(String jobId, MirrorListener watcher) throws MirrorException {
        return run(jobId, TimeBudget.UNLIMITED, watcher);
    }

    /** Runs a delivered job within {@code budget}, as {@link #run(String, TimeBudget, MirrorListener)}. */
    public Outcome run(String jobId, TimeBudget budget) throws MirrorException {
        return run(jobId, budget, MirrorListener.NONE);
    }

    /**
     * Runs a delivered job within {@code budget}: large blobs that are not done when it is spent
     * continue in a next run ({@link Outcome#CONTINUED}); {@code watcher} hears its progress too.
     *
     * @throws MirrorException when the mirror failed (the job is then recorded FAILED), or its
     *     continuation could not be queued (the job is then QUEUED; a redelivery goes on)
     */
    public Outcome run(String jobId, TimeBudget budget, MirrorListener watcher) throws MirrorException {
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
        Continuation continuation;
        try {
            request = JobJson.request(job);
            continuation = JobJson.continuation(job);
        } catch (InvalidJobException e) {
            metadata.updateJob(job.failed(e.getMessage(), now), job.status());
            return Outcome.REJECTED;
        }
        Optional<Duration> wait = quotaWait(request, now);
        if (wait.isPresent()) {
            try {
                queue.sendLater(jobId, wait.get());
            } catch (IOException e) {
                throw new MirrorException("job " + jobId + " waits for the upstream's quota, and queueing it again "
                        + "failed: " + e.getMessage(), null, e);
            }
            return Outcome.DEFERRED;
        }
        Job running = job.withStatus(JobStatus.RUNNING, now);
        if (!metadata.updateJob(running, job.status())) {
            return Outcome.DUPLICATE;
        }
        ProgressRecorder progress = new ProgressRecorder(running, watcher);
        ResumableCopies.Session session = resumable == null ? null : resumable.session(budget, continuation.blobs());
        long start = System.nanoTime();
        try {
            JobResult result = execute(request, progress, session);
            Job done = progress.latest();
            if (session != null) {
                session.abortUnused();
            }
            if (!continuation.blobs().isEmpty()) {
                done = done.withRequest(JobJson.payload(request, continuation.retry(List.of())), clock.instant());
            }
            metadata.updateJob(done.succeeded(JobJson.result(result), clock.instant()), JobStatus.RUNNING);
            metrics.since(Meter.JOBS, start, request.kind(), "succeeded");
            return Outcome.SUCCEEDED;
        } catch (MirrorException e) {
            if (session != null && isSuspension(e)) {
                metrics.since(Meter.JOBS, start, request.kind(), "continued");
                return continueLater(progress.latest(), request, continuation.next(session.partials()));
            }
            metrics.since(Meter.JOBS, start, request.kind(), "failed");
            metadata.updateJob(afterFailure(progress.latest(), request, continuation, session, e)
                    .failed(e.getMessage(), clock.instant()), JobStatus.RUNNING);
            throw e;
        } catch (RuntimeException e) {
            metrics.since(Meter.JOBS, start, request.kind(), "failed");
            metadata.updateJob(afterFailure(progress.latest(), request, continuation, session, e)
                    .failed("internal error: " + e, clock.instant()), JobStatus.RUNNING);
            throw e;
        }
    }

    /**
     * How long a copy must wait for the upstream's quota: until the window resets, when the shared
     * ledger says fewer than the floor remain; empty when it may run now. Pull-through recordings
     * keep priority (their client was served already; the recording needs no more pulls than the
     * client made).
     */
    private Optional<Duration> quotaWait(JobRequest request, Instant now) {
        if (quotaFloor <= 0 || request instanceof PullThroughRecording) {
            return Optional.empty();
        }
        Optional<io.imagemirror.upstream.Upstream> upstream = upstreams.upstream(registryOf(request));
        if (upstream.isEmpty()) {
            return Optional.empty();
        }
        Optional<io.imagemirror.upstream.RateLimit> quota = upstreams.quota().quota(upstream.get().name());
        if (quota.isEmpty() || !quota.get().belowAt(quotaFloor, now)) {
            return Optional.empty();
        }
        Instant reset = quota.get().resetsBy();
        return Optional.of(reset == null ? DEFER_WITHOUT_WINDOW : Duration.between(now, reset));
    }

    /** Stores the job again as QUEUED with where the next run goes on from, and queues it. */
    private Outcome continueLater(Job latest, JobRequest request, Continuation next) throws MirrorException {
        Instant now = clock.instant();
        Job continued = latest.withRequest(JobJson.payload(request, next), now).withStatus(JobStatus.QUEUED, now);
        if (!metadata.updateJob(continued, JobStatus.RUNNING)) {
            // Another worker took the job over (this run outlived its lease): it goes on from its own state.
            return Outcome.DUPLICATE;
        }
        try {
            queue.send(continued.id());
        } catch (IOException e) {
            // The job is stored QUEUED with its continuation: a redelivery of this message goes on from it.
            throw new MirrorException("job " + continued.id() + " could not be queued to continue: " + e.getMessage(),
                    null, e);
        }
        return Outcome.CONTINUED;
    }

    /**
     * The job as a failed run leaves it: with its partial copies when a retry may get past the
     * failure, else with their uploads aborted (the job fails for good).
     */
    private Job afterFailure(Job latest, JobRequest request, Continuation continuation,
                             ResumableCopies.Session session, Exception e) {
        if (session == null) {
            return latest;
        }
        List<PartialBlob> keep;
        if (ResumableCopies.mayPass(e)) {
            keep = session.partials();
        } else {
            session.abandon();
            keep = List.of();
        }
        if (keep.isEmpty() && continuation.blobs().isEmpty()) {
            return latest;
        }
        return latest.withRequest(JobJson.payload(request, continuation.retry(keep)), clock.instant());
    }

    private static boolean isSuspension(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof CopySuspendedException) {
                return true;
            }
        }
        return false;
    }

    /** The dispatch on the kind: what the engine does for each. */
    private JobResult execute(JobRequest request, MirrorListener progress, ResumableCopies.Session session)
            throws MirrorException {
        if (request instanceof MirrorImage m) {
            return MirrorJobResult.of(mirror.mirror(m.toMirrorRequest(), progress, session));
        }
        if (request instanceof PullThroughRecording p) {
            // As PullThroughCache.inBackground does in one process: the pull's mirror, then the
            // manifest the cache stored and served, in case that mirror did not record it.
            return MirrorJobResult.of(PullThroughCache.record(mirror, p.toRecording(), progress, session));
        }
        if (request instanceof SyncCopy c) {
            return MirrorJobResult.of(mirror.mirror(c.toMirrorRequest(), progress, session));
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

    /**
     * Writes bytes done / total into the job every few seconds while blobs copy, and passes every
     * event on to the watcher.
     */
    private final class ProgressRecorder implements MirrorListener {
        private final AtomicLong done = new AtomicLong();
        private final AtomicLong total = new AtomicLong();
        private final MirrorListener watcher;
        private volatile Job latest;
        private volatile Instant lastWrite;

        ProgressRecorder(Job running, MirrorListener watcher) {
            this.latest = running;
            this.watcher = watcher;
            this.lastWrite = clock.instant();
        }

        Job latest() {
            return latest;
        }

        @Override
        public void resolving(String reference) {
            watcher.resolving(reference);
        }

        @Override
        public void upToDate(String reference, Digest digest) {
            watcher.upToDate(reference, digest);
        }

        @Override
        public void manifest(Digest digest, String mediaType, boolean stored) {
            watcher.manifest(digest, mediaType, stored);
        }

        @Override
        public void tagged(String reference, Digest previous, Digest digest) {
            watcher.tagged(reference, previous, digest);
        }

        @Override
        public void blobStarted(Digest digest, long size) {
            watcher.blobStarted(digest, size);
            total.addAndGet(size);
            maybeWrite();
        }

        @Override
        public void blobFinished(BlobOutcome outcome) {
            watcher.blobFinished(outcome);
            if (outcome.status() != BlobOutcome.Status.COPIED) {
                total.addAndGet(outcome.size());
                done.addAndGet(outcome.size());
            }
            maybeWrite();
        }

        @Override
        public void blobProgress(Digest digest, long d, long size) {
            watcher.blobProgress(digest, d, size);
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
