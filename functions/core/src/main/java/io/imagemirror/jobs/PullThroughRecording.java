package io.imagemirror.jobs;

import io.imagemirror.cache.PullThroughCache;
import io.imagemirror.mirror.MirrorRequest;
import io.imagemirror.oci.Digest;
import io.imagemirror.reference.ImageReference;
import io.imagemirror.reference.RepositoryName;
import io.imagemirror.store.Cause;
import io.imagemirror.upstream.Prefetch;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Kind {@value #KIND}: record what a pull through the cache stored, where the process that served
 * the pull cannot do it in the background (a Lambda freezes once it has answered). The worker does
 * what {@link PullThroughCache#inBackground} does in one process ({@link PullThroughCache#record}):
 * mirrors the pulled reference (by tag, which it tags; by digest, which it pins) with the platforms
 * {@code prefetch} selects, then makes sure the manifest the cache stored and served is recorded in
 * the repository even when the tag has moved on upstream meanwhile, and a pulled child is listed as
 * mirrored by its {@code index}. Tag history says {@code pull-through}. Payload:
 * {@code {"image": "docker.io/library/alpine:3.20", "repository": "docker.io/library/alpine",
 * "stored": "sha256:...", "index": null, "prefetch": "pulled"}}; a payload of an earlier release
 * (without {@code prefetch}) fetches every platform, as it did then.
 *
 * @param image the pulled reference to mirror, or null for a manifest an index names (its index's
 *     recording references it); normalized on construction
 * @param repository the repository the manifest was served for
 * @param stored the manifest the cache stored and served
 * @param index the index that names {@code stored}, or null
 * @param prefetch what of an index is fetched; null (an earlier release's job) is {@link Prefetch#ALL}
 */
public record PullThroughRecording(ImageReference image, RepositoryName repository, Digest stored, Digest index,
                                   Prefetch prefetch) implements JobRequest {

    public static final String KIND = "pull-through";

    public PullThroughRecording {
        Objects.requireNonNull(repository, "repository");
        Objects.requireNonNull(stored, "stored");
        image = image == null ? null : image.normalized();
        prefetch = prefetch == null ? Prefetch.ALL : prefetch;
    }

    /** A job that fetches every platform of an index. */
    public PullThroughRecording(ImageReference image, RepositoryName repository, Digest stored) {
        this(image, repository, stored, null, Prefetch.ALL);
    }

    /** The job for what the cache left to record. */
    public static PullThroughRecording of(PullThroughCache.Recording r) {
        return new PullThroughRecording(r.request() == null ? null : r.request().reference(), r.repository(),
                r.stored(), r.index(), r.prefetch());
    }

    /** What the cache left to record, back from the job. */
    public PullThroughCache.Recording toRecording() {
        return new PullThroughCache.Recording(toMirrorRequest().orElse(null), repository, stored, index, prefetch);
    }

    /** The mirror the pull asks for, if it names a reference of its own. */
    public Optional<MirrorRequest> toMirrorRequest() {
        return Optional.ofNullable(image).map(i -> new MirrorRequest(i, List.of(), false, false, false,
                Cause.PULL_THROUGH, prefetch));
    }

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public Class<MirrorJobResult> resultType() {
        return MirrorJobResult.class;
    }
}
