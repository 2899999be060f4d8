package io.imagemirror.store;

import io.imagemirror.oci.Digest;
import java.util.List;

/**
 * A blob store's uploads in parts that outlive the process that began them (S3 multipart uploads):
 * what lets one copy of a very large blob run across several Lambda invocations. Nothing is visible
 * under the digest before {@link #complete}, and the caller completes only after it verified every
 * byte it uploaded (DESIGN.md §5, invariant 1). An upload that is neither completed nor aborted is
 * left to the backend's own cleanup (a bucket lifecycle rule). Thread-safe: parts of one upload may
 * be sent at once from several threads.
 */
public interface MultipartUploads {

    /** The smallest part a store takes (all but the last part). */
    long minPartSize();

    /** The most parts one upload may have. */
    int maxParts();

    /** Begins an upload for {@code digest}; returns its id. */
    String begin(Digest digest);

    /**
     * Sends one part ({@code partNumber} from 1) and returns its entity tag. Sending the same part
     * again replaces it.
     *
     * @throws UploadGoneException if the upload was aborted (or cleaned up) meanwhile
     */
    String uploadPart(Digest digest, String uploadId, int partNumber, byte[] bytes, int length);

    /**
     * Makes the parts, in order, the object under {@code digest}, unless one is stored already (then
     * the upload is discarded and the outcome is {@link BlobStore.PutResult#ALREADY_EXISTS}).
     *
     * @param etags the entity tag of part 1, 2, ... as {@link #uploadPart} returned them
     * @throws UploadGoneException if the upload was aborted (or cleaned up) meanwhile
     */
    BlobStore.PutResult complete(Digest digest, String uploadId, List<String> etags);

    /** Discards the upload and its parts; an upload already gone is not an error. Never throws. */
    void abort(Digest digest, String uploadId);

    /** An upload that no longer exists: the copy has to begin again. */
    final class UploadGoneException extends StoreException {
        private static final long serialVersionUID = 1L;

        public UploadGoneException(String message, Throwable cause) {
            super(message, cause, false);
        }
    }
}
