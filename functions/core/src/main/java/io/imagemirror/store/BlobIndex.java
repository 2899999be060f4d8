package io.imagemirror.store;

import io.imagemirror.oci.Digest;
import java.time.Instant;
import java.util.Optional;

/**
 * Blob records (size, last touched) and who references each blob. The references are written by
 * {@link ManifestIndex#putManifest} and removed by {@link ManifestIndex#deleteManifestIfDangling}
 * in the same atomic step as the manifest record, so they are exact at every moment: a blob is
 * referenced exactly while a recorded manifest lists it. Answering uses the blob's own key, never a
 * scan of the manifests.
 *
 * <p>Thread-safe; writes are idempotent. Times come from the store's clock.
 */
public interface BlobIndex {

    /** Records a stored blob with {@code lastTouched} = now if it is not recorded (create-if-absent). */
    boolean createBlobRecord(Digest digest, long size);

    Optional<BlobRecord> getBlobRecord(Digest digest);

    /** Sets {@code lastTouched} to now if the record exists (touch-if-exists). */
    boolean touchBlob(Digest digest);

    /**
     * Deletes the blob record if it was last touched strictly before {@code cutoff}. Against a
     * concurrent {@link #touchBlob} exactly one of the two succeeds (invariant 4).
     *
     * @return whether this call deleted it (the caller then deletes the bytes)
     */
    boolean deleteBlobRecordIfNotTouchedSince(Digest digest, Instant cutoff);

    /** The recorded manifests that list {@code blob} (as config or layer), by repository then manifest digest. */
    Page<BlobReference> referencingManifests(Digest blob, int limit, String pageToken);

    /** Whether a manifest recorded in {@code repository} lists {@code blob}: one keyed lookup. */
    boolean isReferencedIn(Digest blob, String repository);

    /** Whether any recorded manifest lists {@code blob}: one keyed lookup. */
    boolean isReferenced(Digest blob);
}
