package io.imagemirror.jobs;

import io.imagemirror.mirror.MirrorRequest;
import io.imagemirror.oci.Digest;
import io.imagemirror.oci.Platform;
import io.imagemirror.reference.ImageReference;
import io.imagemirror.store.Cause;
import java.util.List;
import java.util.Objects;

/**
 * Kind {@value #KIND}: copy one tag that a sync rule's planner found at a digest the mirror does not
 * have ({@code sync/SyncPlanner}). The worker mirrors the tag (HEAD first, so a tag that moved again
 * meanwhile is copied where it points then); tag history says {@code sync rule <rule>}. Payload:
 * {@code {"rule": "alpine-3", "image": "docker.io/library/alpine:3.20", "platforms": [],
 * "referrers": false, "seen": "sha256:..."}}.
 *
 * @param rule the rule's name
 * @param image the tag to copy; normalized on construction
 * @param platforms the rule's platforms (empty: all)
 * @param referrers the rule's {@code referrers}
 * @param seen the digest the planner's HEAD saw (what made it a job; shown, not enforced)
 */
public record SyncCopy(String rule, ImageReference image, List<Platform> platforms, boolean referrers, Digest seen)
        implements JobRequest {

    public static final String KIND = "sync";

    public SyncCopy {
        Objects.requireNonNull(rule, "rule");
        Objects.requireNonNull(image, "image");
        if (!Cause.isRuleName(rule)) {
            throw new IllegalArgumentException("invalid sync rule name \"" + rule + "\"");
        }
        image = image.normalized();
        if (image.tag().isEmpty() || image.digest().isPresent()) {
            throw new IllegalArgumentException("a sync copy names a tag, got " + image);
        }
        platforms = platforms == null ? List.of() : List.copyOf(platforms);
    }

    /** Tag history's cause for what this job moves. */
    public Cause cause() {
        return Cause.syncRule(rule);
    }

    /** What the engine is asked to do. */
    public MirrorRequest toMirrorRequest() {
        return new MirrorRequest(image, platforms, false, referrers, false, cause());
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
