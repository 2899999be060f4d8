package io.imagemirror.store;

import io.imagemirror.oci.Digest;
import java.util.Objects;

/** A blob (config or layer) a manifest references, with its declared size. */
public record BlobRef(Digest digest, long size) {
    public BlobRef {
        Objects.requireNonNull(digest, "digest");
        if (size < 0) {
            throw new IllegalArgumentException("negative size " + size);
        }
    }
}
