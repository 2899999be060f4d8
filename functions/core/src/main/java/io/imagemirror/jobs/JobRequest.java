package io.imagemirror.jobs;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;

/**
 * What a job asks for: one record per kind, each with its own payload and its own {@link JobResult}.
 * The kind name is what {@link io.imagemirror.store.Job#kind()} holds; the payload is stored as
 * JSON in {@link io.imagemirror.store.Job#request()} by {@link JobJson}, which is the only place
 * these types meet JSON. A new kind (a sync rule's copy, a sweep) is a new record here, a name in
 * {@link JsonSubTypes} and a branch in {@link MirrorJobs#run}; a worker of an older release fails
 * a job of a kind it does not know, with that reason, instead of guessing.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, include = JsonTypeInfo.As.PROPERTY, property = JobJson.KIND_PROPERTY)
@JsonSubTypes({
    @JsonSubTypes.Type(value = MirrorImage.class, name = MirrorImage.KIND),
    @JsonSubTypes.Type(value = PullThroughRecording.class, name = PullThroughRecording.KIND),
    @JsonSubTypes.Type(value = SyncCopy.class, name = SyncCopy.KIND)
})
public sealed interface JobRequest permits MirrorImage, PullThroughRecording, SyncCopy {

    /** The kind's name, as {@code Job.kind} stores it. */
    String kind();

    /** The type of what a run of this kind produces. */
    Class<? extends JobResult> resultType();
}
