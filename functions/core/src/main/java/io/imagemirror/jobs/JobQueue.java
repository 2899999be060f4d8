package io.imagemirror.jobs;

import java.io.IOException;

/**
 * Where submitted jobs go to be run: an in-process executor locally, an SQS queue on AWS. Delivery
 * is at least once; {@link MirrorJobs#run} makes a duplicate delivery harmless.
 */
@FunctionalInterface
public interface JobQueue {
    /** Hands a recorded job to a worker. */
    void send(String jobId) throws IOException;

    /**
     * Hands a recorded job to a worker after {@code delay} (a copy deferred until the upstream's
     * quota window resets). Queues that cannot delay send it now; the worker defers it again if it
     * is still early, so they should delay.
     */
    default void sendLater(String jobId, java.time.Duration delay) throws IOException {
        send(jobId);
    }
}
