package io.imagemirror.jobs;

/**
 * What a successful job produced, typed per kind ({@link JobRequest#resultType()}); stored as JSON
 * in {@link io.imagemirror.store.Job#result()} by {@link JobJson}.
 */
public sealed interface JobResult permits MirrorJobResult {
}
