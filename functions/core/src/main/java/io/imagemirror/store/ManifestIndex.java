package io.imagemirror.store;

import io.imagemirror.oci.Digest;
import java.time.Instant;
import java.util.Optional;

/**
 * Manifest records, per repository. Repositories are canonical {@code <registry>/<repo>} strings;
 * this port never parses references.
 *
 * <p><b>References and dangling</b> (the rules every adapter keeps, checked by the contract suite).
 * A manifest is referenced by each tag of its repository that points at it ({@link TagIndex}), by
 * its pin ({@link PinIndex}) and by each recorded index of its repository that names it as a
 * mirrored child. It is <em>dangling</em> while it has no reference; {@code danglingSince} is the
 * time its last reference went (or it was recorded without one). Deleting a dangling index can make
 * its children dangling in turn, so a prune repeats until nothing is left. A manifest's blob
 * references ({@link BlobIndex#referencingManifests}) are written and deleted in the same atomic
 * step as its record.
 *
 * <p>Thread-safe; every write is idempotent or reports what it found, so a retried event changes
 * nothing more (invariant 5). Times written come from the store's clock. Backend failures are
 * {@link StoreException}s; "absent" is an empty {@link Optional} or {@code false}.
 */
public interface ManifestIndex {

    /**
     * Records a manifest if it is not recorded yet (create-if-absent), atomically with its blob
     * references and the parent references of its mirrored children. The children must already be
     * recorded in the same repository (invariant 2). A new record is dangling until a tag or pin
     * names it.
     *
     * @return {@code true} if this call created it, {@code false} if it was there (left unchanged)
     * @throws MissingManifestException if a mirrored child is not recorded
     * @throws SweptBlobException if a blob it lists is being swept or was swept ({@link BlobIndex})
     * @throws StoreException if the record is larger than the backend can write in one step (see
     *     {@code docs/storage.md}: DynamoDB takes at most 99 blobs plus mirrored children)
     */
    boolean putManifest(ManifestRecord record);

    Optional<ManifestRecord> getManifest(String repository, Digest digest);

    /**
     * Marks a child that a recorded index lists as not mirrored (a pull-through prefetching only
     * what is pulled, or a platform filter) as mirrored, now that it is recorded in the repository:
     * atomically, the index record lists it as mirrored and the child counts the index as a parent
     * (so it is kept while the index is, and goes with it). Idempotent.
     *
     * @return whether this call changed it; {@code false} when the index is not recorded, does not
     *     list {@code child}, or lists it as mirrored already
     * @throws MissingManifestException if {@code child} is not recorded in the repository
     */
    boolean markChildMirrored(String repository, Digest index, Digest child);

    /** The manifests of a repository, in digest order. */
    Page<ManifestRecord> listManifests(String repository, int limit, String pageToken);

    /** Notes that a manifest was served: sets {@code lastPulled} to now and counts one pull. */
    boolean recordPull(String repository, Digest digest);

    /**
     * Dangling manifests of all repositories that became dangling before {@code danglingBefore}
     * (the grace period protects a manifest between its recording and its tagging). Oldest first.
     */
    Page<ManifestRecord> listDangling(Instant danglingBefore, int limit, String pageToken);

    /**
     * The manifests of one repository that are dangling now, whatever their age, in digest order
     * (what {@code images -a} shows untagged; {@link #listDangling} is the sweeper's, across
     * repositories and with a grace period). Pages may be short while more follow.
     */
    Page<ManifestRecord> listDanglingIn(String repository, int limit, String pageToken);

    /**
     * Deletes a manifest record if it is dangling and became so before {@code danglingBefore};
     * atomically, its mirrored children stop counting it as a parent, its blob references go and
     * its blobs become sweep candidates ({@link BlobIndex#listBlobCandidates}).
     *
     * @return whether this call deleted it
     */
    boolean deleteManifestIfDangling(String repository, Digest digest, Instant danglingBefore);

    /**
     * What refers to a recorded manifest now (tags, pins, recorded parent indexes): one keyed read.
     * Empty when it is not recorded.
     */
    Optional<ManifestReferences.Counts> referenceCounts(String repository, Digest digest);

    /** Repositories with at least one manifest ever recorded, in lexical order (for {@code _catalog}). */
    Page<String> listRepositories(int limit, String pageToken);
}
