package io.imagemirror.cache;

import io.imagemirror.metrics.Meter;
import io.imagemirror.metrics.Metrics;
import io.imagemirror.mirror.BlobFills;
import io.imagemirror.mirror.FetchedElsewhereException;
import io.imagemirror.mirror.FillLeases;
import io.imagemirror.mirror.ImageMirror;
import io.imagemirror.mirror.MirrorException;
import io.imagemirror.mirror.MirrorListener;
import io.imagemirror.mirror.MirrorRequest;
import io.imagemirror.mirror.MirrorResult;
import io.imagemirror.oci.Descriptor;
import io.imagemirror.oci.Digest;
import io.imagemirror.oci.ErrorCode;
import io.imagemirror.oci.InvalidManifestException;
import io.imagemirror.oci.Manifest;
import io.imagemirror.oci.RegistryException;
import io.imagemirror.reference.ImageReference;
import io.imagemirror.reference.RepositoryName;
import io.imagemirror.store.BlobStore;
import io.imagemirror.store.Cause;
import io.imagemirror.store.ManifestRecord;
import io.imagemirror.store.ManifestIndex;
import io.imagemirror.store.Page;
import io.imagemirror.store.Storage;
import io.imagemirror.store.TagIndex;
import io.imagemirror.store.TagRecord;
import io.imagemirror.upstream.ManifestDescriptor;
import io.imagemirror.upstream.Prefetch;
import io.imagemirror.upstream.RawManifest;
import io.imagemirror.upstream.RegistryClient;
import io.imagemirror.upstream.Upstreams;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * The pull-through cache behind the {@code /v2} read API: what is stored is served without asking
 * upstream (a digest forever, a tag while younger than its TTL); what is missing is fetched once,
 * verified, stored and served; a tag older than its TTL is re-validated with a HEAD (no pull
 * quota), and when upstream is down or errs, or its pull quota is exhausted (the shared
 * {@link io.imagemirror.upstream.QuotaLedger}), the stored tag is served stale and the event logged.
 * A cold manifest or blob is fetched once across the instances sharing the store: under the fill
 * lease of {@link FillLeases} (through {@link BlobFills} for blobs), the other instances waiting
 * for it to be stored.
 *
 * <p>A manifest fetched for a client is stored (as verified bytes) and served at once; recording
 * it in the index, with its tag, is left to a background {@link Recording} that goes through the
 * same engine as {@code image-mirror mirror} and so keeps invariants 2 and 3. Every manifest the
 * cache stores ends recorded in the repository it was served for: the recording records the stored
 * digest itself even when the tag has moved on upstream meanwhile (then without a tag: dangling),
 * and a served manifest found unrecorded (a recording that failed) is recorded again. Blobs the
 * client asks for while that runs are served from the same fill (one upstream fetch).
 *
 * <p>Of a multi-platform index, by default only what clients pull is fetched ({@link Prefetch#PULLED}):
 * the index is recorded with the children recorded in the repository so far as mirrored and the
 * others listed as not stored, and a child pulled later is recorded and then marked mirrored in its
 * index ({@link #record}). {@link Prefetch#ALL} (an upstream's {@code prefetch}, or a sync rule's for
 * its repository) fetches every child in the background after the first pull. Thread-safe.
 */
public final class PullThroughCache {

    /** The answer to a manifest request. */
    public record ServedManifest(byte[] bytes, String mediaType, Digest digest) {
    }

    /** The answer to a blob request. */
    public sealed interface ServedBlob permits Stored, Filling, RemoteOnly, Redirect {
        long size();
    }

    /** Too large to store within the request's time limit: send the client to upstream's own location. */
    public record Redirect(long size, java.net.URI location) implements ServedBlob {
    }

    /**
     * What a pull left to record.
     *
     * @param request the mirror that tags (a pull by tag) or pins (a pull by digest) it, or null for
     *     a manifest an index names (its index's recording references it)
     * @param repository the repository it was served for
     * @param stored the manifest the cache stored and served: it must end recorded in {@code repository}
     * @param index for a manifest an index names, that index (its record then lists {@code stored} as
     *     mirrored once both are recorded), or null
     * @param prefetch what the recording fetches of an index: the children clients pulled, or all
     */
    public record Recording(MirrorRequest request, RepositoryName repository, Digest stored, Digest index,
                            Prefetch prefetch) {
        public Recording {
            prefetch = prefetch == null ? Prefetch.ALL : prefetch;
            request = request == null ? null : request.withPrefetch(prefetch);
        }

        /** A recording that fetches every child of an index. */
        public Recording(MirrorRequest request, RepositoryName repository, Digest stored) {
            this(request, repository, stored, null, Prefetch.ALL);
        }
    }

    /**
     * Records what a pull stored: in this process in the background (local server), or as a job on
     * the queue (Lambda, which freezes once it has answered).
     */
    @FunctionalInterface
    public interface Recorder {
        void record(Recording recording) throws IOException;
    }

    /** How a cold blob is answered when the cache cannot spool it to the client while storing it. */
    public record ColdBlobs(long storeInRequestUpTo, boolean redirectLarger) {
        /** Always store first (local CLI and server). */
        public static final ColdBlobs STORE_FIRST = new ColdBlobs(Long.MAX_VALUE, false);
    }

    /** Stored here: open it from the blob store (or presign it). */
    public record Stored(long size) implements ServedBlob {
    }

    /** Being fetched right now: follow the fill. */
    public record Filling(BlobFills.Fill fill) implements ServedBlob {
        @Override
        public long size() {
            return fill.size();
        }
    }

    /** Known upstream but not fetched (a HEAD of a cold blob). */
    public record RemoteOnly(long size) implements ServedBlob {
    }

    private record PendingTag(Digest digest, Instant at) {
    }

    private static final int MAX_REMEMBERED = 100_000;

    private final Upstreams upstreams;
    private final BlobFills fills;
    private final TagIndex tagIndex;
    private final ManifestIndex manifestIndex;
    private final BlobStore blobs;
    private final BlobStore manifests;
    private final TagTtls tagTtls;
    private final Executor background;
    private final Clock clock;
    private final Consumer<String> log;
    private final Map<String, Instant> validatedAt = new ConcurrentHashMap<>();
    private final Map<String, PendingTag> pendingTags = new ConcurrentHashMap<>();
    /** Manifests an index served here names, and that index. */
    private final Map<Digest, Digest> knownChildren = new ConcurrentHashMap<>();
    /** When this process last wrote a pull of a tag, so concurrent pulls of one tag write it once. */
    private final Map<String, Instant> tagPullsNoted = new ConcurrentHashMap<>();
    private final Recorder recorder;
    private final ColdBlobs coldBlobs;
    private final RepositoryScope scope;
    private final Metrics metrics;

    /**
     * A cache that records pulled references in the background of this process.
     *
     * @param mirror the engine that records what was pulled
     * @param fills the blob fills it shares with {@code mirror}
     * @param storage where blobs, manifests and the index live
     * @param background runs recording mirrors and pull statistics, off the request path
     * @param log receives one line per notable event (stale serving, background failures)
     */
    public PullThroughCache(ImageMirror mirror, Upstreams upstreams, BlobFills fills, Storage storage,
                            Duration tagTtl, Executor background, Clock clock, Consumer<String> log) {
        this(upstreams, fills, storage, tagTtl, background, clock, log, inBackground(mirror, background, log),
                ColdBlobs.STORE_FIRST);
    }

    /**
     * @param recorder how pulled manifests get recorded
     * @param coldBlobs how cold blobs are answered when fills are not spooled
     */
    public PullThroughCache(Upstreams upstreams, BlobFills fills, Storage storage, Duration tagTtl,
                            Executor background, Clock clock, Consumer<String> log, Recorder recorder,
                            ColdBlobs coldBlobs) {
        this(upstreams, fills, storage, tagTtl, background, clock, log, recorder, coldBlobs, Metrics.NONE);
    }

    /** @param metrics counts lookups by result ({@link Meter#CACHE_LOOKUPS}) */
    public PullThroughCache(Upstreams upstreams, BlobFills fills, Storage storage, Duration tagTtl,
                            Executor background, Clock clock, Consumer<String> log, Recorder recorder,
                            ColdBlobs coldBlobs, Metrics metrics) {
        this.metrics = metrics;
        this.upstreams = upstreams;
        this.fills = fills;
        this.tagIndex = storage.tagIndex();
        this.manifestIndex = storage.manifestIndex();
        this.blobs = storage.blobs();
        this.manifests = storage.manifests();
        this.scope = new RepositoryScope(storage.manifestIndex(), storage.blobIndex(), log);
        this.recorder = recorder;
        this.coldBlobs = coldBlobs;
        this.tagTtls = new TagTtls(storage.rules(), tagTtl, clock, log);
        this.background = background;
        this.clock = clock;
        this.log = log;
    }

    /**
     * Records in this process, on {@code background}: {@link #record(ImageMirror, Recording, MirrorListener)}.
     * One recording per repository and stored digest at a time.
     */
    public static Recorder inBackground(ImageMirror mirror, Executor background, Consumer<String> log) {
        Set<String> running = ConcurrentHashMap.newKeySet();
        return r -> {
            String key = (r.request() == null ? r.repository().toString() : r.request().reference().canonical())
                    + " " + r.stored();
            if (!running.add(key)) {
                return; // already being recorded
            }
            background.execute(() -> {
                try {
                    record(mirror, r, MirrorListener.NONE);
                } catch (IOException | RuntimeException e) {
                    log.accept("recording " + key + " after a pull failed (it is served from what is stored): "
                            + e.getMessage());
                } finally {
                    running.remove(key);
                }
            });
        };
    }

    /**
     * What recording a pull does, in this process or as a job: runs the recording's mirror (if
     * any), then records the stored manifest itself if that mirror did not (its tag had moved on).
     * A manifest an index names, prefetching only what is pulled, then has its index recorded (or,
     * recorded already, marked) with it as a mirrored child.
     *
     * @return what the recording's mirror did (empty without one)
     */
    public static MirrorResult record(ImageMirror mirror, Recording r, MirrorListener listener) throws MirrorException {
        return record(mirror, r, listener, null);
    }

    /** {@link #record(ImageMirror, Recording, MirrorListener)} with large blobs copied through {@code resumable} (may be null). */
    public static MirrorResult record(ImageMirror mirror, Recording r, MirrorListener listener,
                                      io.imagemirror.mirror.ResumableCopies.Session resumable) throws MirrorException {
        MirrorResult result = r.request() != null ? mirror.mirror(r.request(), listener, resumable)
                : new MirrorResult(List.of(), Duration.ZERO);
        mirror.recordManifest(r.repository(), r.stored(), r.prefetch(), resumable);
        if (r.index() != null && r.prefetch() == Prefetch.PULLED) {
            mirror.recordManifest(r.repository(), r.index(), Prefetch.PULLED, resumable);
        }
        return result;
    }

    /** What a pull through the cache fetches of an index of {@code target}: a rule's setting, else its upstream's. */
    private Prefetch prefetch(Target target) {
        return tagTtls.prefetch(target.repositoryKey()).orElseGet(() -> upstreams.prefetch(target.registry()));
    }

    /**
     * A manifest by tag or digest.
     *
     * @throws RegistryException {@code MANIFEST_UNKNOWN}/{@code NAME_UNKNOWN} (404) when neither the
     *     store nor upstream has it; other codes when upstream fails and nothing is stored
     */
    public ServedManifest manifest(Target target, String reference) throws IOException {
        if (Digest.isValid(reference)) {
            return manifestByDigest(target, Digest.parse(reference));
        }
        return manifestByTag(target, reference);
    }

    private ServedManifest manifestByDigest(Target target, Digest digest) throws IOException {
        Recording recording = byDigest(target, digest);
        Optional<ServedManifest> stored = Optional.empty();
        RegistryClient client = null;
        if (scope.knowsManifest(target.name(), digest)) {
            stored = readStored(target, digest);
        } else if (manifests.stat(digest).isPresent()) {
            // Stored for another repository: served under this one only if its upstream has it too.
            client = upstreams.client(target.registry());
            client.headManifest(target.repository(), digest.toString());
            scope.vouch(target.name(), digest);
            stored = readStored(target, digest);
        }
        if (stored.isPresent()) {
            notePull(target, digest, recording);
            metrics.count(Meter.CACHE_LOOKUPS, "manifest", "hit");
            return stored.get();
        }
        if (client == null) {
            client = upstreams.client(target.registry());
        }
        ServedManifest fetched = fetchAndStore(client, target, digest);
        metrics.count(Meter.CACHE_LOOKUPS, "manifest", "miss");
        record(recording);
        return fetched;
    }

    /**
     * How a manifest pulled by digest is recorded: on its own with a pin, as {@code mirror name@digest}
     * would; a child of an index pulled through without one (its index references it).
     */
    private Recording byDigest(Target target, Digest digest) {
        Digest index = knownChildren.get(digest);
        MirrorRequest pin = index != null ? null
                : new MirrorRequest(ImageReference.of(target.name(), null, digest), List.of(), false, false, false,
                        Cause.PULL_THROUGH);
        return new Recording(pin, target.name(), digest, index, prefetch(target));
    }

    private Recording byTag(Target target, String tag, Digest digest) {
        return new Recording(new MirrorRequest(ImageReference.of(target.name(), tag, null), List.of(), false, false,
                false, Cause.PULL_THROUGH), target.name(), digest, null, prefetch(target));
    }

    private ServedManifest manifestByTag(Target target, String tag) throws IOException {
        String key = target.repositoryKey() + ":" + tag;
        Instant now = clock.instant();
        Optional<TagRecord> recorded = tagIndex.getTag(target.repositoryKey(), tag);
        recorded.ifPresent(r -> noteTagPull(key, r, now));
        PendingTag pending = pendingTags.get(key);
        Digest known = null;
        Instant checked = Instant.MIN;
        if (recorded.isPresent()) {
            known = recorded.get().digest();
            checked = recorded.get().updatedAt();
        }
        if (pending != null && (recorded.isEmpty() || pending.at().isAfter(checked))) {
            known = pending.digest();
            checked = pending.at();
        }
        Instant validated = validatedAt.get(key);
        if (validated != null && validated.isAfter(checked)) {
            checked = validated;
        }
        if (known != null && checked.plus(tagTtls.of(target.repositoryKey())).isAfter(now)) {
            Optional<ServedManifest> fresh = readStored(target, known);
            if (fresh.isPresent()) {
                notePull(target, known, byTag(target, tag, known));
                metrics.count(Meter.CACHE_LOOKUPS, "manifest", "hit");
                return fresh.get();
            }
        }
        if (known != null) {
            Optional<ServedManifest> spared = servedWithoutQuota(target, tag, known, now);
            if (spared.isPresent()) {
                return spared.get();
            }
        }
        RegistryClient client;
        ManifestDescriptor head;
        try {
            client = upstreams.client(target.registry());
            head = client.headManifest(target.repository(), tag);
        } catch (RegistryException e) {
            Optional<ServedManifest> stale = known == null ? Optional.empty() : readStored(target, known);
            if (stale.isPresent()) {
                log.accept("serving " + target.repositoryKey() + ":" + tag + " stale at " + known
                        + ": upstream answered " + e.getMessage());
                metrics.count(Meter.CACHE_LOOKUPS, "manifest", "stale");
                return stale.get();
            }
            throw e;
        }
        validatedAt.put(key, now);
        if (head.digest().equals(known)) {
            Optional<ServedManifest> same = readStored(target, known);
            if (same.isPresent()) {
                notePull(target, known, byTag(target, tag, known));
                metrics.count(Meter.CACHE_LOOKUPS, "manifest", "hit");
                return same.get();
            }
        }
        Optional<ServedManifest> stored = readStored(target, head.digest());
        metrics.count(Meter.CACHE_LOOKUPS, "manifest", stored.isPresent() ? "hit" : "miss");
        ServedManifest served = stored.isPresent() ? stored.get() : fetchAndStore(client, target, head.digest());
        if (!head.digest().equals(recorded.map(TagRecord::digest).orElse(null))) {
            remember(pendingTags, key, new PendingTag(head.digest(), now));
            record(byTag(target, tag, head.digest()));
        }
        return served;
    }

    /**
     * Notes a pull of a recorded tag for retention ({@link TagIndex#recordTagPull}), at most once per
     * {@link TagIndex#PULL_NOTE_INTERVAL} per tag: the recorded time says whether it is due, and this
     * process remembers its own recent notes so that concurrent pulls write once.
     */
    private void noteTagPull(String key, TagRecord recorded, Instant now) {
        if (!recorded.pullNoteDue(now)) {
            return;
        }
        Instant mine = tagPullsNoted.get(key);
        if (mine != null && mine.plus(TagIndex.PULL_NOTE_INTERVAL).isAfter(now)) {
            return;
        }
        if (tagPullsNoted.size() > MAX_REMEMBERED) {
            tagPullsNoted.clear();
        }
        if (mine == null ? tagPullsNoted.putIfAbsent(key, now) != null : !tagPullsNoted.replace(key, mine, now)) {
            return; // another pull of this tag is noting it
        }
        background.execute(() -> {
            try {
                tagIndex.recordTagPull(recorded.repository(), recorded.tag());
            } catch (RuntimeException e) {
                log.accept("recording a pull of " + key + " failed: " + e.getMessage());
            }
        });
    }

    /**
     * The stored manifest of a tag due for re-validation, served stale without asking upstream while
     * the upstream's pull quota is exhausted (as the shared ledger knows it): a client gets what is
     * stored instead of an error, and the staleness is logged.
     */
    private Optional<ServedManifest> servedWithoutQuota(Target target, String tag, Digest known, Instant now)
            throws IOException {
        Optional<io.imagemirror.upstream.Upstream> upstream = upstreams.upstream(target.registry());
        if (upstream.isEmpty()) {
            return Optional.empty();
        }
        Optional<io.imagemirror.upstream.RateLimit> quota = upstreams.quota().quota(upstream.get().name());
        if (quota.isEmpty() || !quota.get().exhaustedAt(now)) {
            return Optional.empty();
        }
        Optional<ServedManifest> stale = readStored(target, known);
        if (stale.isPresent()) {
            Instant reset = quota.get().resetsBy();
            log.accept("serving " + target.repositoryKey() + ":" + tag + " stale at " + known + ": the pull quota of "
                    + upstream.get().name() + " is exhausted" + (reset == null ? "" : " until " + reset));
            notePull(target, known, byTag(target, tag, known));
        }
        return stale;
    }

    /** The stored manifest, served under {@code target}: what it lists becomes known there. */
    private Optional<ServedManifest> readStored(Target target, Digest digest) throws IOException {
        Optional<BlobStore.Content> c = manifests.open(digest);
        if (c.isEmpty()) {
            return Optional.empty();
        }
        byte[] bytes;
        try (BlobStore.Content content = c.get()) {
            bytes = content.stream().readNBytes(Manifest.MAX_SIZE + 1);
        }
        Manifest m = Manifest.parse(bytes, null, digest.algorithm());
        noteChildren(digest, m);
        scope.vouchForContents(target.name(), m);
        return Optional.of(new ServedManifest(bytes, m.mediaType(), digest));
    }

    /**
     * Fetches a cold manifest once across the instances sharing the store: under its fill lease, or
     * after waiting for the instance that holds it to store it (then read from the store). When the
     * wait elapses this instance fetches it too.
     */
    private ServedManifest fetchAndStore(RegistryClient client, Target target, Digest digest) throws IOException {
        Optional<FillLeases> leases = fills.leases();
        if (leases.isEmpty()) {
            return fetchAndStoreNow(client, target, digest);
        }
        try (FillLeases.Outcome lease = leases.get().acquire("manifest " + digest,
                () -> manifests.stat(digest).isPresent())) {
            if (lease instanceof FillLeases.Present) {
                Optional<ServedManifest> stored = readStored(target, digest);
                if (stored.isPresent()) {
                    return stored.get();
                }
            }
            return fetchAndStoreNow(client, target, digest);
        }
    }

    private ServedManifest fetchAndStoreNow(RegistryClient client, Target target, Digest digest) throws IOException {
        RawManifest raw = client.getManifest(target.repository(), digest);
        Manifest m;
        try {
            m = Manifest.parse(raw.bytes(), raw.mediaType(), digest.algorithm());
        } catch (InvalidManifestException e) {
            throw RegistryException.refused("upstream manifest " + digest + ": " + e.getMessage(),
                    e.isUnsupported() ? ErrorCode.UNSUPPORTED : ErrorCode.MANIFEST_INVALID);
        }
        // Verified bytes become visible by digest; the index records them once everything below is stored.
        manifests.put(digest, raw.size(), new ByteArrayInputStream(raw.bytes()));
        noteChildren(digest, m);
        scope.vouchForContents(target.name(), m);
        return new ServedManifest(raw.bytes(), m.mediaType(), digest);
    }

    private void noteChildren(Digest digest, Manifest m) {
        if (m.isIndex()) {
            if (knownChildren.size() > MAX_REMEMBERED) {
                knownChildren.clear();
            }
            for (Descriptor d : m.manifests()) {
                knownChildren.put(d.digest(), digest);
            }
        }
    }

    private static <V> void remember(Map<String, V> map, String key, V value) {
        if (map.size() > MAX_REMEMBERED) {
            map.clear();
        }
        map.put(key, value);
    }

    /** Records what a pull stored, by way of the recorder. */
    private void record(Recording recording) {
        try {
            recorder.record(recording);
        } catch (IOException | RuntimeException e) {
            log.accept("recording " + recording.repository() + "@" + recording.stored()
                    + " after a pull could not be started: " + e.getMessage());
        }
    }

    /**
     * Counts a pull of a stored manifest; one found unrecorded (its recording failed, or it was
     * stored for another repository) is recorded now, so nothing served stays unrecorded.
     */
    private void notePull(Target target, Digest digest, Recording ifUnrecorded) {
        background.execute(() -> {
            try {
                if (!manifestIndex.recordPull(target.repositoryKey(), digest)) {
                    record(ifUnrecorded);
                }
            } catch (RuntimeException e) {
                log.accept("recording a pull of " + digest + " failed: " + e.getMessage());
            }
        });
    }

    /**
     * A blob: stored, being filled, or (for a HEAD) known upstream. A GET of a cold blob starts the
     * fill that later requests and the recording mirror join.
     *
     * @throws RegistryException {@code BLOB_UNKNOWN} (404) when upstream does not have it either
     */
    public ServedBlob blob(Target target, Digest digest, boolean headOnly) throws IOException {
        Optional<BlobStore.Info> info = blobs.stat(digest);
        Optional<BlobFills.Fill> running = info.isPresent() ? Optional.empty() : fills.inProgress(digest);
        boolean here = info.isPresent() || (running.isPresent() && fills.spooled());
        RegistryClient client = null;
        long size = -1;
        if (here && !scope.knowsBlob(target.name(), digest)) {
            // Stored (or arriving) for another repository: served under this one only if its
            // upstream has it too; a 404 there is this repository's answer.
            client = upstreams.client(target.registry());
            size = client.headBlob(target.repository(), digest);
            scope.vouch(target.name(), digest);
        }
        metrics.count(Meter.CACHE_LOOKUPS, "blob", info.isPresent() ? "hit" : "miss");
        if (info.isPresent()) {
            return new Stored(info.get().size());
        }
        if (running.isPresent() && fills.spooled()) {
            return new Filling(running.get());
        }
        if (client == null) {
            client = upstreams.client(target.registry());
            size = client.headBlob(target.repository(), digest);
            scope.vouch(target.name(), digest);
        }
        if (headOnly) {
            return new RemoteOnly(size);
        }
        if (!fills.spooled() && coldBlobs.redirectLarger() && size > coldBlobs.storeInRequestUpTo()) {
            Optional<java.net.URI> location = client.blobLocation(target.repository(), digest);
            if (location.isPresent()) {
                return new Redirect(size, location.get());
            }
        }
        RegistryClient source = client;
        long expected = size;
        BlobFills.Source upstream = BlobFills.Source.upstream(source, target.repository(), digest, expected);
        BlobFills.Fill fill;
        try {
            // Where cold blobs may be redirected, one that another instance fetches beyond the lease
            // wait is redirected too, rather than fetched a second time.
            fill = fills.fill(digest, size, upstream, !fills.spooled() && coldBlobs.redirectLarger());
            if (fills.spooled()) {
                return new Filling(fill);
            }
            fill.await();
        } catch (FetchedElsewhereException busy) {
            Optional<java.net.URI> location = client.blobLocation(target.repository(), digest);
            if (location.isPresent()) {
                log.accept("redirecting " + target.repositoryKey() + "@" + digest + " to upstream: " + busy.getMessage());
                return new Redirect(size, location.get());
            }
            fills.fill(digest, size, upstream, false).await(); // upstream serves it itself: fetch it here too
        }
        return new Stored(size);
    }

    /** Every tag of a repository: the mirrored ones, or upstream's when none is mirrored yet. Sorted. */
    public List<String> tags(Target target) throws IOException {
        TreeSet<String> out = new TreeSet<>();
        String token = null;
        do {
            Page<TagRecord> page = tagIndex.listTags(target.repositoryKey(), Page.MAX_LIMIT, token);
            page.items().forEach(t -> out.add(t.tag()));
            token = page.nextToken();
        } while (token != null);
        if (out.isEmpty()) {
            out.addAll(upstreams.client(target.registry()).tags(target.repository()));
        }
        return new ArrayList<>(out);
    }

    /** Every stored repository key, sorted. */
    public List<String> repositories() {
        List<String> out = new ArrayList<>();
        String token = null;
        do {
            Page<String> page = manifestIndex.listRepositories(Page.MAX_LIMIT, token);
            out.addAll(page.items());
            token = page.nextToken();
        } while (token != null);
        return out;
    }

    /** Descriptors of the stored manifests in the repository whose {@code subject} is {@code digest}. */
    public List<Descriptor> referrers(Target target, Digest digest) throws IOException {
        List<Descriptor> out = new ArrayList<>();
        String token = null;
        do {
            Page<ManifestRecord> page = manifestIndex.listManifests(target.repositoryKey(), Page.MAX_LIMIT, token);
            for (ManifestRecord r : page.items()) {
                if (digest.equals(r.subject())) {
                    Optional<ServedManifest> m = readStored(target, r.digest());
                    if (m.isPresent()) {
                        Manifest parsed = Manifest.parse(m.get().bytes(), m.get().mediaType(), digest.algorithm());
                        // The referrers API reports the config media type when artifactType is absent.
                        out.add(new Descriptor(parsed.mediaType(), parsed.digest(), parsed.size(), List.of(),
                                parsed.annotations(), null, parsed.artifactType().orElse(null)));
                    }
                }
            }
            token = page.nextToken();
        } while (token != null);
        return out;
    }
}
