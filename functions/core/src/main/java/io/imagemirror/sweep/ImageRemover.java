package io.imagemirror.sweep;

import io.imagemirror.oci.Digest;
import io.imagemirror.reference.ImageReference;
import io.imagemirror.store.ManifestIndex;
import io.imagemirror.store.ManifestRecord;
import io.imagemirror.store.ManifestReferences;
import io.imagemirror.store.Page;
import io.imagemirror.store.PinIndex;
import io.imagemirror.store.Storage;
import io.imagemirror.store.TagIndex;
import io.imagemirror.store.TagRecord;
import io.imagemirror.store.TagUpdate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * {@code image-mirror rm} and {@code DELETE /v1/images/<ref>}, with {@code docker image rm}'s
 * semantics: a tag reference untags (the history keeps the move, cause {@value #CAUSE}); a digest
 * reference deletes the manifest, refused while a tag points at it (unless forced: then it is
 * untagged first) or a recorded index lists it (always: delete the index first). Its blobs become
 * sweep candidates; shared ones stay while any manifest references them.
 */
public final class ImageRemover {
    public static final String CAUSE = io.imagemirror.store.Cause.RM.value();

    /** What one removal did, as docker prints it. */
    public record Outcome(List<String> untagged, List<String> deleted) {
        public Outcome {
            untagged = List.copyOf(untagged);
            deleted = List.copyOf(deleted);
        }
    }

    /** The removal is refused; the message names what keeps the image, as docker names the container. */
    public static final class RefusedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public RefusedException(String message) {
            super(message);
        }
    }

    /** Nothing is recorded under the reference. */
    public static final class NotFoundException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public NotFoundException(String message) {
            super(message);
        }
    }

    private final TagIndex tags;
    private final ManifestIndex manifests;
    private final PinIndex pins;
    private final Clock clock;

    public ImageRemover(Storage storage, Clock clock) {
        this.tags = storage.tagIndex();
        this.manifests = storage.manifestIndex();
        this.pins = storage.pinIndex();
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    public Outcome remove(ImageReference ref, boolean force) {
        String repo = ref.repositoryName().toString();
        if (ref.digest().isEmpty()) {
            String tag = ref.tag().orElseThrow();
            TagRecord t = tags.getTag(repo, tag)
                    .orElseThrow(() -> new NotFoundException("No such image: " + ref.canonical()));
            TagUpdate u = tags.deleteTag(repo, tag, t.digest(), CAUSE);
            if (u == TagUpdate.CONFLICT) {
                throw new RefusedException("tag " + ref.canonical() + " moved while it was being removed; try again");
            }
            return new Outcome(u == TagUpdate.UPDATED ? List.of(repo + ":" + tag) : List.of(), List.of());
        }
        Digest digest = ref.digest().get();
        ManifestReferences.Counts counts = manifests.referenceCounts(repo, digest)
                .orElseThrow(() -> new NotFoundException("No such image: " + repo + "@" + digest));
        if (counts.parents() > 0) {
            throw new RefusedException("conflict: unable to delete " + repo + "@" + digest + " - it is listed by index "
                    + String.join(", ", indexesListing(repo, digest)) + "; remove the index first");
        }
        List<String> tagged = tagsOf(repo, digest, counts.tags());
        if (!tagged.isEmpty() && !force) {
            throw new RefusedException("conflict: unable to delete " + repo + "@" + digest
                    + " (must be forced) - it is tagged as " + String.join(", ", tagged));
        }
        List<String> untagged = new ArrayList<>();
        for (String t : tagged) {
            String tag = t.substring(repo.length() + 1);
            if (tags.deleteTag(repo, tag, digest, CAUSE) == TagUpdate.UPDATED) {
                untagged.add(t);
            }
        }
        pins.removePin(repo, digest);
        // Dangling now: deleted at once (before: any time up to now).
        if (!manifests.deleteManifestIfDangling(repo, digest, clock.instant().plus(Duration.ofDays(1)))) {
            throw new RefusedException("conflict: " + repo + "@" + digest + " was tagged or listed again meanwhile");
        }
        return new Outcome(untagged, List.of(repo + "@" + digest));
    }

    /** The tags of {@code repo} pointing at {@code digest} (one listing of the repository's tags, only when some do). */
    private List<String> tagsOf(String repo, Digest digest, long count) {
        List<String> out = new ArrayList<>();
        if (count == 0) {
            return out;
        }
        String token = null;
        do {
            Page<TagRecord> p = tags.listTags(repo, Page.MAX_LIMIT, token);
            p.items().stream().filter(t -> t.digest().equals(digest)).forEach(t -> out.add(repo + ":" + t.tag()));
            token = p.nextToken();
        } while (token != null);
        return out;
    }

    private List<String> indexesListing(String repo, Digest digest) {
        List<String> out = new ArrayList<>();
        String token = null;
        do {
            Page<ManifestRecord> p = manifests.listManifests(repo, Page.MAX_LIMIT, token);
            p.items().stream().filter(m -> m.mirroredChildDigests().contains(digest))
                    .forEach(m -> out.add(repo + "@" + m.digest()));
            token = p.nextToken();
        } while (token != null);
        return out;
    }
}
