package io.imagemirror.aws.handlers;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import io.imagemirror.aws.AwsWiring;
import io.imagemirror.aws.metrics.EmfMetrics;
import io.imagemirror.aws.queue.SqsJobQueue;
import io.imagemirror.jobs.MirrorJobs;
import io.imagemirror.mirror.TimeBudget;
import io.imagemirror.store.Job;
import io.imagemirror.store.JobStatus;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Runs the jobs the copy queue delivers, one per SQS record, whatever their kind (the dispatch is
 * {@link MirrorJobs#run}'s). Answers with a partial batch response (the event source mapping sets
 * {@code ReportBatchItemFailures}): a record whose job failed, or whose body is not a job message,
 * is listed as a failure so SQS delivers it again and, after the queue's {@code maxReceiveCount},
 * moves it to the dead-letter queue; the job itself is left {@code FAILED} with its reason. A job
 * this release cannot read (unknown kind, malformed payload) is left {@code FAILED} with the reason
 * and acknowledged: every retry would fail the same way. A duplicate delivery of a finished job, or
 * of a job that expired, is acknowledged without copying anything; one that arrives while another
 * worker runs the job copies nothing either, but is listed as a failure so the message survives
 * until that run is over (it returns after the queue's visibility timeout, and is acknowledged then).
 *
 * <p>Each job runs within a {@link TimeBudget}: the invocation's remaining time less
 * {@link #MARGIN}, in which parts in flight finish and the job is saved. A large blob not done by
 * then stops at a part boundary and the job is queued again to go on ({@code CONTINUED}).
 */
public final class CopyWorkerHandler implements RequestStreamHandler {

    /** Time kept back from the invocation's end: parts in flight finish and the job's state is saved. */
    public static final Duration MARGIN = Duration.ofSeconds(60);

    private final MirrorJobs jobs;
    private final Function<Context, TimeBudget> budget;
    private final EmfMetrics metrics;

    /** Production wiring, from the environment (see {@link AwsWiring}), primed before a SnapStart snapshot. */
    public CopyWorkerHandler() {
        this(EventJson.preparedWhile(SnapStartPriming.sqsEvent(), SQSBatchResponse.class, AwsWiring::shared));
    }

    private CopyWorkerHandler(AwsWiring wiring) {
        this(wiring.jobs(), wiring.metrics());
        SnapStartPriming.forCopyWorker(this).register();
        JitLevel.warnInBackground("CopyWorker");
    }

    public CopyWorkerHandler(MirrorJobs jobs) {
        this(jobs, CopyWorkerHandler::remainingTime, null);
    }

    /** @param budget the time a job may take, given the invocation's context (tests give a few seconds) */
    public CopyWorkerHandler(MirrorJobs jobs, Function<Context, TimeBudget> budget) {
        this(jobs, budget, null);
    }

    /** @param metrics flushed after each event (null: not measured) */
    public CopyWorkerHandler(MirrorJobs jobs, EmfMetrics metrics) {
        this(jobs, CopyWorkerHandler::remainingTime, metrics);
    }

    /**
     * @param budget the time a job may take, given the invocation's context (tests give a few seconds)
     * @param metrics flushed after each event (null: not measured)
     */
    public CopyWorkerHandler(MirrorJobs jobs, Function<Context, TimeBudget> budget, EmfMetrics metrics) {
        this.jobs = jobs;
        this.budget = budget;
        this.metrics = metrics;
    }

    /** The invocation's remaining time less {@link #MARGIN}; unlimited without a context (a local call). */
    static TimeBudget remainingTime(Context context) {
        if (context == null) {
            return TimeBudget.UNLIMITED;
        }
        return TimeBudget.of(Duration.ofMillis(context.getRemainingTimeInMillis()), MARGIN, Clock.systemUTC());
    }

    /**
     * The function's entry point, as Lambda calls it: the event JSON in, the answer's JSON out,
     * read and written with {@link EventJson} rather than the runtime's own serialization.
     */
    @Override
    public void handleRequest(InputStream input, OutputStream output, Context context) throws IOException {
        EventJson.write(handleRequest(EventJson.read(input, SQSEvent.class), context), output);
    }

    /** Handles one event (the typed form of the entry point, for tests and local callers). */
    public SQSBatchResponse handleRequest(SQSEvent event, Context context) {
        return Invocations.run(context, metrics, () -> runAll(event, context));
    }

    private SQSBatchResponse runAll(SQSEvent event, Context context) {
        List<SQSBatchResponse.BatchItemFailure> failures = new ArrayList<>();
        List<SQSEvent.SQSMessage> records = event.getRecords() == null ? List.of() : event.getRecords();
        for (SQSEvent.SQSMessage message : records) {
            String jobId;
            try {
                jobId = SqsJobQueue.jobIdOf(message.getBody());
            } catch (IllegalArgumentException e) {
                LambdaLog.line(context, "message " + message.getMessageId() + " is not a job: " + e.getMessage());
                failures.add(new SQSBatchResponse.BatchItemFailure(message.getMessageId()));
                continue;
            }
            try {
                MirrorJobs.Outcome outcome = jobs.run(jobId, budget.apply(context));
                if (outcome == MirrorJobs.Outcome.DUPLICATE && heldByAnotherWorker(jobId)) {
                    // SQS delivered this message twice at once. Acknowledging it would delete the
                    // message, and with it the retry should the other worker fail: look again later.
                    LambdaLog.line(context, "job " + jobId + " is running elsewhere; message "
                            + message.getMessageId() + " comes back after the visibility timeout");
                    failures.add(new SQSBatchResponse.BatchItemFailure(message.getMessageId()));
                    continue;
                }
                if (outcome == MirrorJobs.Outcome.REJECTED) {
                    LambdaLog.line(context, "job " + jobId + " rejected, not retried: "
                            + jobs.get(jobId).map(Job::error).orElse("(expired)"));
                    continue;
                }
                LambdaLog.line(context, "job " + jobId + ": " + outcome);
            } catch (Exception e) {
                // MirrorException (recorded FAILED by run) or anything unexpected: let SQS retry it.
                LambdaLog.line(context, "job " + jobId + " failed (message " + message.getMessageId()
                        + ", receive " + receiveCount(message) + "): " + e.getMessage());
                failures.add(new SQSBatchResponse.BatchItemFailure(message.getMessageId()));
            }
        }
        return new SQSBatchResponse(failures);
    }

    private boolean heldByAnotherWorker(String jobId) {
        return jobs.get(jobId).map(j -> j.status() == JobStatus.RUNNING).orElse(false);
    }

    private static String receiveCount(SQSEvent.SQSMessage message) {
        return message.getAttributes() == null ? "?"
                : message.getAttributes().getOrDefault("ApproximateReceiveCount", "?");
    }
}
