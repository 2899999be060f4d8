package io.imagemirror.mirror;

import io.imagemirror.oci.Platform;
import io.imagemirror.reference.ImageReference;
import io.imagemirror.store.Cause;
import io.imagemirror.upstream.Prefetch;
import java.util.List;
import java.util.Objects;

/**
 * What to mirror: one reference (a tag, or a digest, which pins it), or every tag of its
 * repository, optionally only some platforms of a multi-platform image, optionally with the
 * artifacts that refer to it (signatures, SBOMs, attestations).
 *
 * @param reference the image; normalized on construction
 * @param platforms platforms to copy from an index (empty: all of them)
 * @param allTags every tag of the repository, like {@code docker image pull -a}
 * @param referrers also copy what the OCI referrers API (or the tag schema) attaches to each image
 * @param includeNonDistributable also copy foreign / non-distributable layers (recorded only, otherwise)
 * @param cause what asked for it, kept in the tag history of every tag this request moves
 * @param prefetch of an index, {@link Prefetch#ALL}: copy the children {@code platforms} selects;
 *     {@link Prefetch#PULLED} (a pull through the cache): of those, only the ones already recorded in
 *     the repository (the ones clients pulled), fetching none, and list the others as not stored
 */
public record MirrorRequest(ImageReference reference, List<Platform> platforms, boolean allTags, boolean referrers,
                            boolean includeNonDistributable, Cause cause, Prefetch prefetch) {

    public MirrorRequest {
        Objects.requireNonNull(reference, "reference");
        reference = reference.normalized();
        platforms = platforms == null ? List.of() : List.copyOf(platforms);
        Objects.requireNonNull(cause, "cause");
        prefetch = prefetch == null ? Prefetch.ALL : prefetch;
    }

    /** A request that copies every child {@code platforms} selects ({@link Prefetch#ALL}). */
    public MirrorRequest(ImageReference reference, List<Platform> platforms, boolean allTags, boolean referrers,
                         boolean includeNonDistributable, Cause cause) {
        this(reference, platforms, allTags, referrers, includeNonDistributable, cause, Prefetch.ALL);
    }

    /** Mirror one reference with every platform, on behalf of {@code cause}. */
    public static MirrorRequest of(ImageReference reference, Cause cause) {
        return new MirrorRequest(reference, List.of(), false, false, false, cause);
    }

    public MirrorRequest withPlatforms(List<Platform> p) {
        return new MirrorRequest(reference, p, allTags, referrers, includeNonDistributable, cause, prefetch);
    }

    public MirrorRequest withAllTags(boolean all) {
        return new MirrorRequest(reference, platforms, all, referrers, includeNonDistributable, cause, prefetch);
    }

    public MirrorRequest withReferrers(boolean r) {
        return new MirrorRequest(reference, platforms, allTags, r, includeNonDistributable, cause, prefetch);
    }

    public MirrorRequest withPrefetch(Prefetch p) {
        return new MirrorRequest(reference, platforms, allTags, referrers, includeNonDistributable, cause, p);
    }
}
