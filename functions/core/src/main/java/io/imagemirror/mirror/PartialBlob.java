package io.imagemirror.mirror;

import io.imagemirror.oci.Digest;
import java.util.List;
import java.util.Objects;

/**
 * A blob copy stopped at a part boundary, with all it takes to go on in another process: the store's
 * upload, the entity tags of parts 1..n (all of {@code partSize} bytes, so the next byte to fetch is
 * {@code n * partSize}) and the SHA-256 state after exactly those bytes ({@code oci/Sha256State}).
 * Kept in the job's payload (as JSON; the state base64), which bounds the number of parts (see
 * {@link ResumableCopies}). Immutable.
 *
 * @param digest the blob
 * @param size its size
 * @param uploadId the store's multipart upload
 * @param partSize the size of every part but the last
 * @param etags the entity tags of the completed parts, in order from part 1
 * @param sha256State the hash state after the first {@link #offset()} bytes
 */
public record PartialBlob(Digest digest, long size, String uploadId, long partSize, List<String> etags,
                          byte[] sha256State) {

    public PartialBlob {
        Objects.requireNonNull(digest, "digest");
        Objects.requireNonNull(uploadId, "uploadId");
        Objects.requireNonNull(sha256State, "sha256State");
        etags = List.copyOf(etags);
        if (partSize <= 0 || size <= 0 || (long) etags.size() * partSize > size) {
            throw new IllegalArgumentException("inconsistent partial copy of " + digest + ": " + etags.size()
                    + " parts of " + partSize + " bytes in a blob of " + size);
        }
    }

    /** The bytes done: the offset of the next byte to fetch. */
    public long offset() {
        return etags.size() * partSize;
    }

    @Override
    public String toString() {
        return digest + " at " + offset() + "/" + size + " (upload " + uploadId + ", " + etags.size() + " parts)";
    }
}
