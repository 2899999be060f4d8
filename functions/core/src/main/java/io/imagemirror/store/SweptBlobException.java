package io.imagemirror.store;

import io.imagemirror.oci.Digest;

/**
 * A manifest write listed a blob that a sweep is deleting or has deleted ({@link BlobIndex#beginBlobSweep}):
 * recording the manifest would reference bytes that are, or soon will be, gone (invariant 4). Nothing
 * was written. The caller copies the blob again (after the sweep finished it) and retries.
 */
public final class SweptBlobException extends StoreException {
    private static final long serialVersionUID = 1L;

    private final transient Digest blob;

    public SweptBlobException(Digest blob) {
        super("blob " + blob + " is being swept; copy it again", null, true);
        this.blob = blob;
    }

    public Digest blob() {
        return blob;
    }
}
