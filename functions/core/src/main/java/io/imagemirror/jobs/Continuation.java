package io.imagemirror.jobs;

import io.imagemirror.mirror.PartialBlob;
import java.util.List;

/**
 * Where a job goes on from when one run could not finish it (a Lambda invocation ran out of time,
 * or failed in a way a retry may get past): the partial copies of its large blobs. Kept beside the
 * typed request in the job's payload by {@link JobJson} (property {@value JobJson#CONTINUATION_PROPERTY}),
 * so a continued job is a job of the same kind, with the same request, and this. Immutable.
 *
 * @param count how many runs of the job were continued so far (kept after it succeeded, for reporting)
 * @param blobs the partial copies to go on from (empty once the job is done)
 */
public record Continuation(int count, List<PartialBlob> blobs) {

    /** A job that was never continued. */
    public static final Continuation NONE = new Continuation(0, List.of());

    public Continuation {
        if (count < 0) {
            throw new IllegalArgumentException("negative continuation count");
        }
        blobs = blobs == null ? List.of() : List.copyOf(blobs);
    }

    /** The next run's continuation: one more, going on from {@code partials}. */
    public Continuation next(List<PartialBlob> partials) {
        return new Continuation(count + 1, partials);
    }

    /** The same count, going on from {@code partials} (a retry after a failure, not a continuation). */
    public Continuation retry(List<PartialBlob> partials) {
        return new Continuation(count, partials);
    }
}
