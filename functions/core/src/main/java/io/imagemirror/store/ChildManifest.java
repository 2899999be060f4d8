package io.imagemirror.store;

import io.imagemirror.oci.Digest;
import io.imagemirror.oci.Platform;
import java.util.Objects;

/**
 * A manifest an index (or manifest list) names. {@code mirrored} says whether it was copied and
 * recorded in the same repository; a platform filter leaves the others recorded here only.
 *
 * @param platform the descriptor's platform, or {@code null} when it has none
 */
public record ChildManifest(Digest digest, String mediaType, long size, Platform platform, boolean mirrored) {
    public ChildManifest {
        Objects.requireNonNull(digest, "digest");
        Objects.requireNonNull(mediaType, "mediaType");
        if (size < 0) {
            throw new IllegalArgumentException("negative size " + size);
        }
    }
}
