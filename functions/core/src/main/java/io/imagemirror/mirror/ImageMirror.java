package io.imagemirror.mirror;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.imagemirror.oci.Descriptor;
import io.imagemirror.oci.Digest;
import io.imagemirror.oci.ErrorCode;
import io.imagemirror.oci.InvalidManifestException;
import io.imagemirror.oci.Manifest;
import io.imagemirror.oci.Platform;
import io.imagemirror.oci.RegistryException;
import io.imagemirror.reference.ImageReference;
import io.imagemirror.reference.RepositoryName;
import io.imagemirror.store.BlobRef;
import io.imagemirror.store.BlobStore;
import io.imagemirror.store.Cause;
import io.imagemirror.store.ChildManifest;
import io.imagemirror.store.ManifestRecord;
import io.imagemirror.store.MissingManifestException;
import io.imagemirror.store.Storage;
import io.imagemirror.store.SweptBlobException;
import io.imagemirror.store.TagRecord;
import io.imagemirror.store.TagUpdate;
import io.imagemirror.upstream.ManifestDescriptor;
import io.imagemirror.upstream.Prefetch;
import io.imagemirror.upstream.RawManifest;
import io.imagemirror.upstream.Referrers;
import io.imagemirror.upstream.RegistryClient;
import io.imagemirror.upstream.RetryPolicy;
import io.imagemirror.upstream.Upstreams;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The copy engine: what {@code docker pull} does, but into our storage, for every platform and
 * byte for byte. Resolves a tag with a HEAD (no pull quota) and stops when the tag already points
 * at that digest here; otherwise fetches the manifest tree by digest and copies every blob not yet
 * stored, streamed and verified, with bounded parallelism. Records bottom-up: blobs, then child
 * manifests, then the index, then the tag (DESIGN.md §5 invariants 1-3). A blob already stored is
 * touched before it is counted as present (invariant 4).
 *
 * <p>Thread-safe: one instance serves concurrent mirrors, and concurrent copies of the same blob in
 * this process share one transfer, as do their GETs of the same manifest. Across processes every write is idempotent (invariant 5).
 */
public final class ImageMirror {

    /** Config blobs are parsed for {@code created} and labels; larger ones are not read. */
    private static final int MAX_CONFIG_BYTES = 4 * 1024 * 1024;
    private static final int TAG_CAS_ATTEMPTS = 5;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Upstreams upstreams;
    private final Storage storage;
    private final ExecutorService blobExecutor;
    private final Clock clock;
    private final BlobFills fills;
    /** How often, and after what waits, a copy that a concurrent sweep made obsolete starts again. */
    private final RetryPolicy sweepRaces;
    /** Manifest GETs by digest in flight, by upstream, repository and digest ({@link #getManifestOnce}). */
    private final ConcurrentHashMap<String, CompletableFuture<RawManifest>> manifestGets;
    private final AtomicInteger manifestGetsShared;

    /**
     * A mirror whose blob copies stream straight into the store.
     *
     * @param blobExecutor runs blob copies; its size bounds how many blobs transfer at once
     */
    public ImageMirror(Upstreams upstreams, Storage storage, ExecutorService blobExecutor, Clock clock) {
        this(upstreams, storage, blobExecutor, clock,
                new BlobFills(storage.blobs(), storage.blobIndex(), null, blobExecutor));
    }

    /** A mirror whose blob copies go through {@code fills} (shared with the pull-through cache). */
    public ImageMirror(Upstreams upstreams, Storage storage, ExecutorService blobExecutor, Clock clock,
                       BlobFills fills) {
        this(upstreams, storage, blobExecutor, clock, fills, RetryPolicy.sweepRaces(), new ConcurrentHashMap<>(),
                new AtomicInteger());
    }

    private ImageMirror(Upstreams upstreams, Storage storage, ExecutorService blobExecutor, Clock clock,
                        BlobFills fills, RetryPolicy sweepRaces,
                        ConcurrentHashMap<String, CompletableFuture<RawManifest>> manifestGets,
                        AtomicInteger manifestGetsShared) {
        this.upstreams = upstreams;
        this.storage = storage;
        this.blobExecutor = blobExecutor;
        this.clock = clock;
        this.fills = fills;
        this.sweepRaces = Objects.requireNonNull(sweepRaces, "sweepRaces");
        this.manifestGets = manifestGets;
        this.manifestGetsShared = manifestGetsShared;
    }

    /**
     * This mirror (same upstreams, store, copy threads, fills and manifest GETs in flight) with another
     * schedule for the copies a concurrent sweep made obsolete ({@link RetryPolicy#sweepRaces()} by
     * default): their attempts, and the waits between them.
     */
    public ImageMirror withSweepRaceRetries(RetryPolicy policy) {
        return new ImageMirror(upstreams, storage, blobExecutor, clock, fills, policy, manifestGets, manifestGetsShared);
    }

    /** The repository key the index uses: {@code <registry>/<repository>} of a normalized reference. */
    public static String repositoryKey(ImageReference ref) {
        return ref.repositoryName().toString();
    }

    /**
     * Mirrors what {@code request} names.
     *
     * @throws MirrorException naming the reference and the blob or manifest that failed
     */
    public MirrorResult mirror(MirrorRequest request, MirrorListener listener) throws MirrorException {
        return mirror(request, listener, null);
    }

    /**
     * Mirrors what {@code request} names, copying large blobs through {@code resumable} (a job run on
     * a Lambda): when its budget is spent they stop at a part boundary and the mirror fails with a
     * {@link CopySuspendedException} as its cause; running it again with the session's partial copies
     * goes on from there.
     *
     * @param resumable the run's resumable copies, or null to copy every blob in one stream
     * @throws MirrorException naming the reference and the blob or manifest that failed
     */
    public MirrorResult mirror(MirrorRequest request, MirrorListener listener, ResumableCopies.Session resumable)
            throws MirrorException {
        Instant start = clock.instant();
        ImageReference ref = request.reference();
        RegistryClient client = client(ref);
        List<MirrorResult.Image> images = new ArrayList<>();
        if (request.allTags()) {
            List<String> tags;
            try {
                tags = client.tags(ref.repository());
            } catch (IOException e) {
                throw new MirrorException("listing tags of " + ref.name() + ": " + e.getMessage(), null, e);
            }
            for (String tag : tags) {
                images.add(mirrorOne(ref.byDigest(null).withTag(tag), request, client, listener, resumable));
            }
        } else {
            images.add(mirrorOne(ref, request, client, listener, resumable));
        }
        return new MirrorResult(images, Duration.between(start, clock.instant()));
    }

    /**
     * Records one manifest (and everything below it) in {@code repository}, without a tag or a
     * pin, unless it is recorded there already: how the pull-through cache makes sure that what it
     * stored for a client ends up recorded (a manifest whose tag moved on, a child pulled by digest).
     * Blobs and children are stored first (invariant 2); the record is dangling until something
     * references it.
     *
     * @throws MirrorException naming the manifest or blob that failed
     */
    public void recordManifest(RepositoryName repository, Digest digest) throws MirrorException {
        recordManifest(repository, digest, Prefetch.ALL);
    }

    /**
     * {@link #recordManifest(RepositoryName, Digest)}, copying of an index only what {@code prefetch}
     * selects ({@link MirrorRequest#prefetch()}).
     */
    public void recordManifest(RepositoryName repository, Digest digest, Prefetch prefetch) throws MirrorException {
        recordManifest(repository, digest, prefetch, null);
    }

    /**
     * {@link #recordManifest(RepositoryName, Digest, Prefetch)} with large blobs copied through
     * {@code resumable} (may be null; see {@link #mirror(MirrorRequest, MirrorListener, ResumableCopies.Session)}).
     */
    public void recordManifest(RepositoryName repository, Digest digest, Prefetch prefetch,
                               ResumableCopies.Session resumable) throws MirrorException {
        String repoKey = repository.toString();
        if (prefetch != Prefetch.PULLED && storage.manifestIndex().getManifest(repoKey, digest).isPresent()) {
            return; // (prefetching what is pulled, a recorded index still takes in the children recorded since)
        }
        ImageReference byDigest = ImageReference.of(repository, null, digest);
        Run run = new Run(repoKey, repository.path(), client(byDigest), MirrorListener.NONE,
                MirrorRequest.of(byDigest, Cause.PULL_THROUGH).withPrefetch(prefetch), resumable); // moves no tag
        try {
            for (int attempt = 1; ; attempt++) {
                try {
                    run.copyManifest(digest, List.of());
                    break;
                } catch (IOException | RuntimeException e) {
                    if (!lostToASweep(e) || attempt >= sweepRaces.maxAttempts()) {
                        throw e;
                    }
                    backOff(attempt);
                    run = new Run(repoKey, repository.path(), client(byDigest), MirrorListener.NONE,
                            MirrorRequest.of(byDigest, Cause.PULL_THROUGH).withPrefetch(prefetch), resumable);
                    run.afterASweep = true;
                }
            }
        } catch (IOException | RuntimeException e) {
            Digest failed = run.current;
            throw new MirrorException("recording " + byDigest.canonical() + (failed == null ? "" : ": " + failed)
                    + ": " + describe(e), failed, e);
        }
    }

    /**
     * GETs a manifest by digest, once for all the copies in this process that ask for the same one
     * of the same repository at the same time (two jobs of one image, a sync run and a pull-through
     * recording): Docker Hub counts every manifest GET against the pull quota. The repository is
     * part of the key, so a copy never takes bytes another repository's answer brought. When the
     * GET a copy joined fails, the copy asks on its own: a failure of another copy (its interrupt,
     * its deadline) is not its answer.
     */
    RawManifest getManifestOnce(RegistryClient client, String repository, Digest digest) throws IOException {
        String key = client.upstream().name() + "/" + repository + "@" + digest;
        CompletableFuture<RawManifest> mine = new CompletableFuture<>();
        CompletableFuture<RawManifest> running = manifestGets.putIfAbsent(key, mine);
        if (running != null) {
            manifestGetsShared.incrementAndGet();
            try {
                return running.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted waiting for manifest " + digest);
            } catch (ExecutionException e) {
                return client.getManifest(repository, digest);
            }
        }
        try {
            RawManifest raw = client.getManifest(repository, digest);
            mine.complete(raw);
            return raw;
        } catch (Throwable t) {
            mine.completeExceptionally(t);
            throw t;
        } finally {
            manifestGets.remove(key, mine);
        }
    }

    /** How many manifest GETs joined one already in flight (for tests). */
    int manifestGetsShared() {
        return manifestGetsShared.get();
    }

    private RegistryClient client(ImageReference ref) throws MirrorException {
        try {
            return upstreams.client(ref.registry());
        } catch (RegistryException e) {
            throw new MirrorException(e.getMessage(), null, e);
        }
    }

    private MirrorResult.Image mirrorOne(ImageReference ref, MirrorRequest request, RegistryClient client,
                                         MirrorListener listener, ResumableCopies.Session resumable)
            throws MirrorException {
        String repoKey = repositoryKey(ref);
        String shown = ref.canonical();
        Run run = new Run(repoKey, ref.repository(), client, listener, request, resumable);
        Digest digest;
        Digest previous = null;
        Optional<String> tag = ref.digest().isPresent() ? Optional.empty() : ref.tag();
        try {
            if (ref.digest().isPresent()) {
                digest = ref.digest().get();
            } else {
                listener.resolving(shown);
                ManifestDescriptor head = client.headManifest(ref.repository(), tag.orElseThrow());
                digest = head.digest();
                Optional<TagRecord> current = storage.tagIndex().getTag(repoKey, tag.get());
                previous = current.map(TagRecord::digest).orElse(null);
                if (digest.equals(previous)) {
                    Optional<ManifestRecord> rec = storage.manifestIndex().getManifest(repoKey, digest);
                    if (rec.isPresent()) {
                        listener.upToDate(shown, digest);
                        return new MirrorResult.Image(shown, digest, rec.get().mediaType(), true, previous, List.of(),
                                List.of());
                    }
                }
            }
            ManifestRecord top;
            for (int attempt = 1; ; attempt++) {
                try {
                    top = run.copyManifest(digest, request.platforms());
                    if (tag.isPresent()) {
                        previous = setTag(repoKey, tag.get(), digest, request.cause());
                    } else {
                        storage.pinIndex().addPin(repoKey, digest);
                    }
                    break;
                } catch (IOException | RuntimeException e) {
                    // A sweep (zero grace, or an index's children going with it) took a blob or a
                    // just-recorded manifest before this copy referenced it: copy again.
                    if (!lostToASweep(e) || attempt >= sweepRaces.maxAttempts()) {
                        throw e;
                    }
                    backOff(attempt);
                    run = new Run(repoKey, ref.repository(), client, listener, request, resumable);
                    run.afterASweep = true;
                }
            }
            if (tag.isPresent()) {
                listener.tagged(shown, previous, digest);
            }
            if (request.referrers()) {
                run.copyReferrers(top);
            }
            return new MirrorResult.Image(shown, digest, top.mediaType(), false, previous, run.recorded, run.outcomes);
        } catch (MirrorException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            Digest failed = run.current;
            throw new MirrorException("mirroring " + shown + (failed == null ? "" : ": " + failed) + ": "
                    + describe(e), failed, e);
        }
    }

    private static String describe(Throwable e) {
        Throwable t = e instanceof CompletionException || e instanceof UncheckedIOException ? e.getCause() : e;
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }

    /** Points the tag at {@code digest}, retrying the compare-and-set while others move it; returns the old digest. */
    private Digest setTag(String repoKey, String tag, Digest digest, Cause why) throws MirrorException {
        String cause = why.value();
        for (int attempt = 0; attempt < TAG_CAS_ATTEMPTS; attempt++) {
            Digest expected = storage.tagIndex().getTag(repoKey, tag).map(TagRecord::digest).orElse(null);
            TagUpdate u = storage.tagIndex().setTag(repoKey, tag, expected, digest, cause);
            if (u != TagUpdate.CONFLICT) {
                return u == TagUpdate.UNCHANGED ? digest : expected;
            }
        }
        throw new MirrorException("tag " + repoKey + ":" + tag + " kept moving under concurrent updates; try again");
    }

    /** The state of one reference's copy. */
    private final class Run {
        final String repoKey;
        final String repository;
        final RegistryClient client;
        final MirrorListener listener;
        final MirrorRequest request;
        /** Copies large blobs resumably (a job run on Lambda), or null. */
        final ResumableCopies.Session resumable;
        final List<Digest> recorded = new ArrayList<>();
        final List<BlobOutcome> outcomes = new ArrayList<>();
        final Set<Digest> seenBlobs = new HashSet<>();
        volatile Digest current;
        /** Whether an earlier attempt of this copy lost to a concurrent sweep. */
        boolean afterASweep;

        Run(String repoKey, String repository, RegistryClient client, MirrorListener listener, MirrorRequest request,
            ResumableCopies.Session resumable) {
            this.repoKey = repoKey;
            this.repository = repository;
            this.client = client;
            this.listener = listener;
            this.request = request;
            this.resumable = resumable;
        }

        /** Copies a manifest and everything below it unless it is recorded here already; returns its record. */
        ManifestRecord copyManifest(Digest digest, List<Platform> platforms) throws IOException {
            Optional<ManifestRecord> existing = storage.manifestIndex().getManifest(repoKey, digest);
            if (existing.isPresent()) {
                // Recorded means everything below it is stored (invariant 2).
                listener.manifest(digest, existing.get().mediaType(), true);
                return markPulledChildren(existing.get());
            }
            current = digest;
            Manifest m = fetchManifest(digest);
            listener.manifest(digest, m.mediaType(), false);
            List<BlobRef> blobRefs = new ArrayList<>();
            List<ChildManifest> children = new ArrayList<>();
            Digest configDigest = null;
            Instant created = null;
            Map<String, String> labels = Map.of();
            if (m.isIndex()) {
                Set<Digest> kept = selectChildren(m, platforms);
                for (Descriptor child : m.manifests()) {
                    boolean keep = kept.contains(child.digest());
                    if (keep) {
                        copyManifest(child.digest(), List.of());
                    }
                    children.add(new ChildManifest(child.digest(), child.mediaType().isEmpty()
                            ? "application/octet-stream" : child.mediaType(), child.size(), child.platform(), keep));
                }
            } else {
                copyBlobs(m.blobs());
                for (Descriptor b : m.blobs()) {
                    blobRefs.add(new BlobRef(b.digest(), b.size()));
                }
                Descriptor config = m.config().orElseThrow();
                configDigest = config.digest();
                ConfigView view = readConfig(config);
                created = view.created;
                labels = view.labels;
            }
            current = digest;
            byte[] raw = m.raw();
            // The manifest's own bytes are swept like a blob once no record names them: touch (or record)
            // before the put, as for a reused blob (invariant 4); a sweep that took them meanwhile makes
            // the record below fail with SweptBlobException, and the copy starts again.
            if (!storage.blobIndex().touchBlob(digest)) {
                storage.blobIndex().createBlobRecord(digest, raw.length);
            }
            storage.manifests().put(digest, raw.length, new ByteArrayInputStream(raw));
            if (afterASweep && !m.isIndex()) {
                // A sweep took something of an earlier attempt: touch the blobs again just before the
                // record (copying again what a sweep took meanwhile), so the window a zero-grace sweep
                // can hit is one pass of touches and the record, not the whole copy.
                for (int pass = 1; ; pass++) {
                    List<Descriptor> lost = m.blobs().stream()
                            .filter(b -> !b.isNonDistributable() || request.includeNonDistributable())
                            .filter(b -> !storage.blobIndex().touchBlob(b.digest())).toList();
                    if (lost.isEmpty()) {
                        break;
                    }
                    if (pass >= sweepRaces.maxAttempts()) {
                        throw new SweptBlobException(lost.get(0).digest());
                    }
                    lost.forEach(b -> seenBlobs.remove(b.digest()));
                    copyBlobs(lost);
                }
            }
            ManifestRecord record = new ManifestRecord(repoKey, digest, m.mediaType(), raw.length, configDigest, blobRefs,
                    children, m.subject().map(Descriptor::digest).orElse(null), m.artifactType().orElse(null),
                    created, labels, clock.instant(), null, 0);
            storage.manifestIndex().putManifest(record);
            recorded.add(digest);
            // Another copy may have recorded it first, with fewer children pulled than now.
            return markPulledChildren(storage.manifestIndex().getManifest(repoKey, digest).orElse(record));
        }

        /**
         * Prefetching only what is pulled, an index keeps the children recorded here since it was
         * recorded: each is marked mirrored. Checked after every write of the index, so a child
         * recorded concurrently is marked by whichever of the two writes came second.
         */
        private ManifestRecord markPulledChildren(ManifestRecord index) {
            if (request.prefetch() != Prefetch.PULLED || index.children().isEmpty()) {
                return index;
            }
            boolean marked = false;
            for (ChildManifest c : index.children()) {
                if (!c.mirrored() && index.listsUnmirrored(c.digest())
                        && (request.platforms().isEmpty() || (c.platform() != null
                        && request.platforms().stream().anyMatch(p -> p.matches(c.platform()))))
                        && storage.manifestIndex().getManifest(repoKey, c.digest()).isPresent()) {
                    marked |= storage.manifestIndex().markChildMirrored(repoKey, index.digest(), c.digest());
                }
            }
            return marked ? storage.manifestIndex().getManifest(repoKey, index.digest()).orElse(index) : index;
        }

        /** Manifest bytes from our store when another repository has them, else from upstream by digest. */
        private Manifest fetchManifest(Digest digest) throws IOException {
            Optional<BlobStore.Content> stored = storage.manifests().open(digest);
            if (stored.isPresent()) {
                try (BlobStore.Content c = stored.get()) {
                    if (c.size() <= Manifest.MAX_SIZE) {
                        return Manifest.parse(c.stream().readAllBytes(), null, digest.algorithm());
                    }
                }
            }
            RawManifest raw = getManifestOnce(client, repository, digest);
            try {
                return Manifest.parse(raw.bytes(), raw.mediaType(), digest.algorithm());
            } catch (InvalidManifestException e) {
                throw RegistryException.refused("manifest " + digest + ": " + e.getMessage(),
                        e.isUnsupported() ? ErrorCode.UNSUPPORTED : ErrorCode.MANIFEST_INVALID);
            }
        }

        /**
         * The children of an index to copy: all without a filter; with one, those whose platform
         * matches and the attestation manifests that describe a kept child. A pull-through that
         * prefetches only what is pulled keeps, of those, the ones recorded here already.
         */
        private Set<Digest> selectChildren(Manifest index, List<Platform> platforms) {
            Set<Digest> kept = selectPlatforms(index, platforms);
            if (request.prefetch() == Prefetch.PULLED) {
                kept.removeIf(d -> storage.manifestIndex().getManifest(repoKey, d).isEmpty());
            }
            return kept;
        }

        private Set<Digest> selectPlatforms(Manifest index, List<Platform> platforms) {
            Set<Digest> kept = new HashSet<>();
            for (Descriptor d : index.manifests()) {
                if (platforms.isEmpty()) {
                    kept.add(d.digest());
                } else if (!d.isAttestation() && d.platform() != null
                        && platforms.stream().anyMatch(p -> p.matches(d.platform()))) {
                    kept.add(d.digest());
                }
            }
            if (!platforms.isEmpty()) {
                for (Descriptor d : index.manifests()) {
                    String subject = d.annotations().get("vnd.docker.reference.digest");
                    if (d.isAttestation() && subject != null && Digest.isValid(subject)
                            && kept.contains(Digest.parse(subject))) {
                        kept.add(d.digest());
                    }
                }
            }
            return kept;
        }

        /**
         * Copies blobs with the engine's parallelism, the largest first: a large layer that the
         * manifest lists late would otherwise start only when the smaller ones before it are done
         * and end the copy alone. Outcomes are collected in the manifest's order. The first failure
         * fails the whole set.
         */
        private void copyBlobs(List<Descriptor> blobs) throws IOException {
            Map<Digest, Future<BlobOutcome>> futures = new LinkedHashMap<>(); // in the manifest's order
            List<Descriptor> toCopy = new ArrayList<>();
            for (Descriptor b : blobs) {
                if (seenBlobs.add(b.digest())) { // the same blob twice in one image (e.g. empty layers): once
                    futures.put(b.digest(), null);
                    toCopy.add(b);
                }
            }
            toCopy.sort(Comparator.comparingLong(Descriptor::size).reversed()); // stable: ties keep their order
            for (Descriptor b : toCopy) {
                futures.put(b.digest(), blobExecutor.submit(() -> ensureBlob(this, b)));
            }
            IOException failure = null;
            CopySuspendedException suspended = null;
            for (Map.Entry<Digest, Future<BlobOutcome>> e : futures.entrySet()) {
                try {
                    BlobOutcome o = e.getValue().get();
                    synchronized (outcomes) {
                        outcomes.add(o);
                    }
                } catch (ExecutionException ex) {
                    if (ex.getCause() instanceof CopySuspendedException s) {
                        // Out of time, not a failure: the other copies stop at their own next part
                        // boundary (or finish), so each leaves a state to go on from.
                        suspended = suspended == null ? s : suspended;
                        continue;
                    }
                    if (failure == null) {
                        current = e.getKey();
                        Throwable c = ex.getCause() instanceof CompletionException ? ex.getCause().getCause() : ex.getCause();
                        failure = c instanceof IOException io ? io : new IOException(describe(c), c);
                        futures.values().forEach(f -> f.cancel(true));
                    }
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted", ex);
                } catch (java.util.concurrent.CancellationException ignored) {
                    // cancelled after an earlier failure
                }
            }
            if (failure != null) {
                throw failure;
            }
            if (suspended != null) {
                throw suspended;
            }
        }

        /** Copies what refers to the top manifest and, for an index, to each mirrored child; pins them. */
        void copyReferrers(ManifestRecord top) throws IOException {
            List<Digest> subjects = new ArrayList<>();
            subjects.add(top.digest());
            top.children().stream().filter(ChildManifest::mirrored).forEach(c -> subjects.add(c.digest()));
            for (Digest subject : subjects) {
                Referrers refs = client.referrers(repository, subject);
                for (Referrers.Referrer r : refs.referrers()) {
                    copyManifest(r.digest(), List.of());
                    storage.pinIndex().addPin(repoKey, r.digest());
                }
            }
        }
    }

    /**
     * Makes sure a blob is stored: touches it if present (so a concurrent sweep cannot take it),
     * else copies it from upstream. Concurrent copies of the same digest share one transfer.
     */
    private BlobOutcome ensureBlob(Run run, Descriptor blob) throws IOException {
        if (blob.isNonDistributable() && !run.request.includeNonDistributable()) {
            return finished(run, new BlobOutcome(blob.digest(), blob.size(),
                    BlobOutcome.Status.SKIPPED_NON_DISTRIBUTABLE, 0));
        }
        Optional<BlobFills.Fill> running = fills.inProgress(blob.digest());
        if (running.isPresent()) {
            running.get().await();
        }
        if (present(blob)) {
            return finished(run, new BlobOutcome(blob.digest(), blob.size(), BlobOutcome.Status.ALREADY_EXISTS, 0));
        }
        run.listener.blobStarted(blob.digest(), blob.size());
        if (run.resumable != null && run.resumable.takes(blob.digest(), blob.size())) {
            long copied = run.resumable.copy(run.client, run.repository, blob.digest(), blob.size(), run.listener);
            if (!present(blob)) {
                throw new SweptBlobException(blob.digest()); // a sweep finished between the upload and the record
            }
            return finished(run, copied > 0
                    ? new BlobOutcome(blob.digest(), blob.size(), BlobOutcome.Status.COPIED, copied)
                    : new BlobOutcome(blob.digest(), blob.size(), BlobOutcome.Status.ALREADY_EXISTS, 0));
        }
        BlobFills.Source upstream = BlobFills.Source.upstream(run.client, run.repository, blob.digest(), blob.size());
        BlobFills.Fill fill = fills.fill(blob.digest(), blob.size(), new BlobFills.Source() {
            @Override
            public java.io.InputStream open() throws IOException {
                return new ProgressInputStream(upstream.open(), blob.digest(), blob.size(), run.listener);
            }

            @Override
            public long fetchInto(io.imagemirror.oci.BlobSink sink) throws IOException {
                return upstream.fetchInto(ProgressInputStream.reporting(sink, blob.digest(), blob.size(), run.listener));
            }
        });
        long copied = fill.await();
        BlobOutcome o = fill.owned() && (copied > 0 || blob.size() == 0)
                ? new BlobOutcome(blob.digest(), blob.size(), BlobOutcome.Status.COPIED, copied)
                : new BlobOutcome(blob.digest(), blob.size(), BlobOutcome.Status.ALREADY_EXISTS, 0);
        return finished(run, o);
    }

    /**
     * Touch (or record) first, then check the bytes: a sweep's delete is conditional on the touch
     * (invariant 4), and bytes seen after it stay. A blob being swept is not present: it is copied
     * again, and the manifest write waits for the sweep to end ({@link SweptBlobException}).
     */
    private boolean present(Descriptor blob) {
        boolean live = storage.blobIndex().touchBlob(blob.digest())
                || storage.blobIndex().createBlobRecord(blob.digest(), blob.size());
        return live && storage.blobs().exists(blob.digest());
    }

    /** Whether {@code e} is a concurrent sweep taking what this copy was about to reference. */
    private static boolean lostToASweep(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SweptBlobException || t instanceof MissingManifestException) {
                return true;
            }
        }
        return false;
    }

    /** Waits a little longer after each copy a concurrent sweep made obsolete. */
    private void backOff(int attempt) throws IOException {
        try {
            sweepRaces.sleeper().sleep(sweepRaces.delayAfter(attempt, null));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted");
        }
    }

    private static BlobOutcome finished(Run run, BlobOutcome o) {
        run.listener.blobFinished(o);
        return o;
    }

    /** What {@code docker image ls} needs from a config: when it was created and its labels. */
    private record ConfigView(Instant created, Map<String, String> labels) {
    }

    /**
     * Reads {@code created} and the labels of a config that was just stored. A config that is not
     * an image config leaves both unknown; a store or network failure while reading it fails the
     * copy, so a retry records the manifest complete instead of this run recording it without them
     * for good (a manifest record is never rewritten).
     */
    private ConfigView readConfig(Descriptor config) throws IOException {
        if (config.size() > MAX_CONFIG_BYTES) {
            return new ConfigView(null, Map.of());
        }
        Optional<BlobStore.Content> c = storage.blobs().open(config.digest());
        if (c.isEmpty()) {
            if (config.isNonDistributable()) {
                return new ConfigView(null, Map.of()); // recorded, not copied (foreign content)
            }
            if (storage.blobIndex().getBlobRecord(config.digest()).isEmpty()) {
                throw new SweptBlobException(config.digest()); // a concurrent sweep took it: the copy starts again
            }
            throw new IOException("config " + config.digest() + " is not in the store after it was copied");
        }
        byte[] bytes;
        try (BlobStore.Content content = c.get()) {
            bytes = content.stream().readNBytes(MAX_CONFIG_BYTES + 1);
        }
        JsonNode root;
        try {
            root = JSON.readTree(bytes);
        } catch (JsonProcessingException e) {
            // Only the parse may fail harmlessly: an OCI artifact's config can be of any media type,
            // JSON or not. The bytes were read whole before parsing, so this cannot be a store or
            // network failure in disguise.
            return new ConfigView(null, Map.of());
        }
        Instant created = null;
        JsonNode cr = root.path("created");
        if (cr.isTextual()) {
            try {
                created = java.time.OffsetDateTime.parse(cr.asText()).toInstant();
            } catch (DateTimeParseException ignored) {
                // not a timestamp we can read; leave it unknown
            }
        }
        Map<String, String> labels = new LinkedHashMap<>();
        JsonNode l = root.path("config").path("Labels");
        if (l.isObject()) {
            l.properties().forEach(e -> labels.put(e.getKey(), e.getValue().asText()));
        }
        return new ConfigView(created, labels);
    }
}
