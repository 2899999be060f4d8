package io.imagemirror.store;

import java.time.Instant;
import java.util.Objects;

/**
 * An asynchronous piece of work (a mirror request, a sync run) and what came of it. Stores hide a
 * job once {@code expiresAt} has passed and remove it eventually (DynamoDB TTL, SQLite on write).
 *
 * @param kind what sort of work, e.g. {@code "mirror"}
 * @param request the request as JSON
 * @param progressDone units done so far (bytes, blobs: the kind decides)
 * @param progressTotal units in all, or 0 when not known yet
 * @param result the result as JSON, or {@code null}
 * @param error what went wrong, or {@code null}
 */
public record Job(String id, String kind, JobStatus status, String request, long progressDone, long progressTotal,
                  String result, String error, Instant created, Instant updated, Instant expiresAt) {

    public Job {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(created, "created");
        Objects.requireNonNull(updated, "updated");
        Objects.requireNonNull(expiresAt, "expiresAt");
        if (id.isEmpty() || id.length() > 200) {
            throw new IllegalArgumentException("job id must be 1-200 characters");
        }
        created = Timestamps.truncate(created);
        updated = Timestamps.truncate(updated);
        expiresAt = Timestamps.truncate(expiresAt);
    }

    /** A new queued job. */
    public static Job queued(String id, String kind, String request, Instant now, Instant expiresAt) {
        return new Job(id, kind, JobStatus.QUEUED, request, 0, 0, null, null, now, now, expiresAt);
    }

    public Job withStatus(JobStatus newStatus, Instant now) {
        return new Job(id, kind, newStatus, request, progressDone, progressTotal, result, error, created, now,
                expiresAt);
    }

    /** The same job with another payload (the same kind; e.g. with where a next run goes on from). */
    public Job withRequest(String newRequest, Instant now) {
        return new Job(id, kind, status, newRequest, progressDone, progressTotal, result, error, created, now,
                expiresAt);
    }

    public Job withProgress(long done, long total, Instant now) {
        return new Job(id, kind, status, request, done, total, result, error, created, now, expiresAt);
    }

    public Job succeeded(String resultJson, Instant now) {
        return new Job(id, kind, JobStatus.SUCCEEDED, request, progressDone, progressTotal, resultJson, null,
                created, now, expiresAt);
    }

    public Job failed(String errorMessage, Instant now) {
        return new Job(id, kind, JobStatus.FAILED, request, progressDone, progressTotal, result, errorMessage,
                created, now, expiresAt);
    }
}
