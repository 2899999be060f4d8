package io.imagemirror.store;

import java.util.Optional;

/**
 * Persisted {@link Job}s. A job is hidden once its {@code expiresAt} has passed and removed
 * eventually (DynamoDB TTL, SQLite on write). Thread-safe; the conditional update is atomic.
 */
public interface JobStore {

    /** Stores a new job (create-if-absent by id; an expired job of that id may be replaced). */
    boolean createJob(Job job);

    /** The job, unless absent or expired. */
    Optional<Job> getJob(String id);

    /**
     * Replaces a stored, unexpired job with {@code job} (same id) if its status is {@code expectedStatus}
     * ({@code null}: any status).
     *
     * @return whether it was replaced
     */
    boolean updateJob(Job job, JobStatus expectedStatus);

    /** Unexpired jobs, newest created first. */
    Page<Job> listJobs(int limit, String pageToken);
}
