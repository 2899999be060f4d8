package io.imagemirror.listing;

import io.imagemirror.cache.NameRouter;
import io.imagemirror.oci.Digest;
import io.imagemirror.oci.MediaTypes;
import io.imagemirror.reference.ImageReference;
import io.imagemirror.reference.RepositoryName;
import io.imagemirror.store.InvalidPageTokenException;
import io.imagemirror.store.ManifestIndex;
import io.imagemirror.store.ManifestRecord;
import io.imagemirror.store.Page;
import io.imagemirror.store.PageToken;
import io.imagemirror.store.TagIndex;
import io.imagemirror.store.TagRecord;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The rows of {@code image-mirror images} and {@code GET /v1/images}, read page by page from the
 * store: repositories ({@link ManifestIndex#listRepositories}), then each repository's tags
 * ({@link TagIndex#listTags}) and, with {@code -a} or {@code dangling=true}, its untagged dangling
 * manifests ({@link ManifestIndex#listDanglingIn}), shown with tag {@code <none>}. Only one store
 * page (at most {@link #STORE_PAGE} items) and a small cache of image summaries are held at a time,
 * so a listing of any length starts at once and holds memory flat.
 *
 * <p>What a row shows of a manifest:
 * <ul>
 *   <li>IMAGE ID: the config digest of an image manifest; the index digest of a multi-platform image
 *       (an index has no config of its own);</li>
 *   <li>SIZE: stored (compressed) bytes of the distinct blobs it needs, config and layers; for an
 *       index the sum over its <em>stored</em> platforms (a blob shared by two platforms counts once);</li>
 *   <li>CREATED: the config's {@code created}; for an index the newest of its stored platforms';</li>
 *   <li>labels (for {@code label=}): the config's; for an index those every stored platform has
 *       with the same value.</li>
 * </ul>
 * Repository names are shown as this mirror's clients write them ({@link NameRouter#displayName}:
 * {@code alpine} for {@code docker.io/library/alpine} when Docker Hub is the default upstream).
 * Thread-safe; each {@link Rows} is used by one thread.
 */
public final class ImageListing {

    /** Items asked of the store per read. */
    public static final int STORE_PAGE = 200;
    private static final int SUMMARY_CACHE = 512;

    private final TagIndex tags;
    private final ManifestIndex manifests;
    private final NameRouter names;

    public ImageListing(TagIndex tags, ManifestIndex manifests, NameRouter names) {
        this.tags = Objects.requireNonNull(tags, "tags");
        this.manifests = Objects.requireNonNull(manifests, "manifests");
        this.names = Objects.requireNonNull(names, "names");
    }

    /**
     * What to list.
     *
     * @param repository a canonical repository key to list alone, or null for all
     * @param tag with {@code repository}, the one tag to list, or null
     * @param all {@code -a}: untagged dangling manifests too
     * @param filters the {@code --filter}s, resolved ({@link #resolve})
     */
    public record Query(String repository, String tag, boolean all, ImageFilters filters) {
        public Query {
            Objects.requireNonNull(filters, "filters");
            if (tag != null && repository == null) {
                throw new IllegalArgumentException("a tag needs its repository");
            }
        }
    }

    /**
     * The query for {@code images [REPO[:TAG]] [-a] [--filter ...]}: parses and resolves the
     * filters ({@code before}/{@code since} name images of this mirror).
     *
     * @param reference {@code REPO} or {@code REPO:TAG} as a user writes it, or null
     * @throws InvalidFilterException for a bad filter or an unknown {@code before}/{@code since} image
     * @throws io.imagemirror.reference.InvalidReferenceException for a bad reference
     */
    public Query query(String reference, boolean all, List<String> filters) {
        ImageFilters f = resolve(ImageFilters.parse(filters));
        if (reference == null || reference.isBlank()) {
            return new Query(null, null, all, f);
        }
        ImageReference written = ImageReference.parse(reference.trim());
        RepositoryName repo = names.repositoryOf(written);
        return new Query(repo.toString(), written.tag().orElse(null), all, f);
    }

    /** Resolves {@code before=}/{@code since=} against this mirror. */
    public ImageFilters resolve(ImageFilters filters) {
        return filters.resolve(this::mirroredAt);
    }

    /** When the image a reference names was mirrored (recorded), or empty when the mirror lacks it. */
    public Optional<Instant> mirroredAt(String reference) {
        ImageReference ref;
        try {
            ref = names.resolve(reference);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        return manifestOf(ref).map(ManifestRecord::recordedAt);
    }

    /** The manifest record a resolved reference names: its digest, else where its tag points. */
    public Optional<ManifestRecord> manifestOf(ImageReference ref) {
        String repo = ref.repositoryName().toString();
        Optional<Digest> digest = ref.digest().isPresent() ? ref.digest()
                : tags.getTag(repo, ref.tag().orElse(ImageReference.DEFAULT_TAG)).map(TagRecord::digest);
        return digest.flatMap(d -> manifests.getManifest(repo, d));
    }

    /**
     * The rows of {@code q} from {@code cursor} on.
     *
     * @param cursor null for the start, or a {@link Rows#cursor()} of the same query
     * @throws InvalidPageTokenException for a cursor that is not one of ours
     */
    public Rows rows(Query q, String cursor) {
        return new Rows(q, cursor);
    }

    /** What a row shows of a manifest (see the class comment). */
    public record Summary(Digest id, Instant created, long size, Map<String, String> labels) {
    }

    private final Map<String, Summary> summaries = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Summary> eldest) {
            return size() > SUMMARY_CACHE;
        }
    };

    /** The summary of a manifest of {@code record}'s repository; platforms are read by key. */
    public Summary summary(ManifestRecord record) {
        String key = record.repository() + "@" + record.digest();
        synchronized (summaries) {
            Summary s = summaries.get(key);
            if (s != null) {
                return s;
            }
        }
        Summary s = compute(record);
        synchronized (summaries) {
            summaries.put(key, s);
        }
        return s;
    }

    private Summary compute(ManifestRecord record) {
        if (!isIndex(record)) {
            Map<Digest, Long> blobs = new HashMap<>();
            record.blobs().forEach(b -> blobs.putIfAbsent(b.digest(), b.size()));
            return new Summary(record.configDigest() != null ? record.configDigest() : record.digest(),
                    record.created(), blobs.values().stream().mapToLong(Long::longValue).sum(), record.labels());
        }
        Map<Digest, Long> blobs = new HashMap<>();
        Instant created = null;
        Map<String, String> labels = null;
        for (Digest child : record.mirroredChildDigests()) {
            Optional<ManifestRecord> c = manifests.getManifest(record.repository(), child);
            if (c.isEmpty()) {
                continue; // a mirrored child is recorded before its index (invariant 2); absent only if deleted since
            }
            c.get().blobs().forEach(b -> blobs.putIfAbsent(b.digest(), b.size()));
            if (c.get().created() != null && (created == null || c.get().created().isAfter(created))) {
                created = c.get().created();
            }
            if (labels == null) {
                labels = new LinkedHashMap<>(c.get().labels());
            } else {
                labels.entrySet().retainAll(c.get().labels().entrySet());
            }
        }
        return new Summary(record.digest(), created, blobs.values().stream().mapToLong(Long::longValue).sum(),
                labels == null ? Map.of() : labels);
    }

    static boolean isIndex(ManifestRecord record) {
        return MediaTypes.isIndex(record.mediaType()) || !record.children().isEmpty();
    }

    /** The row of {@code record} under {@code tag} (null: untagged). */
    public ImageRow row(ManifestRecord record, String tag) {
        Summary s = summary(record);
        return new ImageRow(record.repository(), names.displayName(record.repository()), tag, record.digest(), s.id(),
                s.created(), s.size(), s.labels(), record.recordedAt());
    }

    /** Distinct blobs (config and layers) a manifest needs, over the stored platforms of an index. */
    public Set<Digest> blobsOf(ManifestRecord record) {
        Set<Digest> out = new LinkedHashSet<>(record.blobDigests());
        if (isIndex(record)) {
            for (Digest child : record.mirroredChildDigests()) {
                manifests.getManifest(record.repository(), child).ifPresent(c -> out.addAll(c.blobDigests()));
            }
        }
        return out;
    }

    private enum Phase {
        TAGS, DANGLING
    }

    /**
     * The rows of one query, read lazily. {@link #next} examines store items until one passes the
     * filters; {@link #cursor} is the position right after what was examined, valid until the
     * next call. Not thread-safe.
     */
    public final class Rows {
        private final Query query;
        private final boolean tagsPhase;
        private final boolean danglingPhase;
        // position: the repositories page (token, list), the repository in it, the phase and its page
        private String reposToken;
        private List<String> repos;
        private String nextReposToken;
        private int repoIndex;
        private Phase phase;
        private String pageToken;
        private List<?> page;
        private String nextPageToken;
        private int index;
        private boolean done;
        private long examined;
        private long storeReads;

        private Rows(Query query, String cursor) {
            this.query = query;
            Optional<Boolean> dangling = query.filters().dangling();
            this.tagsPhase = !dangling.orElse(false);
            this.danglingPhase = query.tag() == null && (query.all() || dangling.orElse(false))
                    && dangling.orElse(true);
            this.phase = firstPhase();
            if (cursor != null) {
                List<String> p = PageToken.decode("images", cursor, 5);
                reposToken = p.get(0).isEmpty() ? null : p.get(0);
                repoIndex = (int) PageToken.number(cursor, p.get(1));
                try {
                    phase = p.get(2).isEmpty() ? null : Phase.valueOf(p.get(2));
                } catch (IllegalArgumentException e) {
                    throw new InvalidPageTokenException(cursor);
                }
                pageToken = p.get(3).isEmpty() ? null : p.get(3);
                index = (int) PageToken.number(cursor, p.get(4));
                if (repoIndex < 0 || index < 0 || (phase == Phase.TAGS && !tagsPhase)
                        || (phase == Phase.DANGLING && !danglingPhase)) {
                    throw new InvalidPageTokenException(cursor); // not a cursor of this query
                }
            }
        }

        private Phase firstPhase() {
            return tagsPhase ? Phase.TAGS : danglingPhase ? Phase.DANGLING : null;
        }

        /** The next row that passes the filters, or null at the end. */
        public ImageRow next() {
            return next(Long.MAX_VALUE);
        }

        /**
         * The next row that passes the filters, or null at the end or once {@code maxExamined}
         * store items have been examined in all (then {@link #done()} is false and {@link #cursor}
         * continues).
         */
        public ImageRow next(long maxExamined) {
            while (!done) {
                if (repos == null) {
                    if (query.repository() != null) {
                        repos = List.of(query.repository());
                        nextReposToken = null;
                    } else {
                        Page<String> p = manifests.listRepositories(STORE_PAGE, reposToken);
                        storeReads++;
                        repos = p.items();
                        nextReposToken = p.nextToken();
                    }
                }
                if (repoIndex >= repos.size()) {
                    if (nextReposToken == null) {
                        done = true;
                        return null;
                    }
                    reposToken = nextReposToken;
                    repos = null;
                    repoIndex = 0;
                    startPhase(firstPhase());
                    continue;
                }
                String repo = repos.get(repoIndex);
                if (phase == null) {
                    repoIndex++;
                    startPhase(firstPhase());
                    continue;
                }
                if (page == null) {
                    load(repo);
                }
                if (index >= page.size()) {
                    if (nextPageToken == null) {
                        startPhase(phase == Phase.TAGS && danglingPhase ? Phase.DANGLING : null);
                    } else {
                        pageToken = nextPageToken;
                        page = null;
                        index = 0;
                    }
                    continue;
                }
                if (examined >= maxExamined) {
                    return null;
                }
                Object item = page.get(index++);
                examined++;
                ImageRow row = toRow(repo, item);
                if (row != null && query.filters().matches(row)) {
                    return row;
                }
            }
            return null;
        }

        private void startPhase(Phase p) {
            phase = p;
            pageToken = null;
            page = null;
            index = 0;
        }

        private void load(String repo) {
            Page<?> p;
            if (phase == Phase.TAGS && query.tag() != null) {
                p = Page.last(tags.getTag(repo, query.tag()).map(List::of).orElse(List.of()));
            } else if (phase == Phase.TAGS) {
                p = tags.listTags(repo, STORE_PAGE, pageToken);
            } else {
                p = manifests.listDanglingIn(repo, STORE_PAGE, pageToken);
            }
            storeReads++;
            page = p.items();
            nextPageToken = p.nextToken();
        }

        private ImageRow toRow(String repo, Object item) {
            if (item instanceof TagRecord t) {
                // A tag names a recorded manifest (invariant 3); absent only if both went since the page was read.
                return manifests.getManifest(repo, t.digest()).map(m -> row(m, t.tag())).orElse(null);
            }
            return row((ManifestRecord) item, null);
        }

        /** Whether the listing reached its end. */
        public boolean done() {
            return done;
        }

        /** Store items examined so far (tags and manifests). */
        public long examined() {
            return examined;
        }

        /** Listing pages read from the store so far (repositories, tags, dangling manifests). */
        public long storeReads() {
            return storeReads;
        }

        /** Where the listing continues, or null at its end. */
        public String cursor() {
            if (done) {
                return null;
            }
            return PageToken.encode("images", reposToken == null ? "" : reposToken, Integer.toString(repoIndex),
                    phase == null ? "" : phase.name(), pageToken == null ? "" : pageToken, Integer.toString(index));
        }
    }
}
