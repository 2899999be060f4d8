package io.imagemirror.store;

/** Where a job is in its life. */
public enum JobStatus {
    QUEUED,
    RUNNING,
    SUCCEEDED,
    FAILED
}
