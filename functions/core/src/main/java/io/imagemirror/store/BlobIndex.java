package io.imagemirror.store;

import io.imagemirror.oci.Digest;
import java.time.Instant;
import java.util.Optional;

/**
 * Blob records (size, last touched) and who references each blob. "Blob" here is any content
 * addressed by digest that the sweeper may delete: layers and configs, and the raw bytes of
 * manifests, which every manifest record references by its own digest
 * ({@link ManifestRecord#referencedContent}), so they go once no repository records the manifest. The references are written by
 * {@link ManifestIndex#putManifest} and removed by {@link ManifestIndex#deleteManifestIfDangling}
 * in the same atomic step as the manifest record, so they are exact at every moment: a blob is
 * referenced exactly while a recorded manifest lists it. Answering uses the blob's own key, never a
 * scan of the manifests.
 *
 * <p><b>Sweeping</b> (invariant 4; {@code docs/storage.md}). Whatever removes a blob's reference
 * (a manifest delete) or records a blob makes it a <em>candidate</em> ({@link #listBlobCandidates}),
 * in the same atomic step; recording a manifest that lists it drops the mark. So the sweeper finds
 * what may have become unreferenced without a scan. A blob is deleted in three steps, record
 * before bytes: {@link #beginBlobSweep} (conditional on the last touch; from then on
 * {@link #touchBlob} fails and {@link ManifestIndex#putManifest} listing it throws
 * {@link SweptBlobException}), then the sweeper checks it is still unreferenced (else
 * {@link #cancelBlobSweep}), deletes the bytes and calls {@link #finishBlobSweep}, which leaves a
 * tombstone that keeps refusing manifest writes until {@link #createBlobRecord} records the blob
 * anew. A crash between the steps leaves the blob in {@link #listBlobSweeps} for the next sweep.
 *
 * <p>Thread-safe; writes are idempotent. Times come from the store's clock.
 */
public interface BlobIndex {

    /**
     * Records a stored blob with {@code lastTouched} = now if it is not recorded, or only a
     * tombstone of a finished sweep is left (then it is recorded anew). A new record is a sweep
     * candidate until a manifest lists it. A caller that wrote or found the bytes before this
     * call checks they are still there after it returned {@code true}: a sweep may have deleted
     * them in between.
     *
     * @return whether this call recorded it; {@code false} when it is recorded or being swept
     */
    boolean createBlobRecord(Digest digest, long size);

    /** The live record (not one being swept, not a tombstone). */
    Optional<BlobRecord> getBlobRecord(Digest digest);

    /** Sets {@code lastTouched} to now if a live record exists (not being swept). */
    boolean touchBlob(Digest digest);

    /** The recorded manifests that list {@code blob} (as config or layer), by repository then manifest digest. */
    Page<BlobReference> referencingManifests(Digest blob, int limit, String pageToken);

    /** Whether a manifest recorded in {@code repository} lists {@code blob}: one keyed lookup. */
    boolean isReferencedIn(Digest blob, String repository);

    /** Whether any recorded manifest lists {@code blob}: one keyed lookup, strongly consistent. */
    boolean isReferenced(Digest blob);

    /**
     * Sweep candidates marked before {@code before}, oldest first: blobs whose last reference may
     * have gone then, or recorded then without one. A candidate may be referenced again (the
     * sweeper checks); reading the candidates costs what was marked, not the size of the store.
     */
    Page<BlobCandidate> listBlobCandidates(Instant before, int limit, String pageToken);

    /** Drops a candidate's mark if it is still the one made at {@code since} (a newer mark stays). */
    boolean dropBlobCandidate(Digest digest, Instant since);

    /**
     * Begins deleting a blob: a live record last touched strictly before {@code cutoff} becomes
     * "being swept" (its candidate mark goes). Against a concurrent {@link #touchBlob} exactly one of
     * the two succeeds. It does not look at references: the caller checks them after this returned
     * (no manifest listing the blob can be recorded from now on).
     *
     * @return whether this call began the sweep
     */
    boolean beginBlobSweep(Digest digest, Instant cutoff);

    /** Undoes {@link #beginBlobSweep} for a blob found referenced: live again, touched now. */
    boolean cancelBlobSweep(Digest digest);

    /** Blobs being swept whose bytes may still be stored (a sweep crashed or is running), by digest. */
    Page<BlobCandidate> listBlobSweeps(int limit, String pageToken);

    /**
     * Ends a sweep after the bytes were deleted: the record becomes a tombstone (no longer listed
     * anywhere) that {@link #createBlobRecord} replaces.
     *
     * @return whether this call ended it
     */
    boolean finishBlobSweep(Digest digest);

    /**
     * Whether every recorded manifest references its own digest, so that an unreferenced digest's
     * manifest bytes may be deleted. False on a store written by an earlier release until it is
     * migrated (DynamoDB); the sweeper then deletes only blob bytes.
     */
    default boolean manifestReferencesComplete() {
        return true;
    }
}
