package io.imagemirror.sweep;

import io.imagemirror.oci.Digest;
import io.imagemirror.store.BlobCandidate;
import io.imagemirror.store.BlobIndex;
import io.imagemirror.store.BlobReference;
import io.imagemirror.store.BlobStore;
import io.imagemirror.store.ManifestIndex;
import io.imagemirror.store.ManifestRecord;
import io.imagemirror.store.ManifestReferences;
import io.imagemirror.store.Page;
import io.imagemirror.store.Storage;
import io.imagemirror.store.TagIndex;
import io.imagemirror.store.TagRecord;
import io.imagemirror.store.TagUpdate;
import io.imagemirror.store.Cause;
import java.util.HashMap;
import java.util.Map;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Deletes what nothing keeps any more (DESIGN.md §2, invariant 4), online, while mirrors and
 * pull-through fills run. A sweep has three phases, each read page by page through the index's
 * sparse lists, so its cost grows with what became unreferenced, never with the store:
 * <ol>
 *   <li>{@link Phase#RETENTION} (only with retention policies, or {@code prune --all}): the tags
 *       {@link Retention} selects in the repositories its policies cover are untagged (history kept);
 *       their manifests dangle from now on. Its cost grows with the covered repositories' tags.</li>
 *   <li>{@link Phase#UNFINISHED}: blobs an earlier sweep began deleting and did not finish (it
 *       crashed): checked and finished.</li>
 *   <li>{@link Phase#MANIFESTS}: dangling manifests older than the grace period, each deleted
 *       conditionally; an index's mirrored children go with it unless something else keeps them.</li>
 *   <li>{@link Phase#BLOBS}: sweep candidates (blobs whose last reference went, or recorded without
 *       one) not touched within the grace period: record first ({@link BlobIndex#beginBlobSweep}),
 *       references checked again, bytes deleted, then the sweep finished. A manifest's raw bytes are
 *       such a blob: every record references its own digest, so they go with the last record of any
 *       repository that names them.</li>
 * </ol>
 * Every delete is conditional and idempotent; a sweep killed anywhere leaves either records that
 * still read as before, or a blob "being swept" that the next sweep finishes. {@link #step} runs
 * one page and returns a {@link Checkpoint}, so a sweep of any size completes across invocations
 * (the AWS function); {@link #run} loops it. A dry run walks the same pages and decisions against an
 * overlay of what would be deleted, changing nothing, so it reports the set a real sweep deletes.
 */
public final class Sweeper {

    /** The default grace period: manifests dangling and blobs untouched for less are kept. */
    public static final Duration DEFAULT_GRACE = Duration.ofHours(24);
    /** Items read per page. */
    public static final int DEFAULT_PAGE_SIZE = 100;

    /** The phases of a sweep, in order. */
    public enum Phase {
        RETENTION, UNFINISHED, MANIFESTS, BLOBS, DONE
    }

    /** What a sweep deletes, as it deletes it. */
    public interface Listener {
        Listener NONE = new Listener() {
        };

        default void manifestDeleted(String repository, Digest digest, long size) {
        }

        /** Retention (or {@code prune --all}) untagged {@code repository:tag}, which pointed at {@code digest}. */
        default void tagUntagged(String repository, String tag, Digest digest) {
        }

        default void blobDeleted(Digest digest, long size) {
        }

        /** A blob's record now reads "being swept"; its bytes go next (a crash here is finished by the next sweep). */
        default void blobSweepBegun(Digest digest) {
        }
    }

    /**
     * Where a sweep is: a value the AWS function stores between invocations.
     *
     * @param cutoff dangling before / last touched before this is taken (start minus grace)
     * @param pageToken the token of the next page of {@code phase}, or {@code null} for its first
     */
    public record Checkpoint(Instant startedAt, Instant cutoff, Phase phase, String pageToken, long manifestsDeleted,
                             long blobsDeleted, long bytesReclaimed, int pages) {
        public Checkpoint {
            Objects.requireNonNull(startedAt, "startedAt");
            Objects.requireNonNull(cutoff, "cutoff");
            Objects.requireNonNull(phase, "phase");
        }

        public boolean done() {
            return phase == Phase.DONE;
        }

        Checkpoint next(Phase p, String token, long m, long b, long bytes) {
            return new Checkpoint(startedAt, cutoff, token == null ? p : phase, token,
                    manifestsDeleted + m, blobsDeleted + b, bytesReclaimed + bytes, pages + 1);
        }
    }

    private final TagIndex tags;
    private final ManifestIndex manifests;
    private final BlobIndex blobIndex;
    private final BlobStore blobs;
    /** Raw manifest bytes by digest: swept with the blobs, under the same record-before-bytes protocol. */
    private final BlobStore manifestBytes;
    private final Clock clock;
    private final Retention retention;
    /** Once the index says every record references its own digest (it never goes back), asked no more. */
    private volatile boolean manifestBytesSweepable;
    /** Untags and deletes records only; blob and manifest bytes are left to a full sweep. */
    private final boolean recordsOnly;

    /** A sweeper without retention: it deletes what already dangles. */
    public Sweeper(Storage storage, Clock clock) {
        this(storage, clock, Retention.NONE);
    }

    /** A sweeper whose sweeps begin with a {@link Phase#RETENTION retention} phase when {@code retention} is active. */
    public Sweeper(Storage storage, Clock clock, Retention retention) {
        this(storage.tagIndex(), storage.manifestIndex(), storage.blobIndex(), storage.blobs(), storage.manifests(),
                clock, retention, false);
    }

    private Sweeper(TagIndex tags, ManifestIndex manifests, BlobIndex blobIndex, BlobStore blobs,
                    BlobStore manifestBytes, Clock clock, Retention retention, boolean recordsOnly) {
        this.tags = Objects.requireNonNull(tags, "tags");
        this.manifests = Objects.requireNonNull(manifests, "manifests");
        this.blobIndex = Objects.requireNonNull(blobIndex, "blobIndex");
        this.blobs = Objects.requireNonNull(blobs, "blobs");
        this.manifestBytes = Objects.requireNonNull(manifestBytes, "manifestBytes");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.retention = Objects.requireNonNull(retention, "retention");
        this.recordsOnly = recordsOnly;
    }

    /** The same sweeper with another retention (e.g. {@code prune --all}'s). */
    public Sweeper withRetention(Retention r) {
        return new Sweeper(tags, manifests, blobIndex, blobs, manifestBytes, clock, r, recordsOnly);
    }

    /**
     * The same sweeper deleting index records only: retention and the dangling manifests (their blobs
     * become sweep candidates as always), no blob phases, so it never deletes stored bytes. What the AWS
     * MirrorApi function runs for {@code POST /v1/prune}: only the Sweeper function may delete objects,
     * and its next run takes the candidates this left (least privilege; {@code docs/deploy.md}).
     */
    public Sweeper recordsOnly() {
        return new Sweeper(tags, manifests, blobIndex, blobs, manifestBytes, clock, retention, true);
    }

    /** Whether this sweeper leaves every byte deletion to a full sweep ({@link #recordsOnly()}). */
    public boolean deletesRecordsOnly() {
        return recordsOnly;
    }

    /** A new sweep starting now. */
    public Checkpoint start(Duration grace) {
        if (grace.isNegative()) {
            throw new IllegalArgumentException("the grace period cannot be negative: " + grace);
        }
        Instant now = clock.instant();
        Phase first = retention.active() ? Phase.RETENTION : recordsOnly ? Phase.MANIFESTS : Phase.UNFINISHED;
        return new Checkpoint(now, now.minus(grace), first, null, 0, 0, 0, 0);
    }

    /** Runs a whole sweep (or a dry run) in this thread. */
    public SweepReport run(Duration grace, boolean dryRun, int pageSize, Listener listener) {
        return run(grace, dryRun, pageSize, m -> true, listener);
    }

    /**
     * Runs a whole sweep (or a dry run) in this thread, deleting only the dangling manifests
     * {@code filter} selects (with their index children); unreferenced blobs go whatever it says.
     */
    public SweepReport run(Duration grace, boolean dryRun, int pageSize, Predicate<ManifestRecord> filter,
                           Listener listener) {
        Checkpoint c = start(grace);
        Overlay overlay = dryRun ? new Overlay() : null;
        while (!c.done()) {
            c = step(c, pageSize, listener, overlay, filter);
        }
        return SweepReport.of(c, clock.instant(), dryRun);
    }

    /** The report of a finished sweep ({@link Checkpoint#done()}), finished now. */
    public SweepReport report(Checkpoint c) {
        return SweepReport.of(c, clock.instant(), false);
    }

    /** Runs one page of a real sweep and says where the next one starts. */
    public Checkpoint step(Checkpoint c, int pageSize, Listener listener) {
        return step(c, pageSize, listener, null, m -> true);
    }

    private Checkpoint step(Checkpoint c, int pageSize, Listener listener, Overlay dry,
                            Predicate<ManifestRecord> filter) {
        Counter n = new Counter();
        Listener counting = new Listener() {
            @Override
            public void manifestDeleted(String repository, Digest digest, long size) {
                n.manifests++;
                listener.manifestDeleted(repository, digest, size);
            }

            @Override
            public void blobDeleted(Digest digest, long size) {
                n.blobs++;
                n.bytes += size;
                listener.blobDeleted(digest, size);
            }

            @Override
            public void blobSweepBegun(Digest digest) {
                listener.blobSweepBegun(digest);
            }

            @Override
            public void tagUntagged(String repository, String tag, Digest digest) {
                listener.tagUntagged(repository, tag, digest);
            }
        };
        return switch (c.phase()) {
            case RETENTION -> {
                Page<String> p = manifests.listRepositories(pageSize, c.pageToken());
                List<io.imagemirror.sync.Rule> rules = retention.currentRules();
                for (String repository : p.items()) {
                    applyRetention(repository, rules, c.startedAt(), counting, dry);
                }
                yield advance(c, recordsOnly ? Phase.MANIFESTS : Phase.UNFINISHED, p.nextToken(), n);
            }
            case UNFINISHED -> {
                Page<BlobCandidate> p = blobIndex.listBlobSweeps(pageSize, c.pageToken());
                for (BlobCandidate b : p.items()) {
                    finishBlob(b.digest(), b.size(), counting, dry);
                }
                yield advance(c, Phase.MANIFESTS, p.nextToken(), n);
            }
            case MANIFESTS -> {
                Page<ManifestRecord> p = manifests.listDangling(c.cutoff(), pageSize, c.pageToken());
                for (ManifestRecord m : p.items()) {
                    if (filter.test(m)) {
                        deleteManifest(m, c.cutoff(), counting, dry);
                    }
                }
                yield advance(c, recordsOnly ? Phase.DONE : Phase.BLOBS, p.nextToken(), n);
            }
            case BLOBS -> {
                // Candidates marked up to now, including this sweep's own manifest deletes; the grace
                // period applies to the blob's last touch (beginBlobSweep's condition).
                Page<BlobCandidate> p = blobIndex.listBlobCandidates(clock.instant().plusSeconds(1), pageSize,
                        c.pageToken());
                for (BlobCandidate b : p.items()) {
                    sweepCandidate(b, c.cutoff(), counting, dry);
                }
                if (p.nextToken() == null && dry != null) {
                    // A dry run made no candidate marks: the blobs of what it would delete are candidates too.
                    for (Digest b : List.copyOf(dry.marked)) {
                        sweepCandidate(new BlobCandidate(b, 0, c.startedAt()), c.cutoff(), counting, dry);
                    }
                }
                yield advance(c, Phase.DONE, p.nextToken(), n);
            }
            case DONE -> c;
        };
    }

    private static Checkpoint advance(Checkpoint c, Phase next, String token, Counter n) {
        return c.next(next, token, n.manifests, n.blobs, n.bytes);
    }

    private static final class Counter {
        long manifests;
        long blobs;
        long bytes;
    }

    /** What a dry run would have deleted so far; the checks consult it instead of the store changing. */
    private static final class Overlay {
        final Set<String> manifests = new HashSet<>();
        /** Tags it would have untagged, per manifest key. */
        final Map<String, Integer> untagged = new HashMap<>();
        final Set<Digest> blobs = new HashSet<>();
        /** Blobs of manifests it would delete, in order: the candidates a real run would have marked. */
        final Set<Digest> marked = new LinkedHashSet<>();

        static String key(String repository, Digest digest) {
            return repository + "@" + digest;
        }
    }

    // ---- retention ----

    private void applyRetention(String repository, List<io.imagemirror.sync.Rule> rules, Instant now,
                                Listener listener, Overlay dry) {
        for (TagRecord t : retention.select(repository, tags, manifests, rules, now)) {
            boolean untagged;
            if (dry == null) {
                // A tag moved meanwhile was just set: it is in use, so a conflict leaves it.
                untagged = tags.deleteTag(repository, t.tag(), t.digest(), Cause.RETENTION.value())
                        == TagUpdate.UPDATED;
            } else {
                dry.untagged.merge(Overlay.key(repository, t.digest()), 1, Integer::sum);
                untagged = true;
            }
            if (!untagged) {
                continue;
            }
            listener.tagUntagged(repository, t.tag(), t.digest());
            if (retention.immediate()) {
                manifests.getManifest(repository, t.digest()).ifPresent(m -> deleteManifest(m, null, listener, dry));
            }
        }
    }

    // ---- manifests ----

    private void deleteManifest(ManifestRecord m, Instant cutoff, Listener listener, Overlay dry) {
        Deque<ManifestRecord> work = new ArrayDeque<>();
        if (deleteOne(m, cutoff, listener, dry)) {
            work.add(m);
        }
        while (!work.isEmpty()) {
            ManifestRecord index = work.poll();
            for (Digest child : index.mirroredChildDigests()) {
                // It became dangling just now, with its index: it goes unless something else keeps it.
                ManifestRecord c = manifests.getManifest(index.repository(), child).orElse(null);
                if (c != null && deleteOne(c, null, listener, dry)) {
                    work.add(c);
                }
            }
        }
    }

    /** Deletes one manifest if dangling (before {@code cutoff}; {@code null}: at all). */
    private boolean deleteOne(ManifestRecord m, Instant cutoff, Listener listener, Overlay dry) {
        boolean deleted;
        if (dry == null) {
            Instant before = cutoff != null ? cutoff : clock.instant().plus(Duration.ofDays(1));
            deleted = manifests.deleteManifestIfDangling(m.repository(), m.digest(), before);
        } else {
            deleted = !dry.manifests.contains(Overlay.key(m.repository(), m.digest())) && wouldDangle(m, cutoff, dry);
            if (deleted) {
                dry.manifests.add(Overlay.key(m.repository(), m.digest()));
                dry.marked.addAll(m.referencedContent());
            }
        }
        if (deleted) {
            listener.manifestDeleted(m.repository(), m.digest(), m.size());
        }
        return deleted;
    }

    /** Whether {@code m} is dangling once the overlay's manifests are gone (a dry run's view). */
    private boolean wouldDangle(ManifestRecord m, Instant cutoff, Overlay dry) {
        if (cutoff != null) {
            return true; // listed by listDangling(cutoff): dangling before the cutoff
        }
        ManifestReferences.Counts counts = manifests.referenceCounts(m.repository(), m.digest()).orElse(null);
        if (counts == null || counts.tags() - dry.untagged.getOrDefault(Overlay.key(m.repository(), m.digest()), 0) > 0
                || counts.pins() > 0) {
            return false;
        }
        // Its parents are recorded indexes of its repository; it dangles once all of them would be gone.
        long goneParents = dry.manifests.stream().filter(k -> k.startsWith(m.repository() + "@"))
                .map(k -> manifests.getManifest(m.repository(), io.imagemirror.oci.Digest.parse(
                        k.substring(m.repository().length() + 1))).orElse(null))
                .filter(p -> p != null && p.mirroredChildDigests().contains(m.digest())).count();
        return counts.parents() == goneParents;
    }

    // ---- blobs ----

    private boolean referenced(Digest blob, Overlay dry) {
        if (dry == null) {
            return blobIndex.isReferenced(blob);
        }
        String token = null;
        do {
            Page<BlobReference> p = blobIndex.referencingManifests(blob, Page.MAX_LIMIT, token);
            for (BlobReference r : p.items()) {
                if (!dry.manifests.contains(Overlay.key(r.repository(), r.manifest()))) {
                    return true;
                }
            }
            token = p.nextToken();
        } while (token != null);
        return false;
    }

    private void sweepCandidate(BlobCandidate b, Instant cutoff, Listener listener, Overlay dry) {
        Digest d = b.digest();
        if (dry != null && dry.blobs.contains(d)) {
            return;
        }
        if (referenced(d, dry)) {
            if (dry == null) {
                blobIndex.dropBlobCandidate(d, b.since()); // a later lower marks it again
            }
            return;
        }
        var record = blobIndex.getBlobRecord(d).orElse(null);
        if (record == null) {
            // Not live: being swept (the UNFINISHED phase's work) or not recorded; nothing to do here.
            if (dry == null) {
                blobIndex.dropBlobCandidate(d, b.since());
            }
            return;
        }
        if (!record.lastTouched().isBefore(cutoff)) {
            return; // touched within the grace period: a later sweep looks again
        }
        if (dry != null) {
            dry.blobs.add(d);
            listener.blobDeleted(d, record.size());
            return;
        }
        if (blobIndex.beginBlobSweep(d, cutoff)) {
            listener.blobSweepBegun(d);
            finishBlob(d, record.size(), listener, null);
        }
    }

    /**
     * The blob is being swept: no manifest listing it can be recorded any more, so one check of its
     * references is final. Referenced (recorded before the sweep began): kept. Else bytes, then record.
     */
    private void finishBlob(Digest d, long size, Listener listener, Overlay dry) {
        if (dry != null) {
            if (dry.blobs.add(d) && !referenced(d, dry)) {
                listener.blobDeleted(d, size);
            }
            return;
        }
        if (blobIndex.isReferenced(d)) {
            blobIndex.cancelBlobSweep(d);
            return;
        }
        blobs.delete(d);
        if (manifestBytesSweepable || (manifestBytesSweepable = blobIndex.manifestReferencesComplete())) {
            // The digest may name manifest bytes (every record references its own digest): no record
            // of any repository names it now, and none can be written until the sweep ends.
            manifestBytes.delete(d);
        }
        if (blobIndex.finishBlobSweep(d)) {
            listener.blobDeleted(d, size);
        }
    }
}
