package io.imagemirror.mirror;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imagemirror.config.MirrorConfig;
import io.imagemirror.oci.Digest;
import io.imagemirror.oci.Platform;
import io.imagemirror.reference.ImageReference;
import io.imagemirror.store.BlobStore;
import io.imagemirror.store.ByteRange;
import io.imagemirror.store.Cause;
import io.imagemirror.store.ChildManifest;
import io.imagemirror.store.InMemoryBlobStore;
import io.imagemirror.store.ManifestRecord;
import io.imagemirror.store.Page;
import io.imagemirror.store.Storage;
import io.imagemirror.store.StoreException;
import io.imagemirror.store.TagEvent;
import io.imagemirror.testbed.LocalRegistry;
import io.imagemirror.testbed.TestImage;
import io.imagemirror.testbed.TestIndex;
import io.imagemirror.upstream.RegistryClient;
import io.imagemirror.upstream.RetryPolicy;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The copy engine against a real upstream (Debian's docker-registry) and the in-memory stores. */
class ImageMirrorTest extends MirrorTestBase {

    @Test
    void blobsAreCopiedLargestFirstAndReportedInTheManifestsOrder() throws Exception {
        TestImage img = TestImage.builder(70).layer(2_000).layer(90_000).layer(500).layer(30_000).build();
        upstream.pusher().pushImage("order/app", "1", img);
        ExecutorService oneAtATime = Executors.newSingleThreadExecutor();
        try {
            ImageMirror serial = new ImageMirror(upstreams, storage, oneAtATime, Clock.systemUTC(),
                    new BlobFills(storage.blobs(), storage.blobIndex(), null, pool));
            requests.reset();

            MirrorResult r = serial.mirror(MirrorRequest.of(ref("order/app:1"), Cause.CLI), MirrorListener.NONE);

            List<TestImage.Blob> manifestOrder = new ArrayList<>();
            manifestOrder.add(img.config());
            manifestOrder.addAll(img.layers());
            List<String> largestFirst = manifestOrder.stream()
                    .sorted(Comparator.comparingLong(TestImage.Blob::size).reversed())
                    .map(TestImage.Blob::digest).toList();
            assertThat(requests.seen).filteredOn(s -> s.method().equals("GET") && s.isBlob())
                    .extracting(s -> s.path().substring(s.path().lastIndexOf('/') + 1))
                    .as("fetched one at a time, the largest first").containsExactlyElementsOf(largestFirst);
            assertThat(r.images().get(0).blobs()).extracting(o -> o.digest().toString())
                    .as("reported in the manifest's order")
                    .containsExactlyElementsOf(manifestOrder.stream().map(TestImage.Blob::digest).toList());
        } finally {
            oneAtATime.shutdownNow();
        }
    }

    @Test
    void aCopyThatASweepKeepsTakingStartsAgainByItsScheduleThenFailsNamingTheBlob() throws Exception {
        TestImage img = TestImage.builder(71).layer(3_000).build();
        upstream.pusher().pushImage("swept/app", "1", img);
        Digest layer = Digest.parse(img.layers().get(0).digest());
        // A sweep began on the layer and never ends (its process died): no copy can reference it.
        assertThat(storage.blobIndex().createBlobRecord(layer, 3_000)).isTrue();
        assertThat(storage.blobIndex().beginBlobSweep(layer, Instant.now().plusSeconds(60))).isTrue();
        List<Duration> waits = new ArrayList<>();
        RetryPolicy threeAttempts = new RetryPolicy(3, Duration.ofMillis(40), Duration.ofSeconds(2),
                Duration.ofSeconds(10), waits::add, () -> 1);

        assertThatThrownBy(() -> mirror.withSweepRaceRetries(threeAttempts)
                .mirror(MirrorRequest.of(ref("swept/app:1"), Cause.CLI), MirrorListener.NONE))
                .isInstanceOfSatisfying(MirrorException.class, e -> {
                    assertThat(org.assertj.core.util.Throwables.getRootCause(e))
                            .isInstanceOf(io.imagemirror.store.SweptBlobException.class);
                    assertThat(e.getMessage()).contains(layer.toString()).contains("swept/app:1");
                });
        assertThat(waits).as("a wait between attempts, doubling").containsExactly(Duration.ofMillis(40),
                Duration.ofMillis(80));
        assertThat(metadata.getTag(repoKey("swept/app"), "1")).isEmpty();
        assertThat(metadata.getManifest(repoKey("swept/app"), Digest.parse(img.digest()))).isEmpty();
    }

    @Test
    void secondImageCopiesOnlyItsOwnLayerAndReportsTheRestAlreadyExists() throws Exception {
        TestImage.Blob base = TestImage.layer(1, 300_000);
        TestImage a = TestImage.builder(10).layer(base).layer(50_000).build();
        TestImage b = TestImage.builder(11).layer(base).layer(70_000).build();
        upstream.pusher().pushImage("team/a", "1", a);
        upstream.pusher().pushImage("team/b", "1", b);

        MirrorResult first = mirror.mirror(MirrorRequest.of(ref("team/a:1"), Cause.CLI), MirrorListener.NONE);
        assertThat(first.images()).singleElement().satisfies(i -> {
            assertThat(i.digest().toString()).isEqualTo(a.digest());
            assertThat(i.blobs()).allMatch(o -> o.status() == BlobOutcome.Status.COPIED);
        });

        MirrorResult second = mirror.mirror(MirrorRequest.of(ref("team/b:1"), Cause.CLI), MirrorListener.NONE);
        MirrorResult.Image img = second.images().get(0);
        assertThat(img.blobs()).filteredOn(o -> o.digest().toString().equals(base.digest()))
                .singleElement().satisfies(o -> assertThat(o.status()).isEqualTo(BlobOutcome.Status.ALREADY_EXISTS));
        assertThat(img.blobs()).filteredOn(o -> o.status() == BlobOutcome.Status.COPIED)
                .extracting(o -> o.digest().toString())
                .containsExactlyInAnyOrder(b.config().digest(), b.layers().get(1).digest());
        assertThat(img.bytesReused()).isEqualTo(base.size());

        long unique = base.size() + a.config().size() + a.layers().get(1).size() + b.config().size()
                + b.layers().get(1).size();
        assertThat(storedBytes(blobs)).isEqualTo(unique);
        assertThat(manifests.stat(Digest.parse(b.digest()))).isPresent();
        assertThat(metadata.getTag(repoKey("team/b"), "1")).hasValueSatisfying(
                t -> assertThat(t.digest().toString()).isEqualTo(b.digest()));
    }

    @Test
    void ociIndexAndDockerManifestListKeepTheirDigestsAndAllPlatforms() throws Exception {
        for (TestImage.Format format : TestImage.Format.values()) {
            TestImage amd = TestImage.builder(20).format(format).layer(10_000).build();
            TestImage arm = TestImage.builder(21).format(format).platform("linux", "arm64", "v8").layer(12_000).build();
            TestIndex index = TestIndex.of(format, List.of(amd, arm), format == TestImage.Format.OCI);
            String repo = "multi/" + format.name().toLowerCase();
            upstream.pusher().pushIndex(repo, "v1", index);

            MirrorResult r = mirror.mirror(MirrorRequest.of(ref(repo + ":v1"), Cause.CLI), MirrorListener.NONE);
            assertThat(r.images().get(0).digest().toString()).isEqualTo(index.digest());
            byte[] stored = manifests.open(Digest.parse(index.digest())).orElseThrow().stream().readAllBytes();
            assertThat(stored).isEqualTo(index.bytes());
            for (TestImage child : index.children()) {
                assertThat(metadata.getManifest(repoKey(repo), Digest.parse(child.digest()))).as(child.digest()).isPresent();
                for (TestImage.Blob blob : child.blobs()) {
                    assertThat(blobs.exists(Digest.parse(blob.digest()))).isTrue();
                }
            }
            ManifestRecord top = metadata.getManifest(repoKey(repo), Digest.parse(index.digest())).orElseThrow();
            assertThat(top.children()).allMatch(ChildManifest::mirrored).hasSize(index.children().size());
        }
    }

    @Test
    void platformFilterCopiesOnlyThatChildAndRecordsTheOthersAsNotMirrored() throws Exception {
        TestImage amd = TestImage.builder(30).layer(40_000).build();
        TestImage arm = TestImage.builder(31).platform("linux", "arm64", "v8").layer(41_000).build();
        TestIndex index = TestIndex.of(TestImage.Format.OCI, List.of(amd, arm), true);
        upstream.pusher().pushIndex("multi/app", "2", index);

        MirrorResult r = mirror.mirror(MirrorRequest.of(ref("multi/app:2"), Cause.CLI)
                .withPlatforms(List.of(Platform.parse("linux/arm64"))), MirrorListener.NONE);

        assertThat(r.images().get(0).digest().toString()).isEqualTo(index.digest());
        for (TestImage.Blob blob : arm.blobs()) {
            assertThat(blobs.exists(Digest.parse(blob.digest()))).isTrue();
        }
        for (TestImage.Blob blob : amd.blobs()) {
            assertThat(blobs.exists(Digest.parse(blob.digest()))).isFalse();
        }
        ManifestRecord top = metadata.getManifest(repoKey("multi/app"), Digest.parse(index.digest())).orElseThrow();
        assertThat(top.children()).filteredOn(ChildManifest::mirrored).extracting(c -> c.digest().toString())
                // the arm64 image and the attestation that describes it
                .containsExactlyInAnyOrder(arm.digest(), index.children().get(3).digest());
        assertThat(top.children()).filteredOn(c -> !c.mirrored()).extracting(c -> c.digest().toString())
                .contains(amd.digest());
        assertThat(metadata.getManifest(repoKey("multi/app"), Digest.parse(amd.digest()))).isEmpty();
        // the index bytes are kept as they are
        assertThat(manifests.open(Digest.parse(index.digest())).orElseThrow().stream().readAllBytes())
                .isEqualTo(index.bytes());
    }

    @Test
    void allTagsSecondRunMakesNoManifestGetsAndNoBlobRequests() throws Exception {
        TestImage.Blob base = TestImage.layer(2, 2_000);
        for (int i = 0; i < 50; i++) {
            TestImage img = TestImage.builder(100 + i).layer(base).layer(500).build();
            upstream.pusher().pushImage("many/tags", "t" + i, img);
        }
        MirrorResult first = mirror.mirror(MirrorRequest.of(ref("many/tags"), Cause.CLI).withAllTags(true), MirrorListener.NONE);
        assertThat(first.images()).hasSize(50).noneMatch(MirrorResult.Image::upToDate);
        assertThat(metadata.listTags(repoKey("many/tags"), 1000, null).items()).hasSize(50);
        // the shared base layer was fetched once for 50 images
        assertThat(requests.count("GET", s -> s.path().endsWith(base.digest()))).isEqualTo(1);

        requests.reset();
        MirrorResult second = mirror.mirror(MirrorRequest.of(ref("many/tags"), Cause.CLI).withAllTags(true), MirrorListener.NONE);
        assertThat(second.images()).hasSize(50).allMatch(MirrorResult.Image::upToDate);
        assertThat(requests.count("GET", UpstreamRequestCounter.Seen::isManifest)).isZero();
        assertThat(requests.seen).noneMatch(UpstreamRequestCounter.Seen::isBlob);
        assertThat(requests.count("HEAD", UpstreamRequestCounter.Seen::isManifest)).isEqualTo(50);
    }

    @Test
    void tagMovedUpstreamKeepsBothDigestsInHistory() throws Exception {
        TestImage v1 = TestImage.builder(40).build();
        TestImage v2 = TestImage.builder(41).build();
        upstream.pusher().pushImage("moving/app", "stable", v1);
        mirror.mirror(MirrorRequest.of(ref("moving/app:stable"), Cause.CLI), MirrorListener.NONE);
        upstream.pusher().pushImage("moving/app", "stable", v2);
        MirrorResult r = mirror.mirror(MirrorRequest.of(ref("moving/app:stable"), Cause.CLI), MirrorListener.NONE);

        assertThat(r.images().get(0).previousDigest().toString()).isEqualTo(v1.digest());
        assertThat(metadata.getTag(repoKey("moving/app"), "stable").orElseThrow().digest().toString())
                .isEqualTo(v2.digest());
        List<TagEvent> history = metadata.tagHistory(repoKey("moving/app"), "stable", 10, null).items();
        assertThat(history).hasSize(2);
        assertThat(history.get(0).newDigest().toString()).isEqualTo(v2.digest());
        assertThat(history.get(0).oldDigest().toString()).isEqualTo(v1.digest());
        assertThat(history.get(1).newDigest().toString()).isEqualTo(v1.digest());
        assertThat(history.get(1).oldDigest()).isNull();
    }

    @Test
    void mirrorByDigestCreatesAPinAndNoTag() throws Exception {
        TestImage img = TestImage.builder(50).build();
        upstream.pusher().pushImage("pinned/app", "x", img);
        mirror.mirror(MirrorRequest.of(ref("pinned/app@" + img.digest()), Cause.CLI), MirrorListener.NONE);
        assertThat(metadata.listPins(repoKey("pinned/app"), 10, null).items()).singleElement()
                .satisfies(p -> assertThat(p.digest().toString()).isEqualTo(img.digest()));
        assertThat(metadata.listTags(repoKey("pinned/app"), 10, null).items()).isEmpty();
    }

    @Test
    void concurrentMirrorsSharingLayersFetchEachSharedBlobOnce() throws Exception {
        TestImage.Blob base = TestImage.layer(3, 2_000_000);
        TestImage.Blob mid = TestImage.layer(4, 500_000);
        List<TestImage> images = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            TestImage img = TestImage.builder(60 + i).layer(base).layer(mid).layer(30_000).build();
            upstream.pusher().pushImage("shared/img" + i, "1", img);
            images.add(img);
        }
        ExecutorService callers = Executors.newFixedThreadPool(4);
        try {
            List<Future<MirrorResult>> runs = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                String repo = "shared/img" + i;
                runs.add(callers.submit((Callable<MirrorResult>) () ->
                        mirror.mirror(MirrorRequest.of(ref(repo + ":1"), Cause.CLI), MirrorListener.NONE)));
            }
            long copiedBase = 0;
            for (Future<MirrorResult> f : runs) {
                copiedBase += f.get().images().get(0).blobs().stream()
                        .filter(o -> o.digest().toString().equals(base.digest()))
                        .filter(o -> o.status() == BlobOutcome.Status.COPIED).count();
            }
            assertThat(copiedBase).isEqualTo(1);
        } finally {
            callers.shutdownNow();
        }
        assertThat(requests.count("GET", s -> s.path().endsWith(base.digest()))).isEqualTo(1);
        assertThat(requests.count("GET", s -> s.path().endsWith(mid.digest()))).isEqualTo(1);
    }

    @Test
    void mirroringTheSameImageTwiceLeavesIdenticalStateAndCopiesNothing() throws Exception {
        TestImage img = TestImage.builder(70).layer(1000).layer(2000).build();
        upstream.pusher().pushImage("idem/app", "1", img);
        mirror.mirror(MirrorRequest.of(ref("idem/app:1"), Cause.CLI), MirrorListener.NONE);
        int blobCount = blobs.size();
        requests.reset();
        MirrorResult again = mirror.mirror(MirrorRequest.of(ref("idem/app:1"), Cause.CLI), MirrorListener.NONE);
        assertThat(again.images().get(0).upToDate()).isTrue();
        assertThat(again.bytesCopied()).isZero();
        assertThat(blobs.size()).isEqualTo(blobCount);
        assertThat(metadata.tagHistory(repoKey("idem/app"), "1", 10, null).items()).hasSize(1);
        // mirroring by digest after by tag fetches nothing either
        requests.reset();
        mirror.mirror(MirrorRequest.of(ref("idem/app@" + img.digest()), Cause.CLI), MirrorListener.NONE);
        assertThat(requests.seen).isEmpty();
    }

    @Test
    void aMissingBlobFailsNamingItAndRecordsNothing() throws Exception {
        TestImage img = TestImage.builder(80).layer(1000).build();
        upstream.pusher().pushImage("broken/app", "1", img);
        String layer = img.layers().get(0).digest();
        java.net.http.HttpResponse<Void> del = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(URI.create(upstream.url() + "/v2/broken/app/blobs/" + layer))
                        .DELETE().build(), java.net.http.HttpResponse.BodyHandlers.discarding());
        assertThat(del.statusCode()).isEqualTo(202);

        assertThatThrownBy(() -> mirror.mirror(MirrorRequest.of(ref("broken/app:1"), Cause.CLI), MirrorListener.NONE))
                .isInstanceOfSatisfying(MirrorException.class, e -> {
                    assertThat(e.content()).hasToString(layer);
                    assertThat(e.getMessage()).contains(layer).contains("broken/app:1");
                });
        assertThat(metadata.getManifest(repoKey("broken/app"), Digest.parse(img.digest()))).isEmpty();
        assertThat(metadata.getTag(repoKey("broken/app"), "1")).isEmpty();
        assertThat(manifests.exists(Digest.parse(img.digest()))).isFalse();
    }

    @Test
    void aConfigThatCannotBeReadFailsTheMirrorAndRecordsNothingUntilARetryRecordsItWhole() throws Exception {
        TestImage img = TestImage.builder(81).label("org.opencontainers.image.title", "app")
                .created("2026-11-30T12:00:00Z").build();
        upstream.pusher().pushImage("config/app", "1", img);
        Digest config = Digest.parse(img.config().digest());
        Map<String, BlobStore> faults = Map.of(
                "the store fails", new ConfigFault(blobs, config, false),
                "the read breaks off", new ConfigFault(blobs, config, true));
        for (Map.Entry<String, BlobStore> fault : faults.entrySet()) {
            ImageMirror failing = new ImageMirror(upstreams, Storage.of(fault.getValue(), manifests, metadata, List.of()),
                    pool, Clock.systemUTC());
            assertThatThrownBy(() -> failing.mirror(MirrorRequest.of(ref("config/app:1"), Cause.CLI), MirrorListener.NONE))
                    .as(fault.getKey()).isInstanceOf(MirrorException.class).hasMessageContaining("config/app:1");
            assertThat(metadata.getManifest(repoKey("config/app"), Digest.parse(img.digest()))).as(fault.getKey()).isEmpty();
            assertThat(metadata.getTag(repoKey("config/app"), "1")).as(fault.getKey()).isEmpty();
        }

        mirror.mirror(MirrorRequest.of(ref("config/app:1"), Cause.CLI), MirrorListener.NONE);
        ManifestRecord rec = metadata.getManifest(repoKey("config/app"), Digest.parse(img.digest())).orElseThrow();
        assertThat(rec.labels()).containsEntry("org.opencontainers.image.title", "app");
        assertThat(rec.created()).isEqualTo(java.time.Instant.parse("2026-11-30T12:00:00Z"));
    }

    @Test
    void anArtifactWhoseConfigIsNotJsonIsRecordedWithoutLabels() throws Exception {
        byte[] config = "not json at all".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] layer = "payload".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        String configDigest = upstream.pusher().pushBlob("config/artifact", config);
        String layerDigest = upstream.pusher().pushBlob("config/artifact", layer);
        String manifest = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"artifactType\":\"application/vnd.example.thing\",\"config\":{\"mediaType\":"
                + "\"application/vnd.example.thing.config\",\"digest\":\"" + configDigest + "\",\"size\":"
                + config.length + "},\"layers\":[{\"mediaType\":\"application/vnd.example.thing.layer\","
                + "\"digest\":\"" + layerDigest + "\",\"size\":" + layer.length + "}]}";
        String digest = upstream.pusher().pushManifest("config/artifact", "1", "application/vnd.oci.image.manifest.v1+json",
                manifest.getBytes(java.nio.charset.StandardCharsets.UTF_8));

        mirror.mirror(MirrorRequest.of(ref("config/artifact:1"), Cause.CLI), MirrorListener.NONE);
        ManifestRecord rec = metadata.getManifest(repoKey("config/artifact"), Digest.parse(digest)).orElseThrow();
        assertThat(rec.labels()).isEmpty();
        assertThat(rec.created()).isNull();
    }

    /** The blob store, except that reading one blob fails: the store throws, or the stream breaks off. */
    private static final class ConfigFault implements BlobStore {
        private final BlobStore delegate;
        private final Digest broken;
        private final boolean midStream;

        ConfigFault(BlobStore delegate, Digest broken, boolean midStream) {
            this.delegate = delegate;
            this.broken = broken;
            this.midStream = midStream;
        }

        @Override
        public Optional<Info> stat(Digest digest) {
            return delegate.stat(digest);
        }

        @Override
        public PutResult put(Digest digest, long size, java.io.InputStream in) throws java.io.IOException {
            return delegate.put(digest, size, in);
        }

        @Override
        public Optional<Content> open(Digest digest, ByteRange range) {
            if (!digest.equals(broken)) {
                return delegate.open(digest, range);
            }
            if (!midStream) {
                throw new StoreException("store unavailable", null);
            }
            Content c = delegate.open(digest, range).orElseThrow();
            java.io.InputStream breaking = new java.io.FilterInputStream(c.stream()) {
                private int left = 10;

                @Override
                public int read() throws java.io.IOException {
                    byte[] one = new byte[1];
                    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
                }

                @Override
                public int read(byte[] b, int off, int len) throws java.io.IOException {
                    if (left <= 0) {
                        throw new java.io.IOException("connection reset");
                    }
                    int n = super.read(b, off, Math.min(len, left));
                    left -= Math.max(n, 0);
                    return n;
                }
            };
            return Optional.of(new Content(breaking, c.offset(), c.length(), c.size()));
        }

        @Override
        public void delete(Digest digest) {
            delegate.delete(digest);
        }

        @Override
        public Page<Info> list(int limit, String pageToken) {
            return delegate.list(limit, pageToken);
        }

        @Override
        public Optional<URI> presignGet(Digest digest, java.time.Duration ttl) {
            return delegate.presignGet(digest, ttl);
        }
    }

    @Test
    void unconfiguredRegistryIsRefused() {
        assertThatThrownBy(() -> mirror.mirror(MirrorRequest.of(ImageReference.parse("evil.example.com/x:1"), Cause.CLI),
                MirrorListener.NONE)).isInstanceOf(MirrorException.class)
                .hasMessageContaining("not a configured upstream");
        assertThat(requests.seen).isEmpty();
    }

    @Test
    void listenerSeesProgressAndOutcomes() throws Exception {
        TestImage img = TestImage.builder(90).layer(3_000_000).build();
        upstream.pusher().pushImage("progress/app", "1", img);
        List<String> events = new java.util.concurrent.CopyOnWriteArrayList<>();
        mirror.mirror(MirrorRequest.of(ref("progress/app:1"), Cause.CLI), new MirrorListener() {
            @Override
            public void blobStarted(Digest digest, long size) {
                events.add("start " + digest.shortHex());
            }

            @Override
            public void blobProgress(Digest digest, long done, long size) {
                events.add("progress " + digest.shortHex() + " " + (done == size));
            }

            @Override
            public void blobFinished(BlobOutcome outcome) {
                events.add("done " + outcome.digest().shortHex() + " " + outcome.status());
            }

            @Override
            public void tagged(String reference, Digest previous, Digest digest) {
                events.add("tagged " + digest.shortHex());
            }
        });
        String layer = Digest.parse(img.layers().get(0).digest()).shortHex();
        assertThat(events).contains("start " + layer, "progress " + layer + " true", "done " + layer + " COPIED",
                "tagged " + Digest.parse(img.digest()).shortHex());
        assertThat(events.stream().filter(e -> e.startsWith("progress " + layer)).collect(Collectors.toList()))
                .hasSizeGreaterThan(1);
    }
}
