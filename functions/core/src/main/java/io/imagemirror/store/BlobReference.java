package io.imagemirror.store;

import io.imagemirror.oci.Digest;
import java.util.Objects;

/** A recorded manifest that lists a blob: the blob is kept while any of these exists. */
public record BlobReference(Digest blob, String repository, Digest manifest) {
    public BlobReference {
        Objects.requireNonNull(blob, "blob");
        Objects.requireNonNull(repository, "repository");
        Objects.requireNonNull(manifest, "manifest");
    }
}
