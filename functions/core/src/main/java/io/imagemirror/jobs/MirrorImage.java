package io.imagemirror.jobs;

import io.imagemirror.mirror.MirrorRequest;
import io.imagemirror.oci.Platform;
import io.imagemirror.reference.ImageReference;
import io.imagemirror.store.Cause;
import java.util.List;
import java.util.Objects;

/**
 * Kind {@value #KIND}: mirror an image because someone asked ({@code POST /v1/mirror}: cause
 * {@code api}; the CLI: {@code cli}). The stored payload, field for field a {@link MirrorRequest}:
 * {@code {"image": "docker.io/library/alpine:3.20", "platforms": ["linux/amd64"], "allTags": false,
 * "referrers": false, "includeNonDistributable": false, "cause": "api"}}.
 *
 * @param image the image; normalized on construction
 * @param platforms platforms to copy from an index (empty: all)
 * @param allTags every tag of the repository
 * @param referrers also what refers to each image
 * @param includeNonDistributable also copy foreign / non-distributable layers
 * @param cause what asked for it; kept in the tag history
 */
public record MirrorImage(ImageReference image, List<Platform> platforms, boolean allTags, boolean referrers,
                          boolean includeNonDistributable, Cause cause) implements JobRequest {

    public static final String KIND = "mirror";

    public MirrorImage {
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(cause, "cause");
        image = image.normalized();
        platforms = platforms == null ? List.of() : List.copyOf(platforms);
    }

    /** The job for a mirror request. */
    public static MirrorImage of(MirrorRequest r) {
        return new MirrorImage(r.reference(), r.platforms(), r.allTags(), r.referrers(), r.includeNonDistributable(),
                r.cause());
    }

    /** What the engine is asked to do. */
    public MirrorRequest toMirrorRequest() {
        return new MirrorRequest(image, platforms, allTags, referrers, includeNonDistributable, cause);
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
