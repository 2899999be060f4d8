package io.imagemirror.sweep;

import io.imagemirror.listing.ImageFilters;
import io.imagemirror.listing.ImageListing;
import io.imagemirror.listing.ImageRow;
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

    /**
     * {@code rm ARG}: {@code ARG} as a reference when it is one that names a recorded image, else as an
     * image ID prefix when it reads as one ({@link #removeById}), else as a reference (not found).
     *
     * @throws io.imagemirror.reference.InvalidReferenceException when it is neither
     */
    public Outcome remove(String written, boolean force, io.imagemirror.cache.NameRouter names, ImageListing listing) {
        ImageReference ref = null;
        try {
            ref = names.resolve(written);
        } catch (io.imagemirror.reference.InvalidReferenceException e) {
            if (!isIdPrefix(written)) {
                throw e;
            }
        }
        if (ref != null && (!isIdPrefix(written) || listing.manifestOf(ref).isPresent())) {
            return remove(ref, force);
        }
        return removeById(written, force, listing);
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

    /** A hex prefix of an image ID ({@code images} shows 12), with or without {@code sha256:}. */
    private static final java.util.regex.Pattern ID_PREFIX = java.util.regex.Pattern.compile(
            "(?:sha256:)?([0-9a-f]{4,64})");

    /**
     * Whether {@code text} can name an image by its ID ({@code images}' IMAGE ID, or a prefix of at
     * least 4 hex digits). Callers try it as a reference first when it is also a valid name.
     */
    public static boolean isIdPrefix(String text) {
        return ID_PREFIX.matcher(text).matches();
    }

    /**
     * {@code rm SHORT-ID}, as {@code docker image rm 3fd9065eaf02}: the manifests whose image ID
     * ({@link ImageListing}: the config digest, or an index's own digest) starts with the prefix.
     * A prefix of two or more image IDs is refused, naming them; one ID recorded as several manifests
     * (several repositories, or several tags) needs {@code force}, which untags and deletes each;
     * an image with at most one tag is untagged and deleted without it. Reads the listing of all
     * images (no index by ID is kept): its cost grows with the store.
     *
     * @throws NotFoundException when no image has such an ID
     */
    public Outcome removeById(String prefix, boolean force, ImageListing listing) {
        java.util.regex.Matcher mt = ID_PREFIX.matcher(prefix);
        if (!mt.matches()) {
            throw new IllegalArgumentException("not an image ID: " + prefix);
        }
        String hex = mt.group(1);
        java.util.Map<Digest, java.util.Set<String>> byId = new java.util.TreeMap<>(
                java.util.Comparator.comparing(Digest::toString));
        java.util.Map<String, ImageRow> manifestsOf = new java.util.LinkedHashMap<>();
        ImageListing.Rows rows = listing.rows(new ImageListing.Query(null, null, true, ImageFilters.none()), null);
        for (ImageRow r = rows.next(); r != null; r = rows.next()) {
            if (r.id().hex().startsWith(hex)) {
                byId.computeIfAbsent(r.id(), d -> new java.util.TreeSet<>()).add(r.familiarReference());
                manifestsOf.putIfAbsent(r.repositoryKey() + "@" + r.digest(), r);
            }
        }
        if (byId.isEmpty()) {
            throw new NotFoundException("No such image: " + prefix);
        }
        if (byId.size() > 1) {
            StringBuilder b = new StringBuilder("ambiguous image ID " + prefix + ": it starts " + byId.size()
                    + " image IDs; give more of it:");
            byId.forEach((id, refs) -> b.append("\n  ").append(id.hex(), 0, 12).append("  ")
                    .append(String.join(", ", refs)));
            throw new RefusedException(b.toString());
        }
        java.util.Set<String> refs = byId.values().iterator().next();
        if (!force && (manifestsOf.size() > 1 || refs.size() > 1)) {
            throw new RefusedException("conflict: unable to delete " + prefix + " (must be forced) - image is "
                    + "referenced as " + String.join(", ", refs));
        }
        List<String> untagged = new ArrayList<>();
        List<String> deleted = new ArrayList<>();
        for (ImageRow r : manifestsOf.values()) {
            Outcome o = remove(ImageReference.of(io.imagemirror.reference.RepositoryName.parse(r.repositoryKey()),
                    null, r.digest()), true);
            untagged.addAll(o.untagged());
            deleted.addAll(o.deleted());
        }
        return new Outcome(untagged, deleted);
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
