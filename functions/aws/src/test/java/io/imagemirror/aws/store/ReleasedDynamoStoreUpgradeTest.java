package io.imagemirror.aws.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imagemirror.api.ApiRequest;
import io.imagemirror.api.ApiResponse;
import io.imagemirror.api.DistributionApi;
import io.imagemirror.aws.AwsFixture;
import io.imagemirror.aws.AwsWiring;
import io.imagemirror.config.MirrorConfig;
import io.imagemirror.oci.Digest;
import io.imagemirror.store.BlobCandidate;
import io.imagemirror.store.BlobReference;
import io.imagemirror.store.ManifestRecord;
import io.imagemirror.store.ReleasedStoreContent;
import io.imagemirror.store.Storage;
import io.imagemirror.store.StoreException;
import io.imagemirror.store.TagEvent;
import io.imagemirror.store.TickingClock;
import io.imagemirror.store.Timestamps;
import io.imagemirror.sweep.SweepReport;
import io.imagemirror.sweep.Sweeper;
import io.imagemirror.upstream.CredentialStore;
import io.imagemirror.upstream.RegistryClient;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * A bucket and table written by the released program (item schema 1: no blob reference items, no
 * schema item) open with this one on dynoxide and s3proxy: migrated in place, listed and served.
 */
class ReleasedDynamoStoreUpgradeTest {

    final TickingClock clock = new TickingClock();
    AwsFixture aws;
    ReleasedStoreContent content;

    @BeforeEach
    void writeReleasedStore() {
        aws = new AwsFixture("im-upgrade");
        // the released createTable wrote no schema item
        aws.dynamo.deleteItem(b -> b.tableName(aws.table).key(key("META", "SCHEMA")));
        content = new ReleasedStoreContent(clock.instant());
        writeSchema1(content);
    }

    @AfterEach
    void dropIt() {
        aws.close();
    }

    private static Map<String, AttributeValue> key(String pk, String sk) {
        return Map.of("pk", AttributeValue.fromS(pk), "sk", AttributeValue.fromS(sk));
    }

    private void put(Object... kv) {
        Map<String, AttributeValue> item = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            Object v = kv[i + 1];
            item.put((String) kv[i], v instanceof Number n ? AttributeValue.fromN(n.toString())
                    : AttributeValue.fromS(v.toString()));
        }
        aws.dynamo.putItem(b -> b.tableName(aws.table).item(item));
    }

    /** The items the released DynamoMetadataStore wrote for this content, attribute for attribute. */
    private void writeSchema1(ReleasedStoreContent c) {
        String repo = ReleasedStoreContent.REPOSITORY;
        long t = Timestamps.toMicros(c.recordedAt);
        put("pk", "REPOS", "sk", repo);
        for (ReleasedStoreContent.Image i : c.images()) {
            ManifestRecord r = i.record();
            boolean tagged = i == c.tagged;
            // referenced, so the released code had removed its dangling keys (gsi1pk, gsi1sk)
            put("pk", "REPO#" + repo, "sk", "MANIFEST#" + r.digest(), "doc", ReleasedStoreContent.releasedDoc(r),
                    "pullCount", 0, "refTags", tagged ? 1 : 0, "refPins", tagged ? 0 : 1, "refParents", 0);
            put("pk", "BLOB#" + r.configDigest(), "sk", "BLOB", "size", i.config().length, "lastTouched", t);
            put("pk", "BLOB#" + i.layerDigest(), "sk", "BLOB", "size", i.layer().length, "lastTouched", t);
        }
        put("pk", "REPO#" + repo, "sk", "TAG#" + ReleasedStoreContent.TAG, "digest",
                c.tagged.record().digest().toString(), "updatedAt", t, "seq", 1);
        put("pk", "REPO#" + repo, "sk", "TAGLOG#" + ReleasedStoreContent.TAG + "#000000000001", "time", t,
                "cause", "mirror", "new", c.tagged.record().digest().toString());
        put("pk", "REPO#" + repo, "sk", "PIN#" + c.pinned.record().digest(), "time", t);
    }

    private Storage open() {
        return AwsStorage.open(new AwsClients(AwsFixture.sdkEnv()), aws.bucket, aws.table, false, true, clock);
    }

    static byte[] bodyOf(ApiResponse r) throws java.io.IOException {
        return r.body() != null ? r.body() : r.stream().readAllBytes();
    }

    @Test
    void aSchema1TableOpensListsAndServes() throws Exception {
        DynamoIndex released = new DynamoIndex(aws.dynamo, aws.table, clock);
        assertThat(released.schemaVersion()).isEqualTo(1);
        // as a Lambda function opens it (no migration): it reads, but blob references refuse to answer
        try (Storage unmigrated = AwsStorage.open(new AwsClients(AwsFixture.sdkEnv()), aws.bucket, aws.table, false,
                clock)) {
            assertThat(unmigrated.manifestIndex().listManifests(ReleasedStoreContent.REPOSITORY, 10, null).items())
                    .hasSize(2);
            assertThatThrownBy(() -> unmigrated.blobIndex().isReferenced(content.tagged.layerDigest()))
                    .isInstanceOf(StoreException.class).hasMessageContaining("until it is migrated");
        }
        Storage storage = open(); // as the CLI opens it: migrates
        assertThat(released.schemaVersion()).isEqualTo(DynamoIndex.SCHEMA_VERSION);
        content.storeBytes(storage.blobs(), storage.manifests()); // the bucket layout did not change
        try (AwsWiring wiring = new AwsWiring(MirrorConfig.defaults(), storage, CredentialStore.none(), id -> { },
                RegistryClient.defaultHttpClient(), clock, List.of())) {
            String repo = ReleasedStoreContent.REPOSITORY;
            assertThat(storage.manifestIndex().listManifests(repo, 10, null).items())
                    .containsExactlyInAnyOrder(content.tagged.record(), content.pinned.record());
            assertThat(storage.tagIndex().getTag(repo, ReleasedStoreContent.TAG).orElseThrow().digest())
                    .isEqualTo(content.tagged.record().digest());
            assertThat(storage.tagIndex().tagHistory(repo, ReleasedStoreContent.TAG, 10, null).items())
                    .extracting(TagEvent::cause).containsExactly("mirror");
            assertThat(storage.pinIndex().listPins(repo, 10, null).items()).singleElement()
                    .satisfies(p -> assertThat(p.digest()).isEqualTo(content.pinned.record().digest()));
            for (ReleasedStoreContent.Image i : content.images()) {
                assertThat(storage.blobIndex().referencingManifests(i.layerDigest(), 10, null).items())
                        .containsExactly(new BlobReference(i.layerDigest(), repo, i.record().digest()));
                assertThat(storage.blobIndex().isReferencedIn(i.record().configDigest(), repo)).isTrue();
            }

            DistributionApi api = wiring.registryApi();
            try (ApiResponse m = api.handle(ApiRequest.of("GET", "/v2/library/oldapp/manifests/1.0", Map.of()))) {
                assertThat(m.status()).isEqualTo(200);
                assertThat(bodyOf(m)).isEqualTo(content.tagged.manifest());
            }
            try (ApiResponse b = api.handle(ApiRequest.of("GET", "/v2/library/oldapp/blobs/"
                    + content.tagged.layerDigest(), Map.of()))) {
                assertThat(b.status()).isEqualTo(307); // to a presigned URL of the stored blob
                assertThat(b.header("Location")).contains(content.tagged.layerDigest().hex());
            }
            // a second open finds nothing to do; a later delete takes the migrated references along
            open().close();
            storage.tagIndex().deleteTag(repo, ReleasedStoreContent.TAG, content.tagged.record().digest(), "rm");
            assertThat(storage.manifestIndex().deleteManifestIfDangling(repo, content.tagged.record().digest(),
                    clock.instant().plus(Duration.ofDays(1)))).isTrue();
            assertThat(storage.blobIndex().isReferenced(content.tagged.layerDigest())).isFalse();
            assertThat(storage.blobIndex().isReferenced(content.pinned.layerDigest())).isTrue();
        }
    }

    @Test
    void aSchema2TablesUnreferencedBlobsBecomeSweepCandidatesWhenMigrated() {
        // the release before the sweeper: references written (schema 2), no candidate marks anywhere
        put("pk", "META", "sk", "SCHEMA", "version", 2);
        String repo = ReleasedStoreContent.REPOSITORY;
        for (ReleasedStoreContent.Image i : content.images()) {
            for (Digest b : List.of(i.record().configDigest(), i.layerDigest())) {
                put("pk", "BLOB#" + b, "sk", "REF#" + repo + "#" + i.record().digest(), "repo", repo,
                        "manifest", i.record().digest().toString());
            }
        }
        Digest orphan = Digest.sha256("a layer whose last manifest went before the sweeper".getBytes());
        put("pk", "BLOB#" + orphan, "sk", "BLOB", "size", 51, "lastTouched", Timestamps.toMicros(clock.instant()));
        try (Storage storage = open()) {
            assertThat(new DynamoIndex(aws.dynamo, aws.table, clock).schemaVersion())
                    .isEqualTo(DynamoIndex.SCHEMA_VERSION);
            List<Digest> candidates = storage.blobIndex().listBlobCandidates(clock.instant().plusSeconds(1), 100, null)
                    .items().stream().map(BlobCandidate::digest).toList();
            assertThat(candidates).contains(orphan);
            for (ReleasedStoreContent.Image i : content.images()) {
                assertThat(candidates).doesNotContain(i.layerDigest(), i.record().configDigest());
            }
            // so the sweeper reclaims it, and nothing referenced
            clock.advance(Duration.ofDays(2));
            SweepReport report = new Sweeper(storage, clock).run(Duration.ofDays(1), false, 100,
                    Sweeper.Listener.NONE);
            assertThat(report.blobsDeleted()).isEqualTo(1);
            assertThat(storage.blobIndex().getBlobRecord(orphan)).isEmpty();
            assertThat(storage.blobIndex().getBlobRecord(content.tagged.layerDigest())).isPresent();
        }
        open().close(); // nothing left to do: one read
    }

    @Test
    void aTableOfANewerProgramIsRefused() {
        put("pk", "META", "sk", "SCHEMA", "version", DynamoIndex.SCHEMA_VERSION + 1);
        assertThatThrownBy(this::open).isInstanceOf(StoreException.class).hasMessageContaining("newer");
    }
}
