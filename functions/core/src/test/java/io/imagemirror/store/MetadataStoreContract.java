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
 * What every adapter of the index ports ({@link TagIndex}, {@link ManifestIndex}, {@link BlobIndex},
 * {@link PinIndex}, {@link JobStore}, {@link RuleStore}) does. Subclass once per adapter and give a
 * storage whose index reads its time from the given clock (its blob stores are not used here).
 */
public abstract class MetadataStoreContract {

    protected TickingClock clock;
    protected Storage storage;
    protected TagIndex tags;
    protected ManifestIndex manifests;
    protected BlobIndex blobs;
    protected PinIndex pins;
    protected JobStore jobs;
    protected RuleStore rules;
    /** Each test works in its own repositories, so a shared backend never mixes tests. */
    protected String repo;
    protected String otherRepo;

    protected abstract Storage newStorage(TickingClock clock) throws Exception;

    /** Points the port fields at {@code s} (a subclass may reopen the storage in a test). */
    protected void use(Storage s) {
        storage = s;
        tags = s.tagIndex();
        manifests = s.manifestIndex();
        blobs = s.blobIndex();
        pins = s.pinIndex();
        jobs = s.jobs();
        rules = s.rules();
    }

    @BeforeEach
    void openStore() throws Exception {
        clock = new TickingClock();
        use(newStorage(clock));
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        repo = "registry.test:5000/team/app-" + suffix;
        otherRepo = "docker.io/library/alpine-" + suffix;
    }

    @AfterEach
    void closeStore() {
        storage.close();
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

    /** The dangling manifests of a repository, checked to be the same by both dangling queries. */
    private List<Digest> danglingIn(String repository) {
        List<Digest> acrossRepositories = all((n, t) -> manifests.listDangling(clock.instant(), n, t), 100).stream()
                .filter(m -> m.repository().equals(repository)).map(ManifestRecord::digest).toList();
        List<Digest> ofRepository = all((n, t) -> manifests.listDanglingIn(repository, n, t), 1).stream()
                .peek(m -> assertThat(m.repository()).isEqualTo(repository)).map(ManifestRecord::digest).toList();
        assertThat(ofRepository).as("listDanglingIn, in digest order").isSorted()
                .containsExactlyInAnyOrderElementsOf(acrossRepositories);
        return acrossRepositories;
    }

    // ---- manifests ----

    @Test
    void manifestRecordRoundTripsAndCreateIsIdempotent() {
        ManifestRecord m = image(repo, "a");
        assertThat(manifests.putManifest(m)).isTrue();
        assertThat(manifests.getManifest(repo, m.digest())).contains(m);
        ManifestRecord changed = new ManifestRecord(repo, m.digest(), MediaTypes.DOCKER_MANIFEST, 1, null, List.of(),
                List.of(), null, null, null, Map.of(), clock.instant(), null, 0);
        assertThat(manifests.putManifest(changed)).isFalse();
        assertThat(manifests.getManifest(repo, m.digest())).contains(m);
        assertThat(manifests.getManifest(otherRepo, m.digest())).isEmpty();
    }

    @Test
    void indexRecordKeepsChildrenPlatformsAndSubject() {
        ManifestRecord child = image(repo, "arm");
        manifests.putManifest(child);
        ManifestRecord idx = index(repo, "multi", child);
        assertThat(manifests.putManifest(idx)).isTrue();
        ManifestRecord back = manifests.getManifest(repo, idx.digest()).orElseThrow();
        assertThat(back).isEqualTo(idx);
        assertThat(back.children().get(0).platform()).isEqualTo(Platform.parse("linux/arm64/v8"));
        assertThat(back.children().get(2).platform()).isNull();
        assertThat(back.mirroredChildDigests()).containsExactly(child.digest());
    }

    @Test
    void indexWhoseMirroredChildIsNotRecordedIsRefused() {
        ManifestRecord child = image(repo, "missing");
        ManifestRecord idx = index(repo, "broken", child);
        assertThatThrownBy(() -> manifests.putManifest(idx)).isInstanceOf(MissingManifestException.class);
        assertThat(manifests.getManifest(repo, idx.digest())).isEmpty();
    }

    @Test
    void concurrentPutsOfOneManifestCreateItOnce() throws Exception {
        ManifestRecord m = image(repo, "race");
        List<Boolean> created = Concurrently.run(8, i -> () -> manifests.putManifest(m));
        assertThat(created).containsOnlyOnce(true);
        assertThat(manifests.getManifest(repo, m.digest())).contains(m);
    }

    @Test
    void manifestsOfARepositoryPageInDigestOrder() {
        List<Digest> expected = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            ManifestRecord m = image(repo, "m" + i);
            manifests.putManifest(m);
            expected.add(m.digest());
        }
        manifests.putManifest(image(otherRepo, "elsewhere"));
        expected.sort(null);
        assertThat(allInPages((n, t) -> manifests.listManifests(repo, n, t), 2)).extracting(ManifestRecord::digest)
                .containsExactlyElementsOf(expected);
    }

    @Test
    void repositoriesPageInLexicalOrder() {
        List<String> mine = new ArrayList<>();
        for (String name : List.of("zeta", "alpha", "mid/sub", "beta")) {
            String r = repo + "/" + name;
            manifests.putManifest(image(r, name));
            mine.add(r);
        }
        mine.sort(null);
        List<String> listed = allInPages((n, t) -> manifests.listRepositories(n, t), 2);
        assertThat(listed).isSorted().doesNotHaveDuplicates();
        assertThat(listed.stream().filter(mine::contains).toList()).containsExactlyElementsOf(mine);
    }

    @Test
    void pullsAreCounted() {
        ManifestRecord m = image(repo, "pulled");
        manifests.putManifest(m);
        assertThat(manifests.recordPull(repo, m.digest())).isTrue();
        assertThat(manifests.recordPull(repo, m.digest())).isTrue();
        ManifestRecord back = manifests.getManifest(repo, m.digest()).orElseThrow();
        assertThat(back.pullCount()).isEqualTo(2);
        assertThat(back.lastPulled()).isAfter(m.recordedAt());
        assertThat(manifests.recordPull(repo, digest("nothing"))).isFalse();
    }

    // ---- tags ----

    @Test
    void tagCompareAndSet() {
        ManifestRecord one = image(repo, "one");
        ManifestRecord two = image(repo, "two");
        manifests.putManifest(one);
        manifests.putManifest(two);

        assertThat(tags.setTag(repo, "1.0", null, one.digest(), "mirror")).isEqualTo(TagUpdate.UPDATED);
        TagRecord t = tags.getTag(repo, "1.0").orElseThrow();
        assertThat(t.digest()).isEqualTo(one.digest());
        assertThat(t.repository()).isEqualTo(repo);
        assertThat(t.updatedAt()).isNotNull();

        assertThat(tags.setTag(repo, "1.0", null, one.digest(), "retry")).isEqualTo(TagUpdate.UNCHANGED);
        assertThat(tags.setTag(repo, "1.0", null, two.digest(), "stale")).isEqualTo(TagUpdate.CONFLICT);
        assertThat(tags.setTag(repo, "1.0", two.digest(), two.digest(), "stale")).isEqualTo(TagUpdate.CONFLICT);
        assertThat(tags.setTag(repo, "1.0", one.digest(), two.digest(), "sync")).isEqualTo(TagUpdate.UPDATED);
        assertThat(tags.getTag(repo, "1.0").orElseThrow().digest()).isEqualTo(two.digest());
        assertThat(tags.getTag(otherRepo, "1.0")).isEmpty();
        assertThat(tags.getTag(repo, "2.0")).isEmpty();
    }

    @Test
    void tagNeedsARecordedManifest() {
        assertThatThrownBy(() -> tags.setTag(repo, "latest", null, digest("unrecorded"), "mirror"))
                .isInstanceOf(MissingManifestException.class);
        assertThat(tags.getTag(repo, "latest")).isEmpty();
        assertThat(all((n, t) -> tags.tagHistory(repo, "latest", n, t), 10)).isEmpty();
    }

    @Test
    void tagCompareAndSetUnderContentionHasOneWinnerPerRound() throws Exception {
        List<ManifestRecord> ms = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            ManifestRecord m = image(repo, "contender" + i);
            manifests.putManifest(m);
            ms.add(m);
        }
        tags.setTag(repo, "hot", null, ms.get(0).digest(), "start");
        int updates = 1;
        for (int round = 0; round < 3; round++) {
            Digest current = tags.getTag(repo, "hot").orElseThrow().digest();
            List<TagUpdate> outcomes = Concurrently.run(8, i -> () ->
                    tags.setTag(repo, "hot", current, ms.get(i).digest(), "contender " + i));
            long won = outcomes.stream().filter(o -> o == TagUpdate.UPDATED).count();
            long unchanged = outcomes.stream().filter(o -> o == TagUpdate.UNCHANGED).count();
            // the one whose digest is already current reports UNCHANGED unless another moved it first
            assertThat(won).as("winners in round " + round + ": " + outcomes).isEqualTo(1);
            assertThat(unchanged).isLessThanOrEqualTo(1);
            updates += (int) won;
        }
        List<TagEvent> events = all((n, t) -> tags.tagHistory(repo, "hot", n, t), 10);
        assertThat(events).hasSize(updates);
        for (int i = 0; i + 1 < events.size(); i++) {
            assertThat(events.get(i).oldDigest()).isEqualTo(events.get(i + 1).newDigest());
        }
        assertThat(events.get(0).newDigest()).isEqualTo(tags.getTag(repo, "hot").orElseThrow().digest());
    }

    @Test
    void historyIsNewestFirstAndSurvivesDeletion() {
        List<ManifestRecord> ms = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            ManifestRecord m = image(repo, "v" + i);
            manifests.putManifest(m);
            ms.add(m);
        }
        Digest previous = null;
        for (int i = 0; i < 4; i++) {
            assertThat(tags.setTag(repo, "stable", previous, ms.get(i).digest(), "move " + i))
                    .isEqualTo(TagUpdate.UPDATED);
            previous = ms.get(i).digest();
        }
        tags.setTag(repo, "other", null, ms.get(0).digest(), "unrelated");
        assertThat(tags.deleteTag(repo, "stable", ms.get(0).digest(), "rm")).isEqualTo(TagUpdate.CONFLICT);
        assertThat(tags.deleteTag(repo, "stable", previous, "rm")).isEqualTo(TagUpdate.UPDATED);
        assertThat(tags.deleteTag(repo, "stable", previous, "rm again")).isEqualTo(TagUpdate.UNCHANGED);
        assertThat(tags.getTag(repo, "stable")).isEmpty();

        List<TagEvent> events = allInPages((n, t) -> tags.tagHistory(repo, "stable", n, t), 2);
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
        assertThat(tags.setTag(repo, "stable", null, ms.get(1).digest(), "again")).isEqualTo(TagUpdate.UPDATED);
        assertThat(tags.tagHistory(repo, "stable", 1, null).items()).extracting(TagEvent::cause)
                .containsExactly("again");
    }

    @Test
    void tagsListInLexicalOrderAcrossPages() {
        ManifestRecord m = image(repo, "tagged");
        manifests.putManifest(m);
        List<String> names = new ArrayList<>(List.of("latest", "1", "1.0", "1.0.1", "a-b", "A", "_x", "z"));
        for (String n : names) {
            tags.setTag(repo, n, null, m.digest(), "mirror");
        }
        manifests.putManifest(image(otherRepo, "tagged"));
        tags.setTag(otherRepo, "zz", null, m.digest(), "x");
        tags.deleteTag(repo, "z", m.digest(), "rm");
        names.remove("z");
        names.sort(null);
        assertThat(allInPages((n, t) -> tags.listTags(repo, n, t), 3)).extracting(TagRecord::tag)
                .containsExactlyElementsOf(names);
    }

    @Test
    void referencesStayWithinOneRepository() {
        ManifestRecord elsewhere = image(otherRepo, "elsewhere");
        manifests.putManifest(elsewhere);
        // the same digest recorded in another repository does not satisfy a tag, a pin or an index here
        assertThatThrownBy(() -> tags.setTag(repo, "x", null, elsewhere.digest(), "mirror"))
                .isInstanceOf(MissingManifestException.class);
        assertThatThrownBy(() -> pins.addPin(repo, elsewhere.digest())).isInstanceOf(MissingManifestException.class);
        ManifestRecord child = image(repo, "elsewhere");
        ManifestRecord idx = index(repo, "idx elsewhere", child);
        assertThatThrownBy(() -> manifests.putManifest(idx)).isInstanceOf(MissingManifestException.class);
        assertThat(blobs.isReferencedIn(elsewhere.configDigest(), repo)).isFalse();
        assertThat(danglingIn(otherRepo)).contains(elsewhere.digest());
    }

    @Test
    void aPullChangesNeitherDanglingNorTheRecord() {
        ManifestRecord m = image(repo, "pulled dangling");
        manifests.putManifest(m);
        manifests.recordPull(repo, m.digest());
        assertThat(danglingIn(repo)).containsExactly(m.digest());
        ManifestRecord back = manifests.getManifest(repo, m.digest()).orElseThrow();
        assertThat(back.withPulls(null, 0)).isEqualTo(m);
    }

    // ---- pins ----

    @Test
    void pinsAddListRemove() {
        List<Digest> pinned = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            ManifestRecord m = image(repo, "pin" + i);
            manifests.putManifest(m);
            assertThat(pins.addPin(repo, m.digest())).isTrue();
            assertThat(pins.addPin(repo, m.digest())).isFalse();
            pinned.add(m.digest());
        }
        pinned.sort(null);
        List<Pin> listed = allInPages((n, t) -> pins.listPins(repo, n, t), 2);
        assertThat(listed).extracting(Pin::digest).containsExactlyElementsOf(pinned);
        assertThat(listed).allSatisfy(p -> assertThat(p.time()).isNotNull());
        assertThat(pins.removePin(repo, pinned.get(0))).isTrue();
        assertThat(pins.removePin(repo, pinned.get(0))).isFalse();
        assertThat(pins.removePin(repo, digest("never recorded"))).as("no pin, no manifest").isFalse();
        ManifestRecord unpinned = image(repo, "unpinned");
        manifests.putManifest(unpinned);
        assertThat(pins.removePin(repo, unpinned.digest())).as("a recorded manifest without a pin").isFalse();
        assertThat(danglingIn(repo)).contains(unpinned.digest(), pinned.get(0));
        assertThat(all((n, t) -> pins.listPins(repo, n, t), 10)).hasSize(4);
        assertThatThrownBy(() -> pins.addPin(repo, digest("unrecorded"))).isInstanceOf(MissingManifestException.class);
    }

    // ---- dangling ----

    @Test
    void danglingFollowsTagsPinsAndParents() {
        ManifestRecord a = image(repo, "a");
        ManifestRecord b = image(repo, "b");
        ManifestRecord child = image(repo, "child");
        manifests.putManifest(a);
        manifests.putManifest(b);
        manifests.putManifest(child);
        assertThat(danglingIn(repo)).containsExactlyInAnyOrder(a.digest(), b.digest(), child.digest());

        ManifestRecord idx = index(repo, "idx", child);
        manifests.putManifest(idx);
        tags.setTag(repo, "latest", null, a.digest(), "mirror");
        pins.addPin(repo, b.digest());
        assertThat(danglingIn(repo)).containsExactly(idx.digest());

        tags.setTag(repo, "latest", a.digest(), idx.digest(), "sync");
        assertThat(danglingIn(repo)).containsExactly(a.digest());
        pins.removePin(repo, b.digest());
        assertThat(danglingIn(repo)).containsExactlyInAnyOrder(a.digest(), b.digest());
        // a manifest with two tags stays kept while one remains
        tags.setTag(repo, "v1", null, idx.digest(), "mirror");
        tags.deleteTag(repo, "latest", idx.digest(), "rm");
        assertThat(danglingIn(repo)).containsExactlyInAnyOrder(a.digest(), b.digest());
        tags.deleteTag(repo, "v1", idx.digest(), "rm");
        assertThat(danglingIn(repo)).containsExactlyInAnyOrder(a.digest(), b.digest(), idx.digest());
        // the same digest in another repository is a separate record
        manifests.putManifest(image(otherRepo, "a"));
        tags.setTag(otherRepo, "latest", null, a.digest(), "mirror");
        assertThat(danglingIn(repo)).contains(a.digest());
    }

    @Test
    void deletingADanglingIndexMakesItsChildrenDangling() {
        ManifestRecord c1 = image(repo, "c1");
        ManifestRecord c2 = image(repo, "c2");
        manifests.putManifest(c1);
        manifests.putManifest(c2);
        ManifestRecord idx = index(repo, "idx", c1, c2);
        manifests.putManifest(idx);
        tags.setTag(repo, "latest", null, idx.digest(), "mirror");
        assertThat(manifests.deleteManifestIfDangling(repo, idx.digest(), clock.instant())).isFalse();
        assertThat(manifests.deleteManifestIfDangling(repo, c1.digest(), clock.instant())).isFalse();
        tags.deleteTag(repo, "latest", idx.digest(), "rm");
        assertThat(danglingIn(repo)).containsExactly(idx.digest());
        assertThat(manifests.deleteManifestIfDangling(repo, idx.digest(), clock.instant())).isTrue();
        assertThat(manifests.deleteManifestIfDangling(repo, idx.digest(), clock.instant())).isFalse();
        assertThat(manifests.getManifest(repo, idx.digest())).isEmpty();
        assertThat(danglingIn(repo)).containsExactlyInAnyOrder(c1.digest(), c2.digest());
        assertThat(manifests.deleteManifestIfDangling(repo, c1.digest(), clock.instant())).isTrue();
        assertThat(manifests.getManifest(repo, c1.digest())).isEmpty();
    }

    @Test
    void aChildListedAsNotMirroredIsMarkedMirroredOnceRecorded() {
        ManifestRecord amd = image(repo, "pulled amd64");
        manifests.putManifest(amd);
        ManifestRecord idx = index(repo, "pulled idx", amd);
        manifests.putManifest(idx);
        tags.setTag(repo, "latest", null, idx.digest(), "pull-through");
        ChildManifest other = idx.children().get(1);
        assertThat(other.mirrored()).isFalse();

        ManifestRecord s390x = new ManifestRecord(repo, other.digest(), MediaTypes.OCI_MANIFEST, other.size(),
                digest("config s390x"), List.of(new BlobRef(digest("config s390x"), 1)), List.of(), null, null, null,
                Map.of(), clock.instant(), null, 0);
        assertThatThrownBy(() -> manifests.markChildMirrored(repo, idx.digest(), other.digest()))
                .as("not recorded yet").isInstanceOf(MissingManifestException.class);
        assertThat(manifests.getManifest(repo, idx.digest())).contains(idx);
        manifests.putManifest(s390x);
        assertThat(danglingIn(repo)).containsExactly(s390x.digest());

        assertThat(manifests.markChildMirrored(repo, idx.digest(), other.digest())).isTrue();
        assertThat(manifests.markChildMirrored(repo, idx.digest(), other.digest())).as("a retry").isFalse();
        assertThat(manifests.markChildMirrored(repo, idx.digest(), digest("not listed"))).isFalse();
        assertThat(manifests.markChildMirrored(otherRepo, idx.digest(), other.digest())).as("no such index").isFalse();
        ManifestRecord marked = manifests.getManifest(repo, idx.digest()).orElseThrow();
        assertThat(marked.mirroredChildDigests()).containsExactly(amd.digest(), other.digest());
        assertThat(marked.children().get(1).platform()).isEqualTo(Platform.parse("linux/s390x"));
        assertThat(marked.withChildMirrored(other.digest())).isEqualTo(marked);
        assertThat(manifests.referenceCounts(repo, s390x.digest())).contains(new ManifestReferences.Counts(0, 0, 1));
        assertThat(danglingIn(repo)).as("kept by the index as a mirrored child").isEmpty();

        // the index keeps it as it keeps any mirrored child, and lets it go with it
        tags.deleteTag(repo, "latest", idx.digest(), "rm");
        assertThat(manifests.deleteManifestIfDangling(repo, idx.digest(), clock.instant())).isTrue();
        assertThat(danglingIn(repo)).containsExactlyInAnyOrder(amd.digest(), s390x.digest());
        assertThat(manifests.referenceCounts(repo, s390x.digest())).contains(ManifestReferences.Counts.NONE);
    }

    @Test
    void aMarkRacingTheDeleteOfItsIndexLeavesNoParentCountBehind() throws Exception {
        for (int round = 0; round < 4; round++) {
            ManifestRecord idx = index(repo, "raced mark " + round);
            ChildManifest listed = idx.children().get(0);
            ManifestRecord child = new ManifestRecord(repo, listed.digest(), MediaTypes.OCI_MANIFEST, listed.size(),
                    digest("config raced " + round), List.of(new BlobRef(digest("config raced " + round), 1)),
                    List.of(), null, null, null, Map.of(), clock.instant(), null, 0);
            manifests.putManifest(child);
            manifests.putManifest(idx);
            Instant later = clock.instant().plus(Duration.ofHours(1));
            Concurrently.run(2, i -> () -> i == 0 ? manifests.markChildMirrored(repo, idx.digest(), child.digest())
                    : manifests.deleteManifestIfDangling(repo, idx.digest(), later));
            Optional<ManifestRecord> kept = manifests.getManifest(repo, idx.digest());
            ManifestReferences.Counts counts = manifests.referenceCounts(repo, child.digest()).orElseThrow();
            if (kept.isPresent() && kept.get().mirroredChildDigests().contains(child.digest())) {
                assertThat(counts).isEqualTo(new ManifestReferences.Counts(0, 0, 1));
            } else {
                assertThat(counts).as("round " + round).isEqualTo(ManifestReferences.Counts.NONE);
            }
            if (kept.isPresent()) {
                assertThat(manifests.deleteManifestIfDangling(repo, idx.digest(), later)).isTrue();
            }
            assertThat(manifests.referenceCounts(repo, child.digest())).contains(ManifestReferences.Counts.NONE);
        }
    }

    @Test
    void concurrentMarksOfOneIndexEachCountOnce() throws Exception {
        List<ChildManifest> children = new ArrayList<>();
        List<ManifestRecord> images = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            ManifestRecord m = image(repo, "child " + i);
            manifests.putManifest(m);
            images.add(m);
            children.add(new ChildManifest(m.digest(), m.mediaType(), m.size(), Platform.parse("linux/arm64"), false));
        }
        ManifestRecord idx = new ManifestRecord(repo, digest("index of six " + repo), MediaTypes.OCI_INDEX, 1, null,
                List.of(), children, null, null, null, Map.of(), clock.instant(), null, 0);
        manifests.putManifest(idx);
        // two markers per child, all at once: one of each pair wins
        List<Boolean> won = Concurrently.run(12, i -> () ->
                manifests.markChildMirrored(repo, idx.digest(), images.get(i % 6).digest()));
        assertThat(won.stream().filter(b -> b).count()).isEqualTo(6);
        assertThat(manifests.getManifest(repo, idx.digest()).orElseThrow().mirroredChildDigests())
                .containsExactlyInAnyOrderElementsOf(images.stream().map(ManifestRecord::digest).toList());
        for (ManifestRecord m : images) {
            assertThat(manifests.referenceCounts(repo, m.digest())).contains(new ManifestReferences.Counts(0, 0, 1));
        }
    }

    @Test
    void danglingGracePeriodProtectsNewRecords() {
        Instant before = clock.instant();
        ManifestRecord m = image(repo, "fresh");
        manifests.putManifest(m);
        assertThat(all((n, t) -> manifests.listDangling(before, n, t), 100)).extracting(ManifestRecord::digest)
                .doesNotContain(m.digest());
        assertThat(manifests.deleteManifestIfDangling(repo, m.digest(), before)).isFalse();
        clock.advance(Duration.ofHours(1));
        assertThat(manifests.deleteManifestIfDangling(repo, m.digest(), clock.instant())).isTrue();
    }

    @Test
    void danglingListPagesAcrossRepositories() {
        List<Digest> expected = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            ManifestRecord m = image(i % 2 == 0 ? repo : otherRepo, "d" + i);
            manifests.putManifest(m);
            expected.add(m.digest());
        }
        Instant cutoff = clock.instant();
        List<ManifestRecord> listed = allInPages((n, t) -> manifests.listDangling(cutoff, n, t), 2);
        assertThat(listed.stream().filter(m -> m.repository().equals(repo) || m.repository().equals(otherRepo))
                .map(ManifestRecord::digest).toList()).containsExactlyElementsOf(expected);
        assertThat(listed.stream().filter(m -> m.repository().equals(repo)).findFirst().orElseThrow().labels())
                .containsEntry("org.opencontainers.image.title", "d0");
    }

    // ---- blob records ----

    @Test
    void blobRecordsCreateIfAbsentAndTouchIfExists() {
        Digest d = digest("layer");
        assertThat(blobs.touchBlob(d)).isFalse();
        assertThat(blobs.getBlobRecord(d)).isEmpty();
        assertThat(blobs.createBlobRecord(d, 42)).isTrue();
        BlobRecord first = blobs.getBlobRecord(d).orElseThrow();
        assertThat(first.size()).isEqualTo(42);
        assertThat(blobs.createBlobRecord(d, 42)).isFalse();
        assertThat(blobs.getBlobRecord(d)).contains(first);
        assertThat(blobs.touchBlob(d)).isTrue();
        assertThat(blobs.getBlobRecord(d).orElseThrow().lastTouched()).isAfter(first.lastTouched());
    }

    @Test
    void blobSweepBeginsOnlyOnARecordNotTouchedSinceTheCutoff() {
        Digest d = digest("kept layer " + repo);
        blobs.createBlobRecord(d, 1);
        Instant cutoff = clock.instant();
        blobs.touchBlob(d);
        assertThat(blobs.beginBlobSweep(d, cutoff)).isFalse();
        Instant touched = blobs.getBlobRecord(d).orElseThrow().lastTouched();
        assertThat(blobs.beginBlobSweep(d, touched)).isFalse();
        assertThat(blobs.beginBlobSweep(d, clock.instant())).isTrue();
        assertThat(blobs.getBlobRecord(d)).as("being swept is not live").isEmpty();
        assertThat(blobs.touchBlob(d)).isFalse();
        assertThat(blobs.createBlobRecord(d, 1)).as("being swept counts as recorded").isFalse();
        assertThat(blobs.beginBlobSweep(d, clock.instant())).isFalse();
        assertThat(all((n, t) -> blobs.listBlobSweeps(n, t), 2)).extracting(BlobCandidate::digest).contains(d);
        assertThat(blobs.finishBlobSweep(d)).isTrue();
        assertThat(blobs.finishBlobSweep(d)).isFalse();
        assertThat(all((n, t) -> blobs.listBlobSweeps(n, t), 2)).extracting(BlobCandidate::digest)
                .doesNotContain(d);
        assertThat(blobs.getBlobRecord(d)).isEmpty();
        assertThat(blobs.touchBlob(d)).as("a tombstone is not touched").isFalse();
        assertThat(blobs.createBlobRecord(d, 1)).as("a tombstone is recorded anew").isTrue();
        assertThat(blobs.touchBlob(d)).isTrue();
    }

    @Test
    void aCancelledSweepLeavesTheBlobLive() {
        Digest d = digest("cancelled " + repo);
        blobs.createBlobRecord(d, 5);
        assertThat(blobs.beginBlobSweep(d, clock.instant())).isTrue();
        assertThat(blobs.cancelBlobSweep(d)).isTrue();
        assertThat(blobs.cancelBlobSweep(d)).isFalse();
        assertThat(blobs.getBlobRecord(d).orElseThrow().size()).isEqualTo(5);
        assertThat(blobs.touchBlob(d)).isTrue();
        assertThat(all((n, t) -> blobs.listBlobSweeps(n, t), 2)).extracting(BlobCandidate::digest)
                .doesNotContain(d);
    }

    @Test
    void aManifestListingABlobBeingSweptOrSweptIsRefused() {
        ManifestRecord m = image(repo, "swept");
        Digest layer = m.blobs().get(1).digest();
        blobs.createBlobRecord(layer, 7890);
        blobs.beginBlobSweep(layer, clock.instant());
        assertThatThrownBy(() -> manifests.putManifest(m)).isInstanceOf(SweptBlobException.class)
                .satisfies(e -> assertThat(((SweptBlobException) e).blob()).isEqualTo(layer));
        assertThat(manifests.getManifest(repo, m.digest())).isEmpty();
        blobs.finishBlobSweep(layer);
        assertThatThrownBy(() -> manifests.putManifest(m)).isInstanceOf(SweptBlobException.class);
        assertThat(blobs.createBlobRecord(layer, 7890)).isTrue();
        assertThat(manifests.putManifest(m)).isTrue();
        assertThat(blobs.isReferenced(layer)).isTrue();
    }

    @Test
    void blobsBecomeCandidatesWhenRecordedOrUnreferencedAndStopWhenListed() {
        ManifestRecord m = image(repo, "candidate");
        Digest config = m.configDigest();
        Digest layer = m.blobs().get(1).digest();
        Instant before = clock.instant();
        blobs.createBlobRecord(config, 456);
        blobs.createBlobRecord(layer, 7890);
        assertThat(candidates()).contains(config, layer);
        assertThat(all((n, t) -> blobs.listBlobCandidates(before, n, t), 2)).extracting(BlobCandidate::digest)
                .doesNotContain(config, layer);
        manifests.putManifest(m);
        assertThat(candidates()).doesNotContain(config, layer);
        manifests.deleteManifestIfDangling(repo, m.digest(), clock.instant());
        List<BlobCandidate> marked = all((n, t) -> blobs.listBlobCandidates(clock.instant(), n, t), 2).stream()
                .filter(c -> c.digest().equals(layer)).toList();
        assertThat(marked).hasSize(1);
        assertThat(marked.get(0).size()).isEqualTo(7890);
        assertThat(blobs.dropBlobCandidate(layer, marked.get(0).since().minusSeconds(1))).as("a newer mark stays")
                .isFalse();
        assertThat(blobs.dropBlobCandidate(layer, marked.get(0).since())).isTrue();
        assertThat(candidates()).doesNotContain(layer).contains(config);
    }

    @Test
    void candidatesArePagedOldestFirst() {
        List<Digest> made = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            Digest d = digest("paged candidate " + i + " " + repo);
            blobs.createBlobRecord(d, i);
            made.add(d);
        }
        List<Digest> listed = allInPages((n, t) -> blobs.listBlobCandidates(clock.instant(), n, t), 2).stream()
                .map(BlobCandidate::digest).filter(made::contains).toList();
        assertThat(listed).containsExactlyElementsOf(made);
    }

    private List<Digest> candidates() {
        return all((n, t) -> blobs.listBlobCandidates(clock.instant(), n, t), 100).stream()
                .map(BlobCandidate::digest).toList();
    }

    @Test
    void referenceCountsOfARecordedManifest() {
        ManifestRecord m = image(repo, "counted");
        assertThat(manifests.referenceCounts(repo, m.digest())).isEmpty();
        manifests.putManifest(m);
        assertThat(manifests.referenceCounts(repo, m.digest())).contains(ManifestReferences.Counts.NONE);
        tags.setTag(repo, "a", null, m.digest(), "test");
        tags.setTag(repo, "b", null, m.digest(), "test");
        pins.addPin(repo, m.digest());
        assertThat(manifests.referenceCounts(repo, m.digest())).contains(new ManifestReferences.Counts(2, 1, 0));
        ManifestRecord idx = index(repo, "counted", m);
        manifests.putManifest(idx);
        assertThat(manifests.referenceCounts(repo, m.digest())).contains(new ManifestReferences.Counts(2, 1, 1));
    }

    @Test
    void beginSweepRacingATouchHasExactlyOneWinner() throws Exception {
        for (int round = 0; round < 10; round++) {
            Digest d = digest("raced layer " + round + " " + repo);
            blobs.createBlobRecord(d, 10);
            Instant cutoff = clock.instant();
            List<Boolean> outcomes = Concurrently.run(2, i -> i == 0
                    ? () -> blobs.touchBlob(d)
                    : () -> blobs.beginBlobSweep(d, cutoff));
            assertThat(outcomes).as("round " + round + " [touch, begin sweep]").containsOnlyOnce(true);
            assertThat(blobs.getBlobRecord(d).isPresent()).isEqualTo(outcomes.get(0));
        }
    }

    // ---- blob references ----

    private ManifestRecord imageWith(String repository, String name, Digest... layers) {
        Digest config = digest("config " + name + " " + repository);
        List<BlobRef> refs = new ArrayList<>();
        refs.add(new BlobRef(config, 10));
        for (Digest l : layers) {
            refs.add(new BlobRef(l, 20));
        }
        return new ManifestRecord(repository, digest("manifest " + name + " " + repository), MediaTypes.OCI_MANIFEST,
                100, config, refs, List.of(), null, null, null, Map.of(), clock.instant(), null, 0);
    }

    /** An image manifest listing a config and {@code layers} layers of its own. */
    private ManifestRecord imageOfLayers(String repository, String name, int layers) {
        Digest[] ds = new Digest[layers];
        for (int i = 0; i < layers; i++) {
            ds[i] = digest(name + " layer " + i + " " + repository);
        }
        return imageWith(repository, name, ds);
    }

    @Test
    void anImageOf120LayersAndAnIndexOf150ChildrenRecordWholeAndGoWhole() {
        ManifestRecord big = imageOfLayers(repo, "big", 120);
        assertThat(big.blobDigests()).hasSize(121);
        assertThat(manifests.putManifest(big)).isTrue();
        assertThat(manifests.putManifest(big)).as("idempotent").isFalse();
        assertThat(manifests.getManifest(repo, big.digest())).contains(big);
        assertThat(all((n, t) -> manifests.listManifests(repo, n, t), 100)).containsExactly(big);
        for (Digest b : big.blobDigests()) {
            assertThat(referencing(b)).as("reference of " + b).containsExactly(new BlobReference(b, repo, big.digest()));
        }
        assertThat(candidates()).doesNotContainAnyElementsOf(big.blobDigests());

        List<ChildManifest> children = new ArrayList<>();
        List<ManifestRecord> images = new ArrayList<>();
        for (int i = 0; i < 150; i++) {
            ManifestRecord m = imageWith(repo, "platform " + i, digest("shared layer of 150 " + repo));
            manifests.putManifest(m);
            images.add(m);
            children.add(new ChildManifest(m.digest(), m.mediaType(), m.size(), Platform.parse("linux/arm64"), true));
        }
        children.add(new ChildManifest(big.digest(), big.mediaType(), big.size(), Platform.parse("linux/amd64"), true));
        ManifestRecord idx = new ManifestRecord(repo, digest("index of 151 " + repo), MediaTypes.OCI_INDEX, 1, null,
                List.of(), children, null, null, null, Map.of(), clock.instant(), null, 0);
        assertThat(manifests.putManifest(idx)).isTrue();
        assertThat(manifests.getManifest(repo, idx.digest())).contains(idx);
        tags.setTag(repo, "many", null, idx.digest(), "mirror");
        assertThat(danglingIn(repo)).as("every child kept by the index").isEmpty();
        assertThat(manifests.referenceCounts(repo, images.get(149).digest()))
                .contains(new ManifestReferences.Counts(0, 0, 1));

        Instant later = clock.instant().plus(Duration.ofHours(1));
        tags.deleteTag(repo, "many", idx.digest(), "rm");
        assertThat(manifests.deleteManifestIfDangling(repo, idx.digest(), later)).isTrue();
        assertThat(manifests.getManifest(repo, idx.digest())).isEmpty();
        assertThat(danglingIn(repo)).hasSize(151);
        assertThat(manifests.deleteManifestIfDangling(repo, big.digest(), later)).isTrue();
        assertThat(manifests.deleteManifestIfDangling(repo, big.digest(), later)).isFalse();
        assertThat(manifests.getManifest(repo, big.digest())).isEmpty();
        for (Digest b : big.blobDigests()) {
            assertThat(blobs.isReferenced(b)).isFalse();
        }
        assertThat(candidates()).containsAll(big.blobDigests());
        assertThat(manifests.putManifest(big)).as("recorded anew").isTrue();
        assertThat(blobs.isReferenced(big.blobDigests().get(120))).isTrue();
    }

    @Test
    void aLargeManifestRacingASweepOfItsBlobsIsRecordedOnlyWithAllOfThemLive() throws Exception {
        for (int round = 0; round < 3; round++) {
            ManifestRecord big = imageOfLayers(repo, "raced big " + round, 70);
            for (BlobRef b : big.blobs()) {
                blobs.createBlobRecord(b.digest(), b.size());
            }
            clock.advance(Duration.ofMinutes(1));
            Instant cutoff = clock.instant();
            List<Digest> order = new ArrayList<>(big.blobDigests());
            java.util.Collections.reverse(order); // the sweeper meets the last blobs first
            List<Boolean> outcome = Concurrently.run(2, i -> () -> {
                if (i == 0) {
                    try {
                        return manifests.putManifest(big);
                    } catch (SweptBlobException e) {
                        return false;
                    }
                }
                // the sweeper's decision per blob: begin (conditional on the touch), one final check, finish
                for (Digest b : order) {
                    if (blobs.beginBlobSweep(b, cutoff)) {
                        if (blobs.isReferenced(b)) {
                            blobs.cancelBlobSweep(b);
                        } else {
                            blobs.finishBlobSweep(b);
                        }
                    }
                }
                return true;
            });
            if (manifests.getManifest(repo, big.digest()).isPresent()) {
                assertThat(outcome.get(0)).isTrue();
                for (Digest b : big.blobDigests()) {
                    assertThat(blobs.getBlobRecord(b)).as("recorded, so every blob it lists is live: " + b).isPresent();
                    assertThat(blobs.isReferenced(b)).isTrue();
                }
            } else {
                assertThat(outcome.get(0)).isFalse();
                // what a refused write left (references of its first steps) keeps blobs, and a later sweep
                // (once the write is old: an hour) clears it
                clock.advance(Duration.ofHours(1));
                for (ManifestRecord m : all((n, t) -> manifests.listDangling(clock.instant(), n, t), 100)) {
                    if (m.digest().equals(big.digest())) {
                        manifests.deleteManifestIfDangling(repo, m.digest(), clock.instant());
                    }
                }
                for (Digest b : big.blobDigests()) {
                    assertThat(blobs.isReferenced(b)).as("no reference left of " + b).isFalse();
                }
            }
        }
    }

    private List<BlobReference> referencing(Digest blob) {
        return all((n, t) -> blobs.referencingManifests(blob, n, t), 2);
    }

    @Test
    void blobReferencesFollowManifestWritesAndDeletes() {
        Digest shared = digest("shared layer " + repo);
        ManifestRecord a = imageWith(repo, "a", shared, shared);
        ManifestRecord b = imageWith(repo, "b", shared);
        ManifestRecord c = imageWith(otherRepo, "c", shared);
        assertThat(blobs.isReferenced(shared)).isFalse();
        assertThat(referencing(shared)).isEmpty();
        manifests.putManifest(a);
        manifests.putManifest(b);
        manifests.putManifest(c);
        manifests.putManifest(a); // idempotent: no second reference
        List<BlobReference> expected = new ArrayList<>(List.of(new BlobReference(shared, repo, a.digest()),
                new BlobReference(shared, repo, b.digest()), new BlobReference(shared, otherRepo, c.digest())));
        expected.sort(java.util.Comparator.comparing(BlobReference::repository)
                .thenComparing(r -> r.manifest().toString()));
        assertThat(allInPages((n, t) -> blobs.referencingManifests(shared, n, t), 2))
                .containsExactlyElementsOf(expected);
        assertThat(blobs.isReferenced(shared)).isTrue();
        assertThat(blobs.isReferencedIn(shared, repo)).isTrue();
        assertThat(blobs.isReferencedIn(shared, otherRepo)).isTrue();
        assertThat(blobs.isReferencedIn(shared, repo + "-x")).isFalse();
        assertThat(blobs.isReferencedIn(a.configDigest(), repo)).isTrue();
        assertThat(blobs.isReferencedIn(a.configDigest(), otherRepo)).isFalse();

        Instant later = clock.instant().plus(Duration.ofHours(1));
        assertThat(manifests.deleteManifestIfDangling(repo, a.digest(), later)).isTrue();
        assertThat(referencing(shared)).extracting(BlobReference::manifest)
                .containsExactlyInAnyOrder(b.digest(), c.digest());
        assertThat(blobs.isReferenced(a.configDigest())).isFalse();
        manifests.deleteManifestIfDangling(repo, b.digest(), later);
        assertThat(blobs.isReferencedIn(shared, repo)).isFalse();
        assertThat(blobs.isReferenced(shared)).isTrue();
        manifests.deleteManifestIfDangling(otherRepo, c.digest(), later);
        assertThat(blobs.isReferenced(shared)).isFalse();
        assertThat(referencing(shared)).isEmpty();
    }

    @Test
    void aKeptManifestKeepsItsBlobReferencesAndAnIndexHasNone() {
        ManifestRecord child = image(repo, "kept");
        manifests.putManifest(child);
        ManifestRecord idx = index(repo, "kept idx", child);
        manifests.putManifest(idx);
        tags.setTag(repo, "latest", null, idx.digest(), "mirror");
        assertThat(manifests.deleteManifestIfDangling(repo, child.digest(), clock.instant())).isFalse();
        for (BlobRef b : child.blobs()) {
            assertThat(referencing(b.digest())).containsExactly(new BlobReference(b.digest(), repo, child.digest()));
        }
        assertThat(blobs.isReferenced(idx.digest())).as("an index lists manifests, not blobs").isFalse();
    }

    @Test
    void blobReferencesStayExactUnderRacingWritesAndDeletes() throws Exception {
        Digest shared = digest("raced shared layer " + repo);
        int rounds = 6;
        Instant later = clock.instant().plus(Duration.ofDays(1));
        // threads i and i + 4 write and delete the same manifests, so every write and delete races its twin
        List<Integer> deletions = Concurrently.run(8, i -> () -> {
            int deleted = 0;
            String r = i % 2 == 0 ? repo : otherRepo;
            for (int round = 0; round < rounds; round++) {
                ManifestRecord m = imageWith(r, "race " + (i % 4) + " " + round, shared,
                        digest("own layer " + (i % 4) + " " + round + " " + repo));
                manifests.putManifest(m);
                if (round % 2 == 0 && manifests.deleteManifestIfDangling(r, m.digest(), later)) {
                    deleted++;
                }
            }
            return deleted;
        });
        // a twin's put after the other's delete records the manifest again, and its own delete then takes it
        assertThat(deletions.stream().mapToInt(Integer::intValue).sum()).as("deletes of the even rounds' manifests")
                .isBetween(4 * (rounds / 2), 8 * (rounds / 2));
        List<BlobReference> expected = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            String r = t % 2 == 0 ? repo : otherRepo;
            for (int round = 0; round < rounds; round++) {
                Digest own = digest("own layer " + t + " " + round + " " + repo);
                ManifestRecord m = imageWith(r, "race " + t + " " + round, shared, own);
                boolean kept = manifests.getManifest(r, m.digest()).isPresent();
                assertThat(kept).as("round " + round + " of " + t).isEqualTo(round % 2 == 1);
                assertThat(blobs.isReferenced(own)).isEqualTo(kept);
                assertThat(referencing(m.configDigest())).hasSize(kept ? 1 : 0);
                if (kept) {
                    expected.add(new BlobReference(shared, r, m.digest()));
                }
            }
        }
        assertThat(referencing(shared)).containsExactlyInAnyOrderElementsOf(expected);
        assertThat(blobs.isReferencedIn(shared, repo)).isTrue();
        assertThat(blobs.isReferencedIn(shared, otherRepo)).isTrue();
    }

    // ---- page tokens ----

    @Test
    void aTokenThatIsNotOursFailsTheSameWayOnEveryListing() {
        ManifestRecord m = image(repo, "tokens");
        manifests.putManifest(m);
        tags.setTag(repo, "a", null, m.digest(), "mirror");
        tags.setTag(repo, "b", null, m.digest(), "mirror");
        String tagsToken = tags.listTags(repo, 1, null).nextToken();
        assertThat(tagsToken).isNotNull();
        String forged = java.util.Base64.getUrlEncoder().encodeToString("[\"tags\",1,2]".getBytes(StandardCharsets.UTF_8));
        List<java.util.function.Function<String, Page<?>>> listings = List.of(
                t -> manifests.listManifests(repo, 5, t),
                t -> manifests.listDangling(clock.instant(), 5, t),
                t -> manifests.listRepositories(5, t),
                t -> tags.tagHistory(repo, "a", 5, t),
                t -> pins.listPins(repo, 5, t),
                t -> blobs.referencingManifests(m.configDigest(), 5, t),
                t -> jobs.listJobs(5, t),
                t -> rules.listSyncRules(5, t));
        for (String bad : List.of("garbage", "!!!", "", tagsToken, forged)) {
            for (var listing : listings) {
                assertThatThrownBy(() -> listing.apply(bad)).as("token " + bad)
                        .isInstanceOf(InvalidPageTokenException.class).hasMessageStartingWith("invalid page token");
            }
        }
        for (String bad : List.of("garbage", forged, manifests.listRepositories(1, null).nextToken() == null
                ? "x" : manifests.listRepositories(1, null).nextToken())) {
            assertThatThrownBy(() -> tags.listTags(repo, 5, bad)).isInstanceOf(InvalidPageTokenException.class);
        }
        assertThat(tags.listTags(repo, 1, tagsToken).items()).extracting(TagRecord::tag).containsExactly("b");
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
        assertThat(jobs.createJob(j)).isTrue();
        assertThat(jobs.createJob(j)).isFalse();
        assertThat(jobs.getJob(id)).contains(j);
        Job running = j.withStatus(JobStatus.RUNNING, clock.instant()).withProgress(5, 10, clock.instant());
        assertThat(jobs.updateJob(running, JobStatus.QUEUED)).isTrue();
        assertThat(jobs.updateJob(running, JobStatus.QUEUED)).as("second worker").isFalse();
        Job done = running.succeeded("{\"digest\":\"sha256:x\"}", clock.instant());
        assertThat(jobs.updateJob(done, JobStatus.RUNNING)).isTrue();
        assertThat(jobs.getJob(id)).contains(done);
        Job failed = done.failed("boom", clock.instant());
        assertThat(jobs.updateJob(failed, null)).isTrue();
        assertThat(jobs.getJob(id).orElseThrow().error()).isEqualTo("boom");
        assertThat(jobs.updateJob(job("job-absent-" + UUID.randomUUID()), null)).isFalse();
        assertThat(jobs.getJob("job-absent-" + UUID.randomUUID())).isEmpty();
    }

    @Test
    void expiredJobsAreHidden() {
        Instant now = clock.instant();
        Job shortLived = Job.queued("job-short-" + UUID.randomUUID(), "mirror", "{}", now, now.plusSeconds(60));
        jobs.createJob(shortLived);
        assertThat(jobs.getJob(shortLived.id())).isPresent();
        clock.advance(Duration.ofMinutes(2));
        assertThat(jobs.getJob(shortLived.id())).isEmpty();
        assertThat(jobs.updateJob(shortLived.withStatus(JobStatus.RUNNING, clock.instant()), null)).isFalse();
        assertThat(all((n, t) -> jobs.listJobs(n, t), 100)).extracting(Job::id).doesNotContain(shortLived.id());
    }

    @Test
    void jobsListNewestFirstAcrossPages() {
        List<String> ids = new ArrayList<>();
        String prefix = "job-list-" + UUID.randomUUID() + "-";
        for (int i = 0; i < 5; i++) {
            Job j = job(prefix + i);
            jobs.createJob(j);
            ids.add(0, j.id());
        }
        List<Job> listed = allInPages((n, t) -> jobs.listJobs(n, t), 2);
        assertThat(listed.stream().map(Job::id).filter(id -> id.startsWith(prefix)).toList())
                .containsExactlyElementsOf(ids);
    }

    // ---- sync rules ----

    @Test
    void syncRulesPutGetListDelete() {
        String prefix = "rule-" + UUID.randomUUID() + "-";
        List<String> names = new ArrayList<>();
        for (String n : List.of("nightly", "alpine", "zz", "b")) {
            rules.putSyncRule(new SyncRule(prefix + n, "{\"source\":\"" + n + "\"}", true));
            names.add(prefix + n);
        }
        names.sort(null);
        SyncRule replaced = new SyncRule(prefix + "nightly", "{\"source\":\"changed\"}", false);
        rules.putSyncRule(replaced);
        assertThat(rules.getSyncRule(prefix + "nightly")).contains(replaced);
        List<SyncRule> listed = allInPages((n, t) -> rules.listSyncRules(n, t), 2);
        assertThat(listed.stream().map(SyncRule::name).filter(n -> n.startsWith(prefix)).toList())
                .containsExactlyElementsOf(names);
        assertThat(rules.deleteSyncRule(prefix + "zz")).isTrue();
        assertThat(rules.deleteSyncRule(prefix + "zz")).isFalse();
        assertThat(rules.getSyncRule(prefix + "zz")).isEmpty();
        assertThat(rules.getSyncRule("absent-" + prefix)).isEqualTo(Optional.empty());
    }

    // ---- planner state and run records ----

    @Test
    void ruleStateIsWrittenOnlyOverTheVersionBefore() {
        String rule = "state-" + UUID.randomUUID();
        Instant t = clock.instant();
        assertThat(rules.getRuleState(rule)).isEmpty();
        assertThat(rules.replaceRuleState(new RuleState(rule, t, null, null, 2))).as("no version 1 yet").isFalse();
        RuleState first = new RuleState(rule, t, null, null, 1);
        assertThat(rules.replaceRuleState(first)).isTrue();
        assertThat(rules.replaceRuleState(first)).as("version 1 exists").isFalse();
        RuleState claimed = first.next(t, t.plusSeconds(60), "planner-a");
        assertThat(rules.replaceRuleState(claimed)).isTrue();
        assertThat(rules.getRuleState(rule)).contains(claimed);
        assertThat(rules.replaceRuleState(first.next(t, t.plusSeconds(60), "planner-b"))).as("stale").isFalse();
        RuleState released = claimed.next(t.plusSeconds(900), null, null);
        assertThat(rules.replaceRuleState(released)).isTrue();
        assertThat(rules.getRuleState(rule)).contains(released);
    }

    @Test
    void twoClaimersOfOneRuleStateHaveOneWinner() throws Exception {
        for (int round = 0; round < 5; round++) {
            String rule = "race-" + UUID.randomUUID();
            Instant t = clock.instant();
            RuleState start = new RuleState(rule, t, null, null, 1);
            assertThat(rules.replaceRuleState(start)).isTrue();
            List<Boolean> won = Concurrently.run(2, i -> () ->
                    rules.replaceRuleState(start.next(t, t.plusSeconds(60), "planner-" + i)));
            assertThat(won).as("round " + round).containsExactlyInAnyOrder(true, false);
            String holder = "planner-" + won.indexOf(true);
            assertThat(rules.getRuleState(rule).orElseThrow().holder()).isEqualTo(holder);
        }
    }

    @Test
    void syncRunsListNewestFirstAndExpire() {
        String rule = "runs-" + UUID.randomUUID();
        Instant t = clock.instant();
        for (int i = 0; i < 5; i++) {
            rules.putSyncRun(new SyncRunRecord(rule, "run-" + i, "{\"n\":" + i + "}", t.plus(Duration.ofHours(i + 1))));
        }
        rules.putSyncRun(new SyncRunRecord("other-" + rule, "run-9", "{}", t.plus(Duration.ofHours(1))));
        SyncRunRecord replaced = new SyncRunRecord(rule, "run-4", "{\"n\":44}", t.plus(Duration.ofHours(5)));
        rules.putSyncRun(replaced);
        assertThat(allInPages((n, tk) -> rules.listSyncRuns(rule, n, tk), 2)).extracting(SyncRunRecord::id)
                .containsExactly("run-4", "run-3", "run-2", "run-1", "run-0");
        assertThat(rules.listSyncRuns(rule, 1, null).items()).containsExactly(replaced);
        assertThat(rules.deleteSyncRun(rule, "run-3")).isTrue();
        assertThat(rules.deleteSyncRun(rule, "run-3")).isFalse();
        clock.advance(Duration.ofMinutes(150));
        assertThat(rules.listSyncRuns(rule, 10, null).items()).extracting(SyncRunRecord::id)
                .containsExactly("run-4", "run-2");
    }
}
