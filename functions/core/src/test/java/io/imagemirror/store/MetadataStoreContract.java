package io.imagemirror.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imagemirror.oci.Digest;
import io.imagemirror.oci.MediaTypes;
import io.imagemirror.oci.Platform;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.BiFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link MetadataStore} does. Subclass once per adapter and give a fresh, empty store
 * per test that reads its time from the given clock.
 */
public abstract class MetadataStoreContract {

    protected TickingClock clock;
    protected MetadataStore store;
    /** Each test works in its own repositories, so a shared backend never mixes tests. */
    protected String repo;
    protected String otherRepo;

    protected abstract MetadataStore newStore(TickingClock clock) throws Exception;

    protected void cleanUp(MetadataStore store) throws Exception {
        store.close();
    }

    @BeforeEach
    void openStore() throws Exception {
        clock = new TickingClock();
        store = newStore(clock);
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        repo = "registry.test:5000/team/app-" + suffix;
        otherRepo = "docker.io/library/alpine-" + suffix;
    }

    @AfterEach
    void closeStore() throws Exception {
        cleanUp(store);
    }

    protected static Digest digest(String s) {
        return Digest.sha256(s.getBytes(StandardCharsets.UTF_8));
    }

    protected ManifestRecord image(String repository, String name) {
        Digest config = digest("config " + name);
        return new ManifestRecord(repository, digest("manifest " + name), MediaTypes.OCI_MANIFEST, 1234,
                config, List.of(new BlobRef(config, 456), new BlobRef(digest("layer " + name), 7890)), List.of(),
                null, null, Instant.parse("2024-05-06T07:08:09.123456Z"), Map.of("org.opencontainers.image.title",
                name, "b", "2"), clock.instant(), null, 0);
    }

    protected ManifestRecord index(String repository, String name, ManifestRecord... mirrored) {
        List<ChildManifest> children = new ArrayList<>();
        for (ManifestRecord m : mirrored) {
            children.add(new ChildManifest(m.digest(), m.mediaType(), m.size(), Platform.parse("linux/arm64"), true));
        }
        children.add(new ChildManifest(digest("not mirrored " + name), MediaTypes.OCI_MANIFEST, 99,
                Platform.parse("linux/s390x"), false));
        children.add(new ChildManifest(digest("attestation " + name), MediaTypes.OCI_MANIFEST, 98, null, false));
        return new ManifestRecord(repository, digest("index " + name), MediaTypes.OCI_INDEX, 777, null, List.of(),
                children, digest("subject " + name), "application/vnd.example+type", null, Map.of(),
                clock.instant(), null, 0);
    }

    protected static <T> List<T> all(BiFunction<Integer, String, Page<T>> lister, int pageSize) {
        List<T> out = new ArrayList<>();
        String token = null;
        int pages = 0;
        do {
            Page<T> page = lister.apply(pageSize, token);
            assertThat(page.items().size()).isLessThanOrEqualTo(pageSize);
            out.addAll(page.items());
            token = page.nextToken();
            assertThat(++pages).as("pages").isLessThan(1000);
        } while (token != null);
        return out;
    }

    /** Like {@link #all} but asserts more than one page was needed. */
    protected static <T> List<T> allInPages(BiFunction<Integer, String, Page<T>> lister, int pageSize) {
        Page<T> first = lister.apply(pageSize, null);
        assertThat(first.nextToken()).as("a first page of " + pageSize + " has a next token").isNotNull();
        return all(lister, pageSize);
    }

    private List<Digest> danglingIn(String repository) {
        return all((n, t) -> store.listDangling(clock.instant(), n, t), 100).stream()
                .filter(m -> m.repository().equals(repository)).map(ManifestRecord::digest).toList();
    }

    // ---- manifests ----

    @Test
    void manifestRecordRoundTripsAndCreateIsIdempotent() {
        ManifestRecord m = image(repo, "a");
        assertThat(store.putManifest(m)).isTrue();
        assertThat(store.getManifest(repo, m.digest())).contains(m);
        ManifestRecord changed = new ManifestRecord(repo, m.digest(), MediaTypes.DOCKER_MANIFEST, 1, null, List.of(),
                List.of(), null, null, null, Map.of(), clock.instant(), null, 0);
        assertThat(store.putManifest(changed)).isFalse();
        assertThat(store.getManifest(repo, m.digest())).contains(m);
        assertThat(store.getManifest(otherRepo, m.digest())).isEmpty();
    }

    @Test
    void indexRecordKeepsChildrenPlatformsAndSubject() {
        ManifestRecord child = image(repo, "arm");
        store.putManifest(child);
        ManifestRecord idx = index(repo, "multi", child);
        assertThat(store.putManifest(idx)).isTrue();
        ManifestRecord back = store.getManifest(repo, idx.digest()).orElseThrow();
        assertThat(back).isEqualTo(idx);
        assertThat(back.children().get(0).platform()).isEqualTo(Platform.parse("linux/arm64/v8"));
        assertThat(back.children().get(2).platform()).isNull();
        assertThat(back.mirroredChildDigests()).containsExactly(child.digest());
    }

    @Test
    void indexWhoseMirroredChildIsNotRecordedIsRefused() {
        ManifestRecord child = image(repo, "missing");
        ManifestRecord idx = index(repo, "broken", child);
        assertThatThrownBy(() -> store.putManifest(idx)).isInstanceOf(MissingManifestException.class);
        assertThat(store.getManifest(repo, idx.digest())).isEmpty();
    }

    @Test
    void concurrentPutsOfOneManifestCreateItOnce() throws Exception {
        ManifestRecord m = image(repo, "race");
        List<Boolean> created = Concurrently.run(8, i -> () -> store.putManifest(m));
        assertThat(created).containsOnlyOnce(true);
        assertThat(store.getManifest(repo, m.digest())).contains(m);
    }

    @Test
    void manifestsOfARepositoryPageInDigestOrder() {
        List<Digest> expected = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            ManifestRecord m = image(repo, "m" + i);
            store.putManifest(m);
            expected.add(m.digest());
        }
        store.putManifest(image(otherRepo, "elsewhere"));
        expected.sort(null);
        assertThat(allInPages((n, t) -> store.listManifests(repo, n, t), 2)).extracting(ManifestRecord::digest)
                .containsExactlyElementsOf(expected);
    }

    @Test
    void repositoriesPageInLexicalOrder() {
        List<String> mine = new ArrayList<>();
        for (String name : List.of("zeta", "alpha", "mid/sub", "beta")) {
            String r = repo + "/" + name;
            store.putManifest(image(r, name));
            mine.add(r);
        }
        mine.sort(null);
        List<String> listed = allInPages((n, t) -> store.listRepositories(n, t), 2);
        assertThat(listed).isSorted().doesNotHaveDuplicates();
        assertThat(listed.stream().filter(mine::contains).toList()).containsExactlyElementsOf(mine);
    }

    @Test
    void pullsAreCounted() {
        ManifestRecord m = image(repo, "pulled");
        store.putManifest(m);
        assertThat(store.recordPull(repo, m.digest())).isTrue();
        assertThat(store.recordPull(repo, m.digest())).isTrue();
        ManifestRecord back = store.getManifest(repo, m.digest()).orElseThrow();
        assertThat(back.pullCount()).isEqualTo(2);
        assertThat(back.lastPulled()).isAfter(m.recordedAt());
        assertThat(store.recordPull(repo, digest("nothing"))).isFalse();
    }

    // ---- tags ----

    @Test
    void tagCompareAndSet() {
        ManifestRecord one = image(repo, "one");
        ManifestRecord two = image(repo, "two");
        store.putManifest(one);
        store.putManifest(two);

        assertThat(store.setTag(repo, "1.0", null, one.digest(), "mirror")).isEqualTo(TagUpdate.UPDATED);
        TagRecord t = store.getTag(repo, "1.0").orElseThrow();
        assertThat(t.digest()).isEqualTo(one.digest());
        assertThat(t.repository()).isEqualTo(repo);
        assertThat(t.updatedAt()).isNotNull();

        assertThat(store.setTag(repo, "1.0", null, one.digest(), "retry")).isEqualTo(TagUpdate.UNCHANGED);
        assertThat(store.setTag(repo, "1.0", null, two.digest(), "stale")).isEqualTo(TagUpdate.CONFLICT);
        assertThat(store.setTag(repo, "1.0", two.digest(), two.digest(), "stale")).isEqualTo(TagUpdate.CONFLICT);
        assertThat(store.setTag(repo, "1.0", one.digest(), two.digest(), "sync")).isEqualTo(TagUpdate.UPDATED);
        assertThat(store.getTag(repo, "1.0").orElseThrow().digest()).isEqualTo(two.digest());
        assertThat(store.getTag(otherRepo, "1.0")).isEmpty();
        assertThat(store.getTag(repo, "2.0")).isEmpty();
    }

    @Test
    void tagNeedsARecordedManifest() {
        assertThatThrownBy(() -> store.setTag(repo, "latest", null, digest("unrecorded"), "mirror"))
                .isInstanceOf(MissingManifestException.class);
        assertThat(store.getTag(repo, "latest")).isEmpty();
        assertThat(all((n, t) -> store.tagHistory(repo, "latest", n, t), 10)).isEmpty();
    }

    @Test
    void tagCompareAndSetUnderContentionHasOneWinnerPerRound() throws Exception {
        List<ManifestRecord> ms = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            ManifestRecord m = image(repo, "contender" + i);
            store.putManifest(m);
            ms.add(m);
        }
        store.setTag(repo, "hot", null, ms.get(0).digest(), "start");
        int updates = 1;
        for (int round = 0; round < 3; round++) {
            Digest current = store.getTag(repo, "hot").orElseThrow().digest();
            List<TagUpdate> outcomes = Concurrently.run(8, i -> () ->
                    store.setTag(repo, "hot", current, ms.get(i).digest(), "contender " + i));
            long won = outcomes.stream().filter(o -> o == TagUpdate.UPDATED).count();
            long unchanged = outcomes.stream().filter(o -> o == TagUpdate.UNCHANGED).count();
            // the one whose digest is already current reports UNCHANGED unless another moved it first
            assertThat(won).as("winners in round " + round + ": " + outcomes).isEqualTo(1);
            assertThat(unchanged).isLessThanOrEqualTo(1);
            updates += (int) won;
        }
        List<TagEvent> events = all((n, t) -> store.tagHistory(repo, "hot", n, t), 10);
        assertThat(events).hasSize(updates);
        for (int i = 0; i + 1 < events.size(); i++) {
            assertThat(events.get(i).oldDigest()).isEqualTo(events.get(i + 1).newDigest());
        }
        assertThat(events.get(0).newDigest()).isEqualTo(store.getTag(repo, "hot").orElseThrow().digest());
    }

    @Test
    void historyIsNewestFirstAndSurvivesDeletion() {
        List<ManifestRecord> ms = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            ManifestRecord m = image(repo, "v" + i);
            store.putManifest(m);
            ms.add(m);
        }
        Digest previous = null;
        for (int i = 0; i < 4; i++) {
            assertThat(store.setTag(repo, "stable", previous, ms.get(i).digest(), "move " + i))
                    .isEqualTo(TagUpdate.UPDATED);
            previous = ms.get(i).digest();
        }
        store.setTag(repo, "other", null, ms.get(0).digest(), "unrelated");
        assertThat(store.deleteTag(repo, "stable", ms.get(0).digest(), "rm")).isEqualTo(TagUpdate.CONFLICT);
        assertThat(store.deleteTag(repo, "stable", previous, "rm")).isEqualTo(TagUpdate.UPDATED);
        assertThat(store.deleteTag(repo, "stable", previous, "rm again")).isEqualTo(TagUpdate.UNCHANGED);
        assertThat(store.getTag(repo, "stable")).isEmpty();

        List<TagEvent> events = allInPages((n, t) -> store.tagHistory(repo, "stable", n, t), 2);
        assertThat(events).extracting(TagEvent::cause).containsExactly("rm", "move 3", "move 2", "move 1", "move 0");
        assertThat(events.get(0).oldDigest()).isEqualTo(ms.get(3).digest());
        assertThat(events.get(0).newDigest()).isNull();
        assertThat(events.get(4).oldDigest()).isNull();
        assertThat(events.get(4).newDigest()).isEqualTo(ms.get(0).digest());
        assertThat(events).allSatisfy(e -> {
            assertThat(e.repository()).isEqualTo(repo);
            assertThat(e.tag()).isEqualTo("stable");
        });
        for (int i = 0; i + 1 < events.size(); i++) {
            assertThat(events.get(i).time()).isAfter(events.get(i + 1).time());
        }
        // a deleted tag can be created again and its history goes on
        assertThat(store.setTag(repo, "stable", null, ms.get(1).digest(), "again")).isEqualTo(TagUpdate.UPDATED);
        assertThat(store.tagHistory(repo, "stable", 1, null).items()).extracting(TagEvent::cause)
                .containsExactly("again");
    }

    @Test
    void tagsListInLexicalOrderAcrossPages() {
        ManifestRecord m = image(repo, "tagged");
        store.putManifest(m);
        List<String> names = new ArrayList<>(List.of("latest", "1", "1.0", "1.0.1", "a-b", "A", "_x", "z"));
        for (String n : names) {
            store.setTag(repo, n, null, m.digest(), "mirror");
        }
        store.putManifest(image(otherRepo, "tagged"));
        store.setTag(otherRepo, "zz", null, m.digest(), "x");
        store.deleteTag(repo, "z", m.digest(), "rm");
        names.remove("z");
        names.sort(null);
        assertThat(allInPages((n, t) -> store.listTags(repo, n, t), 3)).extracting(TagRecord::tag)
                .containsExactlyElementsOf(names);
    }

    // ---- pins ----

    @Test
    void pinsAddListRemove() {
        List<Digest> pinned = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            ManifestRecord m = image(repo, "pin" + i);
            store.putManifest(m);
            assertThat(store.addPin(repo, m.digest())).isTrue();
            assertThat(store.addPin(repo, m.digest())).isFalse();
            pinned.add(m.digest());
        }
        pinned.sort(null);
        List<Pin> pins = allInPages((n, t) -> store.listPins(repo, n, t), 2);
        assertThat(pins).extracting(Pin::digest).containsExactlyElementsOf(pinned);
        assertThat(pins).allSatisfy(p -> assertThat(p.time()).isNotNull());
        assertThat(store.removePin(repo, pinned.get(0))).isTrue();
        assertThat(store.removePin(repo, pinned.get(0))).isFalse();
        assertThat(all((n, t) -> store.listPins(repo, n, t), 10)).hasSize(4);
        assertThatThrownBy(() -> store.addPin(repo, digest("unrecorded"))).isInstanceOf(MissingManifestException.class);
    }

    // ---- dangling ----

    @Test
    void danglingFollowsTagsPinsAndParents() {
        ManifestRecord a = image(repo, "a");
        ManifestRecord b = image(repo, "b");
        ManifestRecord child = image(repo, "child");
        store.putManifest(a);
        store.putManifest(b);
        store.putManifest(child);
        assertThat(danglingIn(repo)).containsExactlyInAnyOrder(a.digest(), b.digest(), child.digest());

        ManifestRecord idx = index(repo, "idx", child);
        store.putManifest(idx);
        store.setTag(repo, "latest", null, a.digest(), "mirror");
        store.addPin(repo, b.digest());
        assertThat(danglingIn(repo)).containsExactly(idx.digest());

        store.setTag(repo, "latest", a.digest(), idx.digest(), "sync");
        assertThat(danglingIn(repo)).containsExactly(a.digest());
        store.removePin(repo, b.digest());
        assertThat(danglingIn(repo)).containsExactlyInAnyOrder(a.digest(), b.digest());
        // a manifest with two tags stays kept while one remains
        store.setTag(repo, "v1", null, idx.digest(), "mirror");
        store.deleteTag(repo, "latest", idx.digest(), "rm");
        assertThat(danglingIn(repo)).containsExactlyInAnyOrder(a.digest(), b.digest());
        store.deleteTag(repo, "v1", idx.digest(), "rm");
        assertThat(danglingIn(repo)).containsExactlyInAnyOrder(a.digest(), b.digest(), idx.digest());
        // the same digest in another repository is a separate record
        store.putManifest(image(otherRepo, "a"));
        store.setTag(otherRepo, "latest", null, a.digest(), "mirror");
        assertThat(danglingIn(repo)).contains(a.digest());
    }

    @Test
    void deletingADanglingIndexMakesItsChildrenDangling() {
        ManifestRecord c1 = image(repo, "c1");
        ManifestRecord c2 = image(repo, "c2");
        store.putManifest(c1);
        store.putManifest(c2);
        ManifestRecord idx = index(repo, "idx", c1, c2);
        store.putManifest(idx);
        store.setTag(repo, "latest", null, idx.digest(), "mirror");
        assertThat(store.deleteManifestIfDangling(repo, idx.digest(), clock.instant())).isFalse();
        assertThat(store.deleteManifestIfDangling(repo, c1.digest(), clock.instant())).isFalse();
        store.deleteTag(repo, "latest", idx.digest(), "rm");
        assertThat(danglingIn(repo)).containsExactly(idx.digest());
        assertThat(store.deleteManifestIfDangling(repo, idx.digest(), clock.instant())).isTrue();
        assertThat(store.deleteManifestIfDangling(repo, idx.digest(), clock.instant())).isFalse();
        assertThat(store.getManifest(repo, idx.digest())).isEmpty();
        assertThat(danglingIn(repo)).containsExactlyInAnyOrder(c1.digest(), c2.digest());
        assertThat(store.deleteManifestIfDangling(repo, c1.digest(), clock.instant())).isTrue();
        assertThat(store.getManifest(repo, c1.digest())).isEmpty();
    }

    @Test
    void danglingGracePeriodProtectsNewRecords() {
        Instant before = clock.instant();
        ManifestRecord m = image(repo, "fresh");
        store.putManifest(m);
        assertThat(all((n, t) -> store.listDangling(before, n, t), 100)).extracting(ManifestRecord::digest)
                .doesNotContain(m.digest());
        assertThat(store.deleteManifestIfDangling(repo, m.digest(), before)).isFalse();
        clock.advance(Duration.ofHours(1));
        assertThat(store.deleteManifestIfDangling(repo, m.digest(), clock.instant())).isTrue();
    }

    @Test
    void danglingListPagesAcrossRepositories() {
        List<Digest> expected = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            ManifestRecord m = image(i % 2 == 0 ? repo : otherRepo, "d" + i);
            store.putManifest(m);
            expected.add(m.digest());
        }
        Instant cutoff = clock.instant();
        List<ManifestRecord> listed = allInPages((n, t) -> store.listDangling(cutoff, n, t), 2);
        assertThat(listed.stream().filter(m -> m.repository().equals(repo) || m.repository().equals(otherRepo))
                .map(ManifestRecord::digest).toList()).containsExactlyElementsOf(expected);
        assertThat(listed.stream().filter(m -> m.repository().equals(repo)).findFirst().orElseThrow().labels())
                .containsEntry("org.opencontainers.image.title", "d0");
    }

    // ---- blob records ----

    @Test
    void blobRecordsCreateIfAbsentAndTouchIfExists() {
        Digest d = digest("layer");
        assertThat(store.touchBlob(d)).isFalse();
        assertThat(store.getBlobRecord(d)).isEmpty();
        assertThat(store.createBlobRecord(d, 42)).isTrue();
        BlobRecord first = store.getBlobRecord(d).orElseThrow();
        assertThat(first.size()).isEqualTo(42);
        assertThat(store.createBlobRecord(d, 42)).isFalse();
        assertThat(store.getBlobRecord(d)).contains(first);
        assertThat(store.touchBlob(d)).isTrue();
        assertThat(store.getBlobRecord(d).orElseThrow().lastTouched()).isAfter(first.lastTouched());
    }

    @Test
    void blobRecordTouchedSinceTheCutoffIsKept() {
        Digest d = digest("kept layer " + repo);
        store.createBlobRecord(d, 1);
        Instant cutoff = clock.instant();
        store.touchBlob(d);
        assertThat(store.deleteBlobRecordIfNotTouchedSince(d, cutoff)).isFalse();
        Instant touched = store.getBlobRecord(d).orElseThrow().lastTouched();
        assertThat(store.deleteBlobRecordIfNotTouchedSince(d, touched)).isFalse();
        assertThat(store.deleteBlobRecordIfNotTouchedSince(d, clock.instant())).isTrue();
        assertThat(store.getBlobRecord(d)).isEmpty();
        assertThat(store.deleteBlobRecordIfNotTouchedSince(d, clock.instant())).isFalse();
    }

    @Test
    void deleteIfNotTouchedRacingATouchHasExactlyOneWinner() throws Exception {
        for (int round = 0; round < 10; round++) {
            Digest d = digest("raced layer " + round + " " + repo);
            store.createBlobRecord(d, 10);
            Instant cutoff = clock.instant();
            List<Boolean> outcomes = Concurrently.run(2, i -> i == 0
                    ? () -> store.touchBlob(d)
                    : () -> store.deleteBlobRecordIfNotTouchedSince(d, cutoff));
            assertThat(outcomes).as("round " + round + " [touch, delete]").containsOnlyOnce(true);
            assertThat(store.getBlobRecord(d).isPresent()).isEqualTo(outcomes.get(0));
        }
    }

    // ---- jobs ----

    private Job job(String id) {
        Instant now = clock.instant();
        return Job.queued(id, "mirror", "{\"ref\":\"alpine\"}", now, now.plus(Duration.ofDays(1)));
    }

    @Test
    void jobsCreateGetUpdateConditionally() {
        String id = "job-" + UUID.randomUUID();
        Job j = job(id);
        assertThat(store.createJob(j)).isTrue();
        assertThat(store.createJob(j)).isFalse();
        assertThat(store.getJob(id)).contains(j);
        Job running = j.withStatus(JobStatus.RUNNING, clock.instant()).withProgress(5, 10, clock.instant());
        assertThat(store.updateJob(running, JobStatus.QUEUED)).isTrue();
        assertThat(store.updateJob(running, JobStatus.QUEUED)).as("second worker").isFalse();
        Job done = running.succeeded("{\"digest\":\"sha256:x\"}", clock.instant());
        assertThat(store.updateJob(done, JobStatus.RUNNING)).isTrue();
        assertThat(store.getJob(id)).contains(done);
        Job failed = done.failed("boom", clock.instant());
        assertThat(store.updateJob(failed, null)).isTrue();
        assertThat(store.getJob(id).orElseThrow().error()).isEqualTo("boom");
        assertThat(store.updateJob(job("job-absent-" + UUID.randomUUID()), null)).isFalse();
        assertThat(store.getJob("job-absent-" + UUID.randomUUID())).isEmpty();
    }

    @Test
    void expiredJobsAreHidden() {
        Instant now = clock.instant();
        Job shortLived = Job.queued("job-short-" + UUID.randomUUID(), "mirror", "{}", now, now.plusSeconds(60));
        store.createJob(shortLived);
        assertThat(store.getJob(shortLived.id())).isPresent();
        clock.advance(Duration.ofMinutes(2));
        assertThat(store.getJob(shortLived.id())).isEmpty();
        assertThat(store.updateJob(shortLived.withStatus(JobStatus.RUNNING, clock.instant()), null)).isFalse();
        assertThat(all((n, t) -> store.listJobs(n, t), 100)).extracting(Job::id).doesNotContain(shortLived.id());
    }

    @Test
    void jobsListNewestFirstAcrossPages() {
        List<String> ids = new ArrayList<>();
        String prefix = "job-list-" + UUID.randomUUID() + "-";
        for (int i = 0; i < 5; i++) {
            Job j = job(prefix + i);
            store.createJob(j);
            ids.add(0, j.id());
        }
        List<Job> listed = allInPages((n, t) -> store.listJobs(n, t), 2);
        assertThat(listed.stream().map(Job::id).filter(id -> id.startsWith(prefix)).toList())
                .containsExactlyElementsOf(ids);
    }

    // ---- sync rules ----

    @Test
    void syncRulesPutGetListDelete() {
        String prefix = "rule-" + UUID.randomUUID() + "-";
        List<String> names = new ArrayList<>();
        for (String n : List.of("nightly", "alpine", "zz", "b")) {
            store.putSyncRule(new SyncRule(prefix + n, "{\"source\":\"" + n + "\"}", true));
            names.add(prefix + n);
        }
        names.sort(null);
        SyncRule replaced = new SyncRule(prefix + "nightly", "{\"source\":\"changed\"}", false);
        store.putSyncRule(replaced);
        assertThat(store.getSyncRule(prefix + "nightly")).contains(replaced);
        List<SyncRule> listed = allInPages((n, t) -> store.listSyncRules(n, t), 2);
        assertThat(listed.stream().map(SyncRule::name).filter(n -> n.startsWith(prefix)).toList())
                .containsExactlyElementsOf(names);
        assertThat(store.deleteSyncRule(prefix + "zz")).isTrue();
        assertThat(store.deleteSyncRule(prefix + "zz")).isFalse();
        assertThat(store.getSyncRule(prefix + "zz")).isEmpty();
        assertThat(store.getSyncRule("absent-" + prefix)).isEqualTo(Optional.empty());
    }
}
