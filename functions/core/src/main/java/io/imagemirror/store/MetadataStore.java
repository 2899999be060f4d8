package io.imagemirror.store;

import io.imagemirror.oci.Digest;
import java.time.Instant;
import java.util.Optional;

/**
 * The index of what is mirrored: manifest records, tags with their history, pins, blob records,
 * jobs and sync rules (DESIGN.md §3, "MetadataIndex"). Repositories are canonical
 * {@code <registry>/<repo>} strings; this port never parses references.
 *
 * <p>Implementations are thread-safe and safe against other processes on the same backend; the
 * conditional operations below are atomic there. Every write is idempotent or reports what it
 * found ({@code false}, {@link TagUpdate#UNCHANGED}), so a retried event changes nothing more
 * (invariant 5). Times written come from the store's clock. Backend failures are
 * {@link StoreException}s; "absent" is an empty {@link Optional} or {@code false}.
 *
 * <p><b>Dangling.</b> A manifest is dangling while no tag of its repository points at it, it is
 * not pinned, and no recorded index of its repository names it as a mirrored child. Deleting a
 * dangling index can make its children dangling in turn, so a prune repeats until nothing is left.
 */
public interface MetadataStore extends AutoCloseable {

    // ---- manifests ----

    /**
     * Records a manifest if it is not recorded yet (create-if-absent). Its mirrored children must
     * already be recorded in the same repository (invariant 2); recording it stops them being
     * dangling. A new record is dangling until a tag or pin names it.
     *
     * @return {@code true} if this call created it, {@code false} if it was there (left unchanged)
     * @throws MissingManifestException if a mirrored child is not recorded
     */
    boolean putManifest(ManifestRecord record);

    Optional<ManifestRecord> getManifest(String repository, Digest digest);

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
     * Deletes a manifest record if it is dangling and became so before {@code danglingBefore};
     * atomically, its mirrored children stop counting it as a parent.
     *
     * @return whether this call deleted it
     */
    boolean deleteManifestIfDangling(String repository, Digest digest, Instant danglingBefore);

    /** Repositories with at least one manifest ever recorded, in lexical order (for {@code _catalog}). */
    Page<String> listRepositories(int limit, String pageToken);

    // ---- tags ----

    Optional<TagRecord> getTag(String repository, String tag);

    /** The tags of a repository in lexical order, as {@code tags/list} returns them. */
    Page<TagRecord> listTags(String repository, int limit, String pageToken);

    /**
     * Compare-and-set: points {@code tag} at {@code digest} if it now points at {@code expected}
     * ({@code null}: if it does not exist), and appends one {@link TagEvent} in the same atomic step.
     *
     * @return {@link TagUpdate#UPDATED}; {@link TagUpdate#UNCHANGED} if the tag already points at
     *     {@code digest}; {@link TagUpdate#CONFLICT} if it points elsewhere than {@code expected}
     * @throws MissingManifestException if {@code digest} is not recorded in the repository (invariant 3)
     */
    TagUpdate setTag(String repository, String tag, Digest expected, Digest digest, String cause);

    /**
     * Deletes {@code tag} if it points at {@code expected}, appending a history event.
     *
     * @return {@link TagUpdate#UNCHANGED} if the tag does not exist, {@link TagUpdate#CONFLICT} if it
     *     points elsewhere
     */
    TagUpdate deleteTag(String repository, String tag, Digest expected, String cause);

    /** The moves of a tag, newest first. Kept after the tag is deleted. */
    Page<TagEvent> tagHistory(String repository, String tag, int limit, String pageToken);

    // ---- pins ----

    /**
     * Pins a recorded manifest (it was mirrored by digest).
     *
     * @return {@code true} if newly pinned, {@code false} if it already was
     * @throws MissingManifestException if the manifest is not recorded
     */
    boolean addPin(String repository, Digest digest);

    /** @return whether a pin was removed */
    boolean removePin(String repository, Digest digest);

    /** The pins of a repository in digest order. */
    Page<Pin> listPins(String repository, int limit, String pageToken);

    // ---- blob records ----

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

    // ---- jobs ----

    /** Stores a new job (create-if-absent by id). */
    boolean createJob(Job job);

    /** The job, unless absent or expired. */
    Optional<Job> getJob(String id);

    /**
     * Replaces a stored, unexpired job with {@code job} (same id) if its status is {@code expectedStatus}
     * ({@code null}: any status).
     *
     * @return whether it was replaced
     */
    boolean updateJob(Job job, JobStatus expectedStatus);

    /** Unexpired jobs, newest created first. */
    Page<Job> listJobs(int limit, String pageToken);

    // ---- sync rules ----

    /** Creates or replaces a rule. */
    void putSyncRule(SyncRule rule);

    Optional<SyncRule> getSyncRule(String name);

    /** Rules in name order. */
    Page<SyncRule> listSyncRules(int limit, String pageToken);

    /** @return whether a rule was deleted */
    boolean deleteSyncRule(String name);

    /** Releases what the store holds (connections); clients passed in are left to their owner. */
    @Override
    default void close() {
    }
}
