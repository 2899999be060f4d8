package io.imagemirror.jobs;

import io.imagemirror.mirror.MirrorRequest;
import io.imagemirror.reference.ImageReference;
import io.imagemirror.store.Cause;
import java.util.List;
import java.util.Objects;

/**
 * Kind {@value #KIND}: record a reference that was pulled through the cache, where the process that
 * served the pull cannot do it in the background (a Lambda freezes once it has answered). Copies
 * what the pull needed and more (every platform, like a mirror), and the tag history says
 * {@code pull-through}. Payload: {@code {"image": "docker.io/library/alpine:3.20"}}.
 *
 * @param image the pulled reference (by tag, or by digest, which pins it); normalized on construction
 */
public record PullThroughRecording(ImageReference image) implements JobRequest {

    public static final String KIND = "pull-through";

    public PullThroughRecording {
        Objects.requireNonNull(image, "image");
        image = image.normalized();
    }

    /** What the engine is asked to do. */
    public MirrorRequest toMirrorRequest() {
        return new MirrorRequest(image, List.of(), false, false, false, Cause.PULL_THROUGH);
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
