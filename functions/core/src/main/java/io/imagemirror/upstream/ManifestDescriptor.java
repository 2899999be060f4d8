package io.imagemirror.upstream;

import io.imagemirror.oci.Digest;
import java.util.Objects;

/**
 * What a manifest HEAD tells: digest, media type and size. For a tag the digest is the registry's
 * {@code Docker-Content-Digest} claim; a later GET by that digest verifies it.
 *
 * @param size the byte size, or -1 when the registry did not say
 */
public record ManifestDescriptor(Digest digest, String mediaType, long size) {
    public ManifestDescriptor {
        Objects.requireNonNull(digest, "digest");
        Objects.requireNonNull(mediaType, "mediaType");
    }
}
