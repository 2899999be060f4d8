package io.imagemirror.listing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imagemirror.cache.NameRouter;
import io.imagemirror.config.MirrorConfig;
import io.imagemirror.oci.Digest;
import io.imagemirror.oci.MediaTypes;
import io.imagemirror.oci.Platform;
import io.imagemirror.store.BlobRef;
import io.imagemirror.store.ChildManifest;
import io.imagemirror.store.InMemoryIndex;
import io.imagemirror.store.InvalidPageTokenException;
import io.imagemirror.store.ManifestRecord;
import io.imagemirror.store.Page;
import io.imagemirror.store.Storage;
import io.imagemirror.store.TagEvent;
import io.imagemirror.store.TagIndex;
import io.imagemirror.store.TagRecord;
import io.imagemirror.store.TickingClock;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** {@link ImageListing} and {@link MirrorViews} over the in-memory store: rows, sizes, dangling, filters, paging. */
class ImageListingTest {

    final TickingClock clock = new TickingClock(Instant.parse("2026-11-01T10:00:00Z"));
    final Storage storage = InMemoryIndex.storage(clock);
    final NameRouter names = new NameRouter(MirrorConfig.defaults());
    final MirrorViews views = new MirrorViews(storage, names);
    static final String WEB = "docker.io/library/app-web";
    static final String DB = "docker.io/library/app-db";

    static Digest digest(String seed) {
        return Digest.sha256(seed.getBytes(StandardCharsets.UTF_8));
    }

    ManifestRecord image(String repo, String name, Map<String, String> labels, long... layers) {
        Digest config = digest("config " + name);
        List<BlobRef> blobs = new ArrayList<>(List.of(new BlobRef(config, 100)));
        for (int i = 0; i < layers.length; i++) {
            blobs.add(new BlobRef(digest("layer " + (layers[i] < 0 ? "shared" : name + i)), Math.abs(layers[i])));
        }
        ManifestRecord m = new ManifestRecord(repo, digest("manifest " + name), MediaTypes.OCI_MANIFEST, 500, config,
                blobs, List.of(), null, null, Instant.parse("2024-01-01T00:00:00Z"), labels, clock.instant(), null, 0);
        storage.manifestIndex().putManifest(m);
        return m;
    }

    void tag(ManifestRecord m, String tag) {
        Digest current = storage.tagIndex().getTag(m.repository(), tag).map(TagRecord::digest).orElse(null);
        storage.tagIndex().setTag(m.repository(), tag, current, m.digest(), "cli");
    }

    List<String> lines(String reference, boolean all, String... filters) {
        ImageListing l = views.images();
        ImageListing.Rows rows = l.rows(l.query(reference, all, List.of(filters)), null);
        List<String> out = new ArrayList<>();
        for (ImageRow r = rows.next(); r != null; r = rows.next()) {
            out.add(r.repository() + ":" + (r.tag() == null ? "<none>" : r.tag()));
        }
        return out;
    }

    @Test
    void rowsShowConfigIdsStoredSizesAndIndexesSummedOverStoredPlatforms() {
        ManifestRecord web1 = image(WEB, "web1", Map.of("team", "a"), 1000, -5000);
        tag(web1, "1");
        ManifestRecord amd = image(WEB, "amd", Map.of("team", "a", "arch", "amd"), 2000, -5000);
        ManifestRecord arm = image(WEB, "arm", Map.of("team", "a", "arch", "arm"), 3000, -5000);
        ManifestRecord idx = new ManifestRecord(WEB, digest("index"), MediaTypes.OCI_INDEX, 300, null, List.of(),
                List.of(new ChildManifest(amd.digest(), MediaTypes.OCI_MANIFEST, 500, Platform.parse("linux/amd64"), true),
                        new ChildManifest(arm.digest(), MediaTypes.OCI_MANIFEST, 500, Platform.parse("linux/arm64"), true),
                        new ChildManifest(digest("s390x"), MediaTypes.OCI_MANIFEST, 500, Platform.parse("linux/s390x"),
                                false)),
                null, null, null, Map.of(), clock.instant(), null, 0);
        storage.manifestIndex().putManifest(idx);
        tag(idx, "multi");

        ImageListing l = views.images();
        ImageListing.Rows rows = l.rows(l.query(null, false, List.of()), null);
        ImageRow one = rows.next();
        ImageRow multi = rows.next();
        assertThat(rows.next()).isNull();
        assertThat(one.repository()).isEqualTo("app-web");
        assertThat(one.id()).isEqualTo(web1.configDigest());
        assertThat(one.size()).isEqualTo(100 + 1000 + 5000);
        assertThat(multi.id()).as("a multi-platform image's ID is its index digest").isEqualTo(idx.digest());
        // both configs, both own layers, the shared layer once; the unstored platform not at all
        assertThat(multi.size()).isEqualTo(100 + 100 + 2000 + 3000 + 5000);
        assertThat(multi.labels()).as("labels every stored platform has").containsExactly(Map.entry("team", "a"));

        var inspect = views.inspect("app-web:multi");
        assertThat(inspect.get("platforms")).hasSize(3);
        assertThat(inspect.at("/platforms/0/stored").asBoolean()).isTrue();
        assertThat(inspect.at("/platforms/0/size").asLong()).isEqualTo(100 + 2000 + 5000);
        assertThat(inspect.at("/platforms/2/platform").asText()).isEqualTo("linux/s390x");
        assertThat(inspect.at("/platforms/2/stored").asBoolean()).isFalse();
        assertThat(inspect.at("/tags/0").asText()).isEqualTo("multi");

        MirrorViews.Usage u = views.usage();
        assertThat(u.images()).isEqualTo(2);
        assertThat(u.tags()).isEqualTo(2);
        assertThat(u.manifests()).isEqualTo(4);
        assertThat(u.unsharedBytes()).isEqualTo(one.size() + multi.size());
        assertThat(u.dangling()).isZero();
    }

    @Test
    void danglingAllAndFiltersFollowDocker() {
        ManifestRecord v1 = image(WEB, "v1", Map.of(), 10);
        tag(v1, "1.5");
        ManifestRecord v2 = image(WEB, "v2", Map.of(), 20);
        tag(v2, "1.5");
        ManifestRecord v3 = image(WEB, "v3", Map.of("team", "a"), 30);
        tag(v3, "1.5");
        ManifestRecord db = image(DB, "db", Map.of("team", "b"), 40);
        tag(db, "1");

        assertThat(lines(null, false)).containsExactly("app-db:1", "app-web:1.5");
        assertThat(lines(null, true)).containsExactlyInAnyOrder("app-db:1", "app-web:1.5", "app-web:<none>",
                "app-web:<none>");
        ImageListing l = views.images();
        ImageListing.Rows dangling = l.rows(l.query(null, false, List.of("dangling=true")), null);
        List<Digest> left = new ArrayList<>();
        for (ImageRow r = dangling.next(); r != null; r = dangling.next()) {
            left.add(r.digest());
        }
        assertThat(left).containsExactlyInAnyOrder(v1.digest(), v2.digest());
        assertThat(lines(null, true, "dangling=false")).containsExactly("app-db:1", "app-web:1.5");
        assertThat(lines(null, false, "since=app-web:1.5")).containsExactly("app-db:1");
        assertThat(lines(null, false, "before=app-db:1")).containsExactly("app-web:1.5");
        assertThat(lines(null, false, "label=team=b")).containsExactly("app-db:1");
        assertThat(lines(null, false, "reference=app-*:1")).containsExactly("app-db:1");
        assertThat(lines("app-web", true)).containsExactlyInAnyOrder("app-web:1.5", "app-web:<none>", "app-web:<none>");
        assertThat(lines("app-web:1.5", true)).containsExactly("app-web:1.5");
        assertThatThrownBy(() -> lines(null, false, "before=nope:1")).isInstanceOf(InvalidFilterException.class)
                .hasMessageContaining("nope:1");

        Page<TagEvent> history = views.history("app-web:1.5", 10, null);
        assertThat(history.items()).extracting(TagEvent::newDigest).containsExactly(v3.digest(), v2.digest(), v1.digest());
        assertThat(history.items().get(2).oldDigest()).isNull();

        MirrorViews.Usage u = views.usage();
        assertThat(u.dangling()).isEqualTo(2);
        assertThat(u.reclaimableBytes()).as("the dangling manifests' own configs and layers")
                .isEqualTo(100 + 10 + 100 + 20);
    }

    @Test
    void aCursorContinuesExactlyWhereThePageEnded() {
        for (int r = 0; r < 3; r++) {
            for (int t = 0; t < 7; t++) {
                ManifestRecord m = image("docker.io/library/repo" + r, "m" + r + "-" + t, Map.of(), 10);
                tag(m, "t" + t);
            }
            image("docker.io/library/repo" + r, "dangling" + r, Map.of(), 10);
        }
        List<String> whole = lines(null, true);
        assertThat(whole).hasSize(24);
        ImageListing l = views.images();
        ImageListing.Query q = l.query(null, true, List.of());
        List<String> paged = new ArrayList<>();
        String cursor = null;
        do {
            ImageListing.Rows rows = l.rows(q, cursor);
            for (int i = 0; i < 5; i++) {
                ImageRow r = rows.next();
                if (r == null) {
                    break;
                }
                paged.add(r.repository() + ":" + (r.tag() == null ? "<none>" : r.tag()));
            }
            cursor = rows.cursor();
        } while (cursor != null);
        assertThat(paged).isEqualTo(whole);
        assertThatThrownBy(() -> l.rows(q, "garbage")).isInstanceOf(InvalidPageTokenException.class);
    }

    /** Counts tag pages read, to show the listing is read as it prints. */
    static final class CountingTags implements TagIndex {
        final TagIndex inner;
        final AtomicInteger pages = new AtomicInteger();

        CountingTags(TagIndex inner) {
            this.inner = inner;
        }

        @Override
        public Optional<TagRecord> getTag(String repository, String tag) {
            return inner.getTag(repository, tag);
        }

        @Override
        public Page<TagRecord> listTags(String repository, int limit, String pageToken) {
            pages.incrementAndGet();
            return inner.listTags(repository, limit, pageToken);
        }

        @Override
        public Page<TagEvent> tagHistory(String repository, String tag, int limit, String pageToken) {
            return inner.tagHistory(repository, tag, limit, pageToken);
        }

        @Override
        public boolean replaceTag(String repository, String tag, Digest current, Digest next, String cause) {
            return inner.replaceTag(repository, tag, current, next, cause);
        }

        @Override
        public boolean recordTagPull(String repository, String tag) {
            return inner.recordTagPull(repository, tag);
        }
    }

    @Test
    void a100000TagListingPrintsItsFirstLinesAfterOneStorePageAndReadsAsItPrints() {
        ManifestRecord m = image(WEB, "many", Map.of(), 10);
        int total = 100_000;
        for (int i = 0; i < total; i++) {
            storage.tagIndex().setTag(WEB, String.format("t%06d", i), null, m.digest(), "cli");
        }
        CountingTags counting = new CountingTags(storage.tagIndex());
        ImageListing listing = new ImageListing(counting, storage.manifestIndex(), names);
        List<Integer> pagesAtLine = new ArrayList<>();
        Appendable out = new Appendable() {
            @Override
            public Appendable append(CharSequence s) {
                s.chars().filter(c -> c == '\n').forEach(c -> pagesAtLine.add(counting.pages.get()));
                return this;
            }

            @Override
            public Appendable append(CharSequence s, int start, int end) {
                return append(s.subSequence(start, end));
            }

            @Override
            public Appendable append(char c) {
                return append(String.valueOf(c));
            }
        };
        ImageFormat.Printer printer = ImageFormat.of(null, false, false, false).printer(out, clock);
        ImageListing.Rows rows = listing.rows(listing.query(null, false, List.of()), null);
        for (ImageRow r = rows.next(); r != null; r = rows.next()) {
            printer.row(r);
        }
        printer.finish();

        assertThat(pagesAtLine).hasSize(total + 1); // the header
        assertThat(pagesAtLine.get(0)).as("tag pages read when the first line printed").isEqualTo(1);
        int pages = total / ImageListing.STORE_PAGE;
        assertThat(counting.pages.get()).isBetween(pages, pages + 1);
        // Line k is printed before page k / STORE_PAGE + 2 is read: never more than a page and the
        // table's first window are held, however long the listing.
        for (int line = 1; line < pagesAtLine.size(); line += 997) {
            assertThat(pagesAtLine.get(line)).as("pages read at line " + line)
                    .isLessThanOrEqualTo(line / ImageListing.STORE_PAGE + 2);
        }
    }
}
