package io.imagemirror.sweep;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.imagemirror.config.ConfigException;
import io.imagemirror.config.MirrorConfig;
import io.imagemirror.listing.GlobPattern;
import io.imagemirror.oci.Digest;
import io.imagemirror.oci.MediaTypes;
import io.imagemirror.store.BlobRef;
import io.imagemirror.store.InMemoryBlobStore;
import io.imagemirror.store.InMemoryIndex;
import io.imagemirror.store.ManifestRecord;
import io.imagemirror.store.Storage;
import io.imagemirror.store.TagEvent;
import io.imagemirror.store.TickingClock;
import io.imagemirror.sync.Rule;
import io.imagemirror.sync.Schedule;
import io.imagemirror.sync.TagSelector;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Retention policies and {@code prune --all} in a sweep, over the store ports (in memory). */
class RetentionTest {
    private static final String REPO = "docker.io/library/app";
    private static final String OTHER = "docker.io/library/other";

    private TickingClock clock;
    private InMemoryIndex index;
    private InMemoryBlobStore blobs;
    private Storage storage;
    private final List<Rule> rules = new ArrayList<>();

    @BeforeEach
    void setUp() {
        clock = new TickingClock(Instant.parse("2026-01-01T00:00:00Z"));
        index = new InMemoryIndex(clock);
        blobs = new InMemoryBlobStore(clock);
        storage = Storage.of(blobs, new InMemoryBlobStore(clock), index, List.of());
    }

    private static Digest digest(String s) {
        return Digest.sha256(s.getBytes(StandardCharsets.UTF_8));
    }

    /** An image with a config and a layer of its own plus one layer shared by all, stored and recorded. */
    private ManifestRecord image(String repo, String name, Map<String, String> labels) throws Exception {
        List<BlobRef> refs = new ArrayList<>();
        for (String b : List.of("config " + name, "layer " + name, "shared layer")) {
            byte[] bytes = b.getBytes(StandardCharsets.UTF_8);
            Digest d = Digest.sha256(bytes);
            blobs.put(d, bytes.length, new ByteArrayInputStream(bytes));
            index.createBlobRecord(d, bytes.length);
            refs.add(new BlobRef(d, bytes.length));
        }
        ManifestRecord m = new ManifestRecord(repo, digest("manifest " + repo + name), MediaTypes.OCI_MANIFEST, 500,
                refs.get(0).digest(), refs, List.of(), null, null, null, labels, clock.instant(), null, 0);
        index.putManifest(m);
        return m;
    }

    private ManifestRecord tagged(String repo, String tag) throws Exception {
        ManifestRecord m = image(repo, tag, Map.of());
        index.setTag(repo, tag, null, m.digest(), "cli");
        clock.advance(Duration.ofMinutes(1));
        return m;
    }

    private static RetentionPolicy policy(String repos, Duration unpulled, Integer keepLatest,
                                          RetentionPolicy.Order order, String... keep) {
        return new RetentionPolicy(GlobPattern.compile(repos), unpulled, keepLatest, order,
                java.util.Arrays.stream(keep).map(com.google.re2j.Pattern::compile).toList());
    }

    private Sweeper sweeper(RetentionPolicy... policies) {
        return new Sweeper(storage, clock, Retention.of(List.of(policies), () -> List.copyOf(rules)));
    }

    /** What a sweep did, in order. */
    private static final class Seen implements Sweeper.Listener {
        final TreeSet<String> untagged = new TreeSet<>();
        final TreeSet<String> manifests = new TreeSet<>();
        final TreeSet<String> blobs = new TreeSet<>();

        @Override
        public void tagUntagged(String repository, String tag, Digest digest) {
            untagged.add(repository + ":" + tag);
        }

        @Override
        public void manifestDeleted(String repository, Digest digest, long size) {
            manifests.add(repository + "@" + digest);
        }

        @Override
        public void blobDeleted(Digest digest, long size) {
            blobs.add(digest.toString());
        }
    }

    private TreeSet<String> tags(String repo) {
        TreeSet<String> out = new TreeSet<>();
        index.listTags(repo, 1000, null).items().forEach(t -> out.add(t.tag()));
        return out;
    }

    @Test
    void keepLatestUntagsTheOlderTagsButNeverAKeptOnePinnedOneOrOneASyncRuleSelects() throws Exception {
        for (String t : List.of("a", "b", "c", "d", "e")) {
            tagged(REPO, t);
        }
        ManifestRecord pinned = index.getManifest(REPO, index.getTag(REPO, "c").orElseThrow().digest()).orElseThrow();
        index.addPin(REPO, pinned.digest());
        rules.add(new Rule("keep-b", REPO, TagSelector.of(List.of("^b$"), null, null, null), List.of(), false,
                Schedule.parse("rate(1 hour)"), null, Rule.RemovedUpstream.KEEP));
        tagged(OTHER, "old");
        tagged(OTHER, "new");

        Seen seen = new Seen();
        SweepReport r = sweeper(policy("docker.io/library/app", null, 1, RetentionPolicy.Order.MIRRORED, "^a$"))
                .run(Sweeper.DEFAULT_GRACE, false, 1, seen);
        // open tags c, d, e: e is the newest kept; c is pinned; only d goes. Other repositories are not covered.
        assertThat(seen.untagged).containsExactly(REPO + ":d");
        assertThat(tags(REPO)).containsExactly("a", "b", "c", "e");
        assertThat(tags(OTHER)).containsExactly("new", "old");
        assertThat(index.tagHistory(REPO, "d", 10, null).items()).first().extracting(TagEvent::cause)
                .isEqualTo("retention");
        // the untagged manifest dangles from now and is kept for the grace period
        assertThat(seen.manifests).isEmpty();
        assertThat(r.manifestsDeleted()).isZero();
        clock.advance(Duration.ofHours(25));
        Seen later = new Seen();
        sweeper(policy("docker.io/library/app", null, 1, RetentionPolicy.Order.MIRRORED, "^a$"))
                .run(Sweeper.DEFAULT_GRACE, false, 1, later);
        assertThat(later.untagged).isEmpty();
        assertThat(later.manifests).containsExactly(REPO + "@" + digest("manifest " + REPO + "d"));
        assertThat(later.blobs).containsExactlyInAnyOrder(digest("config d").toString(), digest("layer d").toString());
        assertThat(blobs.exists(digest("shared layer"))).isTrue();
    }

    @Test
    void unpulledForUntagsWhatWasNeitherPulledNorSetWithinThePeriod() throws Exception {
        tagged(REPO, "pulled");
        tagged(REPO, "idle");
        clock.advance(Duration.ofDays(31));
        assertThat(index.recordTagPull(REPO, "pulled")).isTrue();
        tagged(REPO, "fresh"); // set just now, never pulled
        Seen seen = new Seen();
        sweeper(policy("docker.io/library/*", Duration.ofDays(30), null, RetentionPolicy.Order.MIRRORED))
                .run(Sweeper.DEFAULT_GRACE, false, 10, seen);
        assertThat(seen.untagged).containsExactly(REPO + ":idle");
        assertThat(tags(REPO)).containsExactly("fresh", "pulled");
    }

    @Test
    void semverOrderRanksOnlyVersionsAndKeepsTheHighest() throws Exception {
        for (String t : List.of("1.10.0", "1.2.0", "latest", "v1.9", "1.11.0-rc1")) {
            tagged(REPO, t);
        }
        Seen seen = new Seen();
        sweeper(policy("docker.io/library/app", null, 2, RetentionPolicy.Order.SEMVER))
                .run(Sweeper.DEFAULT_GRACE, false, 10, seen);
        // 1.11.0-rc1 > 1.10.0 > v1.9 > 1.2.0; latest is no version and is not ranked
        assertThat(seen.untagged).containsExactly(REPO + ":1.2.0", REPO + ":v1.9");
        assertThat(tags(REPO)).containsExactly("1.10.0", "1.11.0-rc1", "latest");
    }

    @Test
    void withoutPoliciesASweepReadsNoTagsAndStartsWithTheDanglingPass() {
        Sweeper.Checkpoint c = new Sweeper(storage, clock).start(Duration.ZERO);
        assertThat(c.phase()).isEqualTo(Sweeper.Phase.UNFINISHED);
        assertThat(sweeper(policy("x/*", null, 1, RetentionPolicy.Order.MIRRORED)).start(Duration.ZERO).phase())
                .isEqualTo(Sweeper.Phase.RETENTION);
    }

    @Test
    void pruneAllDryRunReportsExactlyWhatTheRealRunThenDeletes() throws Exception {
        ManifestRecord shared = image(REPO, "shared", Map.of("team", "web"));
        index.setTag(REPO, "one", null, shared.digest(), "cli");
        index.setTag(REPO, "two", null, shared.digest(), "cli");
        ManifestRecord web = image(REPO, "web", Map.of("team", "web"));
        index.setTag(REPO, "web", null, web.digest(), "cli");
        ManifestRecord kept = image(REPO, "kept", Map.of("team", "web"));
        index.setTag(REPO, "kept", null, kept.digest(), "cli");
        index.addPin(REPO, kept.digest());
        ManifestRecord db = image(OTHER, "db", Map.of("team", "db"));
        index.setTag(OTHER, "db", null, db.digest(), "cli");
        for (int i = 0; i < 4; i++) {
            tagged(OTHER, "v" + i);
        }
        ManifestRecord old = image(OTHER, "dangling", Map.of());
        clock.advance(Duration.ofDays(2));
        PruneFilters filters = PruneFilters.parse(List.of("label=team=web", "until=1h"), clock.instant());
        Sweeper all = sweeper(policy("docker.io/library/other", null, 2, RetentionPolicy.Order.MIRRORED))
                .withRetention(Retention.of(List.of(policy("docker.io/library/other", null, 2,
                        RetentionPolicy.Order.MIRRORED)), () -> List.copyOf(rules)).alsoUntagging(filters.tagFilter()));

        Seen dry = new Seen();
        SweepReport d = all.run(filters.grace(Sweeper.DEFAULT_GRACE), true, 2, m -> true, dry);
        assertThat(tags(REPO)).as("a dry run changes nothing").containsExactly("kept", "one", "two", "web");
        assertThat(index.getManifest(OTHER, old.digest())).isPresent();

        Seen real = new Seen();
        SweepReport r = all.run(filters.grace(Sweeper.DEFAULT_GRACE), false, 2, m -> true, real);
        assertThat(real.untagged).isEqualTo(dry.untagged).contains(REPO + ":one", REPO + ":two", REPO + ":web")
                .doesNotContain(REPO + ":kept");
        // retention keeps the 2 newest of other's 5 tags; db (label team=db) goes by age, not by the filter
        assertThat(real.untagged.stream().filter(t -> t.startsWith(OTHER)))
                .containsExactly(OTHER + ":db", OTHER + ":v0", OTHER + ":v1");
        assertThat(real.manifests).isEqualTo(dry.manifests)
                .contains(REPO + "@" + shared.digest(), REPO + "@" + web.digest(), OTHER + "@" + old.digest())
                .doesNotContain(REPO + "@" + kept.digest());
        assertThat(real.blobs).isEqualTo(dry.blobs).contains(digest("config shared").toString())
                .doesNotContain(digest("shared layer").toString());
        assertThat(d.manifestsDeleted()).isEqualTo(r.manifestsDeleted());
        assertThat(d.blobsDeleted()).isEqualTo(r.blobsDeleted());
        assertThat(d.bytesReclaimed()).isEqualTo(r.bytesReclaimed());
        assertThat(tags(REPO)).containsExactly("kept");
    }

    @Test
    void retentionIsReadFromTheSweepSectionAndBadFieldsAreNamed() throws Exception {
        ObjectMapper json = new ObjectMapper();
        MirrorConfig c = MirrorConfig.fromTree(json.readTree("""
                {"sweep": {"grace": "12h", "retention": [{"repositories": "docker.io/library/*",
                  "unpulledFor": "30d", "keepLatest": 10, "order": "semver", "keep": ["^latest$"]}]}}
                """), k -> null);
        RetentionPolicy p = c.sweep().retention().get(0);
        assertThat(p.covers("docker.io/library/alpine")).isTrue();
        assertThat(p.covers("docker.io/me/alpine")).isFalse();
        assertThat(p.unpulledFor()).isEqualTo(Duration.ofDays(30));
        assertThat(p.keepLatest()).isEqualTo(10);
        assertThat(p.order()).isEqualTo(RetentionPolicy.Order.SEMVER);
        assertThat(p.keeps("latest")).isTrue();
        assertThat(c.sweep().grace()).isEqualTo(Duration.ofHours(12));
        for (String[] bad : new String[][] {
            {"{\"repositories\": \"a/*\", \"keepLatest\": 0}", "sweep.retention[0].keepLatest"},
            {"{\"repositories\": \"a/*\"}", "sweep.retention[0] needs unpulledFor or keepLatest"},
            {"{\"keepLatest\": 1}", "sweep.retention[0].repositories is required"},
            {"{\"repositories\": \"a/*\", \"keepLatest\": 1, \"order\": \"newest\"}", "sweep.retention[0].order"},
            {"{\"repositories\": \"a/*\", \"keepLatest\": 1, \"keep\": [\"(\"]}", "sweep.retention[0].keep[0]"},
            {"{\"repositories\": \"a/*\", \"keepLatest\": 1, \"tags\": 2}",
                "sweep.retention[0].tags is not a retention field"},
        }) {
            assertThatThrownBy(() -> MirrorConfig.fromTree(json.readTree("{\"sweep\": {\"retention\": [" + bad[0]
                    + "]}}"), k -> null)).isInstanceOf(ConfigException.class).hasMessageContaining(bad[1]);
        }
    }
}
