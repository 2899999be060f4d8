package io.imagemirror.listing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.imagemirror.cache.NameRouter;
import io.imagemirror.oci.Digest;
import io.imagemirror.oci.EchoedInput;
import io.imagemirror.reference.ImageReference;
import io.imagemirror.reference.ReferenceGrammar;
import io.imagemirror.store.BlobReference;
import io.imagemirror.store.BlobStore;
import io.imagemirror.store.ChildManifest;
import io.imagemirror.store.InvalidPageTokenException;
import io.imagemirror.store.ManifestRecord;
import io.imagemirror.store.Page;
import io.imagemirror.store.PageToken;
import io.imagemirror.store.Pin;
import io.imagemirror.store.Storage;
import io.imagemirror.store.TagEvent;
import io.imagemirror.store.TagRecord;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * What is in the mirror, as {@code images}, {@code history}, {@code inspect}, {@code search} and
 * {@code df} show it on the CLI and {@code /v1} answers it: one place that reads the store ports
 * for all of them, page by page. Read-only. Thread-safe.
 */
public final class MirrorViews {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** A cutoff later than any dangling time: "dangling now", without a grace period. */
    private static final Instant ANY_TIME = Instant.parse("9999-01-01T00:00:00Z");

    private final Storage storage;
    private final NameRouter names;
    private final ImageListing listing;

    public MirrorViews(Storage storage, NameRouter names) {
        this.storage = Objects.requireNonNull(storage, "storage");
        this.names = Objects.requireNonNull(names, "names");
        this.listing = new ImageListing(storage.tagIndex(), storage.manifestIndex(), names);
    }

    public ImageListing images() {
        return listing;
    }

    public NameRouter names() {
        return names;
    }

    /** An image the mirror does not have. */
    public static final class NoSuchImageException extends RuntimeException {
        public NoSuchImageException(String reference) {
            super("no such image in the mirror: " + EchoedInput.of(reference));
        }
    }

    // ---- history ----

    /**
     * The moves of the tag {@code reference} names, newest first.
     *
     * @throws IllegalArgumentException (an {@link io.imagemirror.reference.InvalidReferenceException})
     *     for a bad reference, or one that names a digest rather than a tag
     */
    public Page<TagEvent> history(String reference, int limit, String pageToken) {
        ImageReference ref = names.resolve(reference);
        if (ref.tag().isEmpty()) {
            throw new InvalidFilterException("history follows a tag; " + EchoedInput.of(reference)
                    + " names a digest (use inspect)");
        }
        return storage.tagIndex().tagHistory(ref.repositoryName().toString(), ref.tag().get(), limit, pageToken);
    }

    /** A tag move as JSON: {@code time, repository, tag, from, to, cause}. */
    public ObjectNode eventJson(TagEvent e) {
        ObjectNode o = JSON.createObjectNode();
        o.put("time", e.time().toString());
        o.put("repository", names.displayName(e.repository()));
        o.put("tag", e.tag());
        o.put("from", e.oldDigest() == null ? null : e.oldDigest().toString());
        o.put("to", e.newDigest() == null ? null : e.newDigest().toString());
        o.put("cause", e.cause());
        return o;
    }

    // ---- inspect ----

    /**
     * What {@code docker manifest inspect} and {@code docker image inspect} answer together, about
     * the manifest {@code reference} names (its tag's target, or its digest).
     *
     * @throws NoSuchImageException when the mirror does not have it
     */
    public ObjectNode inspect(String reference) {
        ImageReference ref = names.resolve(reference);
        ManifestRecord m = listing.manifestOf(ref).orElseThrow(() -> new NoSuchImageException(reference));
        String repo = m.repository();
        ImageListing.Summary s = listing.summary(m);
        ObjectNode o = JSON.createObjectNode();
        o.put("repository", names.displayName(repo));
        o.put("repositoryKey", repo);
        o.put("digest", m.digest().toString());
        o.put("mediaType", m.mediaType());
        o.put("manifestSize", m.size());
        o.put("id", s.id().toString());
        o.put("size", s.size());
        o.put("created", s.created() == null ? null : s.created().toString());
        o.put("mirroredAt", m.recordedAt().toString());
        ObjectNode labels = o.putObject("labels");
        s.labels().forEach(labels::put);
        if (m.configDigest() != null) {
            o.put("config", m.configDigest().toString());
        }
        if (ImageListing.isIndex(m)) {
            ArrayNode platforms = o.putArray("platforms");
            for (ChildManifest c : m.children()) {
                ObjectNode p = platforms.addObject();
                p.put("platform", c.platform() == null ? null : c.platform().toString());
                p.put("digest", c.digest().toString());
                p.put("mediaType", c.mediaType());
                p.put("manifestSize", c.size());
                Optional<ManifestRecord> child = c.mirrored()
                        ? storage.manifestIndex().getManifest(repo, c.digest()) : Optional.empty();
                p.put("stored", child.isPresent());
                if (child.isPresent()) {
                    p.put("size", listing.summary(child.get()).size());
                    layers(p.putArray("layers"), child.get());
                } else {
                    p.putNull("size");
                }
            }
        } else {
            layers(o.putArray("layers"), m);
        }
        if (m.subject() != null) {
            o.put("subject", m.subject().toString());
        }
        if (m.artifactType() != null) {
            o.put("artifactType", m.artifactType());
        }
        o.put("pulls", m.pullCount());
        o.put("lastPulled", m.lastPulled() == null ? null : m.lastPulled().toString());
        ArrayNode pins = o.putArray("pins");
        forEach((n, t) -> storage.pinIndex().listPins(repo, n, t), (Pin p) -> {
            if (p.digest().equals(m.digest())) {
                pins.addObject().put("time", p.time().toString());
            }
        });
        ArrayNode tags = o.putArray("tags");
        forEach((n, t) -> storage.tagIndex().listTags(repo, n, t), (TagRecord t) -> {
            if (t.digest().equals(m.digest())) {
                tags.add(t.tag());
            }
        });
        return o;
    }

    private static void layers(ArrayNode out, ManifestRecord m) {
        m.blobs().stream().filter(b -> !b.digest().equals(m.configDigest()))
                .forEach(b -> out.addObject().put("digest", b.digest().toString()).put("size", b.size()));
    }

    // ---- images as JSON ----

    /** A row as {@code /v1/images} and {@code images --format json} carry it, with raw values. */
    public static ObjectNode rowJson(ImageRow r) {
        ObjectNode o = JSON.createObjectNode();
        o.put("repository", r.repository());
        o.put("repositoryKey", r.repositoryKey());
        o.put("tag", r.tag());
        o.put("digest", r.digest().toString());
        o.put("id", r.id().toString());
        o.put("created", r.created() == null ? null : r.created().toString());
        o.put("size", r.size());
        o.put("mirroredAt", r.mirroredAt().toString());
        ObjectNode labels = o.putObject("labels");
        r.labels().forEach(labels::put);
        return o;
    }

    // ---- search ----

    /** One repository found by {@link #search}. */
    public record SearchHit(String name, String repositoryKey, boolean official) {
        public ObjectNode toJson() {
            ObjectNode o = JSON.createObjectNode();
            o.put("name", name);
            o.put("repositoryKey", repositoryKey);
            o.put("official", official);
            return o;
        }
    }

    /** The filters of {@code search}: docker's {@code is-official}; {@code stars} and {@code is-automated} do not apply. */
    public static Boolean officialFilter(List<String> filters) {
        Boolean official = null;
        for (String f : filters) {
            int eq = f.indexOf('=');
            String key = eq < 0 ? f : f.substring(0, eq).trim().toLowerCase(Locale.ROOT);
            String value = eq < 0 ? "" : f.substring(eq + 1).trim();
            switch (key) {
                case "is-official" -> {
                    if (!value.equalsIgnoreCase("true") && !value.equalsIgnoreCase("false")) {
                        throw new InvalidFilterException("invalid filter 'is-official=" + EchoedInput.of(value)
                                + "': is-official takes true or false");
                    }
                    official = Boolean.parseBoolean(value.toLowerCase(Locale.ROOT));
                }
                case "stars", "is-automated" -> throw new InvalidFilterException("invalid filter '" + key
                        + "': a mirror has no " + (key.equals("stars") ? "stars" : "automated builds")
                        + " (only is-official applies)");
                default -> throw new InvalidFilterException("invalid filter '" + EchoedInput.of(key)
                        + "' (known: is-official)");
            }
        }
        return official;
    }

    /**
     * Mirrored repositories whose name contains {@code term} (case-insensitively; the name as clients
     * write it or the canonical key), in name order, from {@code cursor} on.
     *
     * @param official {@code is-official}: Docker Hub's {@code library/} repositories only (true) or
     *     none of them (false); null for both
     * @return at most {@code limit} hits and where to continue (null at the end)
     */
    public Page<SearchHit> search(String term, Boolean official, int limit, String cursor) {
        String needle = term == null ? "" : term.trim().toLowerCase(Locale.ROOT);
        String reposToken = null;
        int index = 0;
        if (cursor != null) {
            List<String> p = PageToken.decode("search", cursor, 2);
            reposToken = p.get(0).isEmpty() ? null : p.get(0);
            index = (int) PageToken.number(cursor, p.get(1));
            if (index < 0) {
                throw new InvalidPageTokenException(cursor);
            }
        }
        List<SearchHit> hits = new ArrayList<>();
        while (true) {
            Page<String> repos = storage.manifestIndex().listRepositories(ImageListing.STORE_PAGE, reposToken);
            List<String> items = repos.items();
            while (index < items.size()) {
                String key = items.get(index++);
                String name = names.displayName(key);
                boolean isOfficial = key.startsWith(ReferenceGrammar.DOCKER_HUB + "/" + ReferenceGrammar.OFFICIAL_NAMESPACE
                        + "/") && key.indexOf('/', (ReferenceGrammar.DOCKER_HUB + "/library/").length()) < 0;
                if ((name.contains(needle) || key.contains(needle)) && (official == null || official == isOfficial)) {
                    hits.add(new SearchHit(name, key, isOfficial));
                    if (hits.size() == limit) {
                        boolean more = index < items.size() || repos.nextToken() != null;
                        return new Page<>(hits, more ? PageToken.encode("search",
                                reposToken == null ? "" : reposToken, Integer.toString(index)) : null);
                    }
                }
            }
            if (repos.nextToken() == null) {
                return Page.last(hits);
            }
            reposToken = repos.nextToken();
            index = 0;
        }
    }

    // ---- df ----

    /**
     * What {@code image-mirror df} reports, like {@code docker system df}.
     *
     * @param repositories repositories with a recorded manifest
     * @param images distinct manifests a tag or pin names (a multi-platform image counts once)
     * @param tags tags
     * @param manifests manifest records, platforms of an index included
     * @param blobs blob objects stored
     * @param storedBytes bytes of those blobs: each layer and config once, however many images share it
     * @param unsharedBytes what the images would take if no layer were shared: the sum of their SIZEs
     * @param dangling manifests no tag, pin or kept index references
     * @param reclaimableBytes bytes of blobs that only dangling manifests reference (what a prune frees)
     * @param pulls manifests served to clients, counted over all manifest records
     */
    public record Usage(long repositories, long images, long tags, long manifests, long blobs, long storedBytes,
                        long unsharedBytes, long dangling, long reclaimableBytes, long pulls) {

        /**
         * Bytes layer sharing saved: what the images would take unshared, less what is stored for them
         * (the stored bytes without those only dangling manifests hold).
         */
        public long savedBytes() {
            return Math.max(0, unsharedBytes - (storedBytes - reclaimableBytes));
        }

        public ObjectNode toJson() {
            ObjectNode o = JSON.createObjectNode();
            o.put("repositories", repositories);
            o.put("images", images);
            o.put("tags", tags);
            o.put("manifests", manifests);
            o.put("blobs", blobs);
            o.put("storedBytes", storedBytes);
            o.put("unsharedBytes", unsharedBytes);
            o.put("savedBytes", savedBytes());
            o.put("dangling", dangling);
            o.put("reclaimableBytes", reclaimableBytes);
            o.put("pulls", pulls);
            return o;
        }
    }

    /**
     * Counts the mirror, page by page. Holds one repository's distinct image digests at a time and
     * the set of dangling manifests (what a prune would remove).
     */
    public Usage usage() {
        long[] repositories = {0};
        long[] images = {0};
        long[] tags = {0};
        long[] manifests = {0};
        long[] unshared = {0};
        long[] pulls = {0};
        forEach((n, t) -> storage.manifestIndex().listRepositories(n, t), (String repo) -> {
            repositories[0]++;
            Set<Digest> named = new HashSet<>();
            forEach((n, t) -> storage.tagIndex().listTags(repo, n, t), (TagRecord t) -> {
                tags[0]++;
                named.add(t.digest());
            });
            forEach((n, t) -> storage.pinIndex().listPins(repo, n, t), (Pin p) -> named.add(p.digest()));
            for (Digest d : named) {
                storage.manifestIndex().getManifest(repo, d).ifPresent(m -> {
                    images[0]++;
                    unshared[0] += listing.summary(m).size();
                });
            }
            forEach((n, t) -> storage.manifestIndex().listManifests(repo, n, t), (ManifestRecord m) -> {
                manifests[0]++;
                pulls[0] += m.pullCount();
            });
        });
        long[] blobs = {0};
        long[] stored = {0};
        forEach((n, t) -> storage.blobs().list(n, t), (BlobStore.Info i) -> {
            blobs[0]++;
            stored[0] += i.size();
        });
        Set<String> dangling = new HashSet<>();
        List<ManifestRecord> danglingRecords = new ArrayList<>();
        forEach((n, t) -> storage.manifestIndex().listDangling(ANY_TIME, n, t), (ManifestRecord m) -> {
            if (dangling.add(m.repository() + "@" + m.digest())) {
                danglingRecords.add(m);
            }
        });
        long reclaimable = 0;
        Set<Digest> counted = new HashSet<>();
        for (ManifestRecord m : danglingRecords) {
            for (var b : m.blobs()) {
                if (counted.contains(b.digest())) {
                    continue;
                }
                boolean[] onlyDangling = {true};
                forEach((n, t) -> storage.blobIndex().referencingManifests(b.digest(), n, t), (BlobReference r) -> {
                    if (!dangling.contains(r.repository() + "@" + r.manifest())) {
                        onlyDangling[0] = false;
                    }
                });
                if (onlyDangling[0]) {
                    counted.add(b.digest());
                    reclaimable += b.size();
                }
            }
        }
        return new Usage(repositories[0], images[0], tags[0], manifests[0], blobs[0], stored[0], unshared[0],
                dangling.size(), reclaimable, pulls[0]);
    }

    /** Every item of a paged listing, a store page at a time. */
    private static <T> void forEach(Lister<T> lister, java.util.function.Consumer<T> each) {
        String token = null;
        do {
            Page<T> page = lister.page(Page.MAX_LIMIT, token);
            page.items().forEach(each);
            token = page.nextToken();
        } while (token != null);
    }

    @FunctionalInterface
    private interface Lister<T> {
        Page<T> page(int limit, String token);
    }

}
