package io.imagemirror.store;

import io.imagemirror.oci.Digest;
import java.util.Objects;
import java.util.Optional;

/**
 * Tags and their history. A tag points at a manifest recorded in the same repository
 * (invariant 3); every move is kept as a {@link TagEvent} with its cause.
 *
 * <p>Adapters implement the reads and one atomic write, {@link #replaceTag}; what a
 * compare-and-set means ({@link TagUpdate}) is decided here, once, by {@link #setTag} and
 * {@link #deleteTag}, which adapters do not override. Thread-safe; conditional writes are atomic
 * across processes sharing the backend.
 */
public interface TagIndex {

    /** How often {@link #setTag}/{@link #deleteTag} re-read a tag that moved between their read and write. */
    int REPLACE_ATTEMPTS = 25;

    /**
     * How stale {@link TagRecord#lastPulled} may be: a pull by tag is written only when the recorded
     * one is older than this, so a busy tag costs one write per interval, not one per pull.
     */
    java.time.Duration PULL_NOTE_INTERVAL = java.time.Duration.ofHours(1);

    Optional<TagRecord> getTag(String repository, String tag);

    /** The tags of a repository in lexical order, as {@code tags/list} returns them. */
    Page<TagRecord> listTags(String repository, int limit, String pageToken);

    /** The moves of a tag, newest first. Kept after the tag is deleted. */
    Page<TagEvent> tagHistory(String repository, String tag, int limit, String pageToken);

    /**
     * Notes that {@code tag} was pulled: sets its {@link TagRecord#lastPulled} to the store's now if the
     * tag exists, changing nothing else (no history event, no reference). Callers decide with
     * {@link TagRecord#pullNoteDue} whether it is worth a write. Moving a tag keeps its last pull.
     *
     * @return whether the tag exists (and was noted)
     */
    boolean recordTagPull(String repository, String tag);

    /**
     * The one atomic tag write: if {@code tag} now points at {@code current} ({@code null}: the tag
     * does not exist), points it at {@code next} ({@code null}: deletes it), appends one
     * {@link TagEvent} ({@code current} to {@code next}, the store's time, {@code cause}) and moves
     * the tag's reference from manifest {@code current} to manifest {@code next} (see
     * {@link ManifestIndex} on dangling) — all in one step, or nothing.
     *
     * @param current differs from {@code next}
     * @return {@code false}, changing nothing, when the tag did not point at {@code current}
     * @throws MissingManifestException if {@code next} is not recorded in the repository
     */
    boolean replaceTag(String repository, String tag, Digest current, Digest next, String cause);

    /**
     * Compare-and-set: points {@code tag} at {@code digest} if it now points at {@code expected}
     * ({@code null}: if it does not exist), with one history event.
     *
     * @return {@link TagUpdate#UPDATED}; {@link TagUpdate#UNCHANGED} if the tag already points at
     *     {@code digest} (a retry: no event); {@link TagUpdate#CONFLICT} if it points elsewhere than
     *     {@code expected}
     * @throws MissingManifestException if {@code digest} is not recorded in the repository (invariant 3)
     */
    default TagUpdate setTag(String repository, String tag, Digest expected, Digest digest, String cause) {
        Objects.requireNonNull(digest, "digest");
        return compareAndReplace(repository, tag, expected, digest, cause);
    }

    /**
     * Deletes {@code tag} if it points at {@code expected}, with one history event.
     *
     * @return {@link TagUpdate#UPDATED}; {@link TagUpdate#UNCHANGED} if the tag does not exist;
     *     {@link TagUpdate#CONFLICT} if it points elsewhere
     */
    default TagUpdate deleteTag(String repository, String tag, Digest expected, String cause) {
        Objects.requireNonNull(expected, "expected");
        return compareAndReplace(repository, tag, expected, null, cause);
    }

    /**
     * Reads the tag, decides, and writes conditionally on what it read; a write that lost a race
     * decides again on the new state (so a concurrent writer's success is seen as a CONFLICT or
     * UNCHANGED, never overwritten).
     */
    private TagUpdate compareAndReplace(String repository, String tag, Digest expected, Digest next, String cause) {
        Objects.requireNonNull(cause, "cause");
        for (int attempt = 0; attempt < REPLACE_ATTEMPTS; attempt++) {
            Digest current = getTag(repository, tag).map(TagRecord::digest).orElse(null);
            if (Objects.equals(current, next)) {
                return TagUpdate.UNCHANGED;
            }
            if (!Objects.equals(current, expected)) {
                return TagUpdate.CONFLICT;
            }
            if (replaceTag(repository, tag, current, next, cause)) {
                return TagUpdate.UPDATED;
            }
        }
        throw new StoreException("tag " + repository + ":" + tag + " kept changing under concurrent writes", null,
                true);
    }
}
