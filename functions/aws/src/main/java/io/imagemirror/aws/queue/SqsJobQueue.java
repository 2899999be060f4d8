package io.imagemirror.aws.queue;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.imagemirror.jobs.JobQueue;
import java.io.IOException;
import java.util.Objects;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * The {@link JobQueue} on AWS: one SQS message {@code {"jobId": "<id>"}} per job; the CopyWorker
 * function consumes them ({@link #jobIdOf} reads one back). Delivery is at least once, which
 * {@link io.imagemirror.jobs.MirrorJobs#run} tolerates. Thread-safe; the client is the caller's.
 */
public final class SqsJobQueue implements JobQueue {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final SqsClient sqs;
    private final String queueUrl;

    public SqsJobQueue(SqsClient sqs, String queueUrl) {
        this.sqs = Objects.requireNonNull(sqs, "sqs");
        this.queueUrl = Objects.requireNonNull(queueUrl, "queueUrl");
    }

    public String queueUrl() {
        return queueUrl;
    }

    @Override
    public void send(String jobId) throws IOException {
        try {
            sqs.sendMessage(b -> b.queueUrl(queueUrl).messageBody(messageBody(jobId)));
        } catch (SdkException e) {
            throw new IOException("cannot queue job " + jobId + " on " + queueUrl + ": " + e.getMessage(), e);
        }
    }

    /** SQS's longest message delay. */
    static final java.time.Duration MAX_DELAY = java.time.Duration.ofMinutes(15);

    /**
     * Sends the job with a message delay, at most SQS's 15 minutes: a job deferred longer (until a
     * quota window resets) is deferred again by the worker that receives it early.
     */
    @Override
    public void sendLater(String jobId, java.time.Duration delay) throws IOException {
        long seconds = Math.max(0, Math.min(MAX_DELAY.toSeconds(), delay.toSeconds() + (delay.toNanosPart() > 0 ? 1 : 0)));
        try {
            sqs.sendMessage(b -> b.queueUrl(queueUrl).messageBody(messageBody(jobId)).delaySeconds((int) seconds));
        } catch (SdkException e) {
            throw new IOException("cannot queue job " + jobId + " on " + queueUrl + ": " + e.getMessage(), e);
        }
    }

    /** The message body for a job. */
    public static String messageBody(String jobId) {
        Objects.requireNonNull(jobId, "jobId");
        return JSON.createObjectNode().put("jobId", jobId).toString();
    }

    /**
     * The job id of a message body.
     *
     * @throws IllegalArgumentException when the body is not {@code {"jobId": "<non-empty string>"}}
     */
    public static String jobIdOf(String body) {
        JsonNode root;
        try {
            root = JSON.readTree(body == null ? "" : body);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("message body is not JSON: " + e.getOriginalMessage());
        }
        JsonNode id = root == null ? null : root.get("jobId");
        if (id == null || !id.isTextual() || id.asText().isBlank()) {
            throw new IllegalArgumentException("message body has no \"jobId\" string");
        }
        return id.asText();
    }
}
