package io.imagemirror.mirror;

import io.imagemirror.oci.Digest;
import java.io.IOException;

/**
 * Another instance still fetches this blob after the lease wait, and the caller chose not to fetch
 * it as well ({@link BlobFills#fill(Digest, long, BlobFills.Source, boolean)}): a pull-through on
 * Lambda then sends its client to upstream's own location for the blob.
 */
public final class FetchedElsewhereException extends IOException {
    private final transient Digest digest;

    public FetchedElsewhereException(Digest digest, String holder) {
        super("blob " + digest + " is being fetched by another instance (" + holder + ") beyond the lease wait");
        this.digest = digest;
    }

    public Digest digest() {
        return digest;
    }
}
