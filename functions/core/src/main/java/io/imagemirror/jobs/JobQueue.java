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
}
