package io.imagemirror.aws.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imagemirror.oci.MediaTypes;
import io.imagemirror.store.BlobRef;
import io.imagemirror.store.ManifestRecord;
import io.imagemirror.store.BlobCandidate;
import io.imagemirror.store.MissingManifestException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/** The metadata contract against dynoxide 1.2.1, plus the table design's specifics. */
class DynamoIndexTest extends DynamoIndexContractSetup {

    @Override
    Map<String, String> env() {
        return TestServers.env();
    }

    @Test
    void tableHasTheSparseIndexAndTtl() {
        var t = dynamo.describeTable(b -> b.tableName(table)).table();
        assertThat(t.globalSecondaryIndexes()).extracting(g -> g.indexName()).containsExactly(DynamoIndex.GSI);
        assertThat(dynamo.describeTimeToLive(b -> b.tableName(table)).timeToLiveDescription().attributeName())
                .isEqualTo("ttl");
    }

    @Test
    void taggedManifestLeavesTheDanglingIndex() {
        var m = image(repo, "gsi");
        manifests.putManifest(m);
        Map<String, AttributeValue> key = Map.of("pk", AttributeValue.fromS("REPO#" + repo),
                "sk", AttributeValue.fromS("MANIFEST#" + m.digest()));
        assertThat(dynamo.getItem(b -> b.tableName(table).key(key)).item()).containsKey("gsi1pk");
        tags.setTag(repo, "latest", null, m.digest(), "mirror");
        var item = dynamo.getItem(b -> b.tableName(table).key(key)).item();
        assertThat(item).doesNotContainKey("gsi1pk");
        assertThat(item.get("refTags").n()).isEqualTo("1");
    }

    private ManifestRecord withBlobs(String name, int count) {
        List<BlobRef> refs = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            refs.add(new BlobRef(digest(name + " layer " + i), i));
        }
        return new ManifestRecord(repo, digest(name), MediaTypes.OCI_MANIFEST, 1, refs.get(0).digest(), refs,
                List.of(), null, null, null, java.util.Map.of(), clock.instant(), null, 0);
    }

    /**
     * The table's client, counting its {@code TransactWriteItems} calls and failing the {@code dieAt}-th
     * (0: never) as if the process died there: fault injection in front of the real server.
     */
    private DynamoDbClient counting(AtomicInteger transactions, int dieAt) {
        return (DynamoDbClient) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {DynamoDbClient.class}, (proxy, method, args) -> {
                    if (method.getName().equals("transactWriteItems") && transactions.incrementAndGet() == dieAt) {
                        throw new IllegalStateException("the writer died here");
                    }
                    try {
                        return method.invoke(dynamo, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    @Test
    void upTo49BlobsGoInOneTransactionAndMoreInStepsOf99Items() {
        for (int[] c : new int[][] {{49, 1}, {50, 2}, {120, 3}}) {
            ManifestRecord m = withBlobs("steps " + c[0], c[0]);
            AtomicInteger transactions = new AtomicInteger();
            DynamoIndex index = new DynamoIndex(counting(transactions, 0), table, clock);
            assertThat(index.putManifest(m)).isTrue();
            assertThat(transactions.get()).as(c[0] + " blobs").isEqualTo(c[1]);
            assertThat(blobs.isReferencedIn(m.blobs().get(c[0] - 1).digest(), repo)).isTrue();
            transactions.set(0);
            assertThat(index.deleteManifestIfDangling(repo, m.digest(), clock.instant())).isTrue();
            assertThat(transactions.get()).as("the delete of " + c[0] + " blobs").isEqualTo(c[1]);
            assertThat(blobs.isReferenced(m.blobs().get(0).digest())).isFalse();
        }
    }

    @Test
    void aStepwiseWriteCutShortLeavesOnlyReferencesThatASweepClearsOrTheNextWriteFinishes() {
        ManifestRecord big = withBlobs("cut short", 120); // 240 items: three steps
        Map<String, AttributeValue> key = Map.of("pk", AttributeValue.fromS("REPO#" + repo),
                "sk", AttributeValue.fromS("MANIFEST#" + big.digest()));
        DynamoIndex dying = new DynamoIndex(counting(new AtomicInteger(), 2), table, clock);
        assertThatThrownBy(() -> dying.putManifest(big)).hasMessageContaining("died");
        // not recorded: no read returns it and nothing can refer to it
        assertThat(manifests.getManifest(repo, big.digest())).isEmpty();
        assertThat(manifests.referenceCounts(repo, big.digest())).isEmpty();
        assertThat(all((n, t) -> manifests.listManifests(repo, n, t), 100)).isEmpty();
        assertThat(all((n, t) -> manifests.listDanglingIn(repo, n, t), 100)).isEmpty();
        assertThat(manifests.recordPull(repo, big.digest())).isFalse();
        assertThatThrownBy(() -> tags.setTag(repo, "cut", null, big.digest(), "mirror"))
                .isInstanceOf(MissingManifestException.class);
        assertThatThrownBy(() -> pins.addPin(repo, big.digest())).isInstanceOf(MissingManifestException.class);
        // the first step's references keep their blobs; nothing after it was written
        assertThat(blobs.isReferenced(big.blobs().get(0).digest())).isTrue();
        assertThat(blobs.isReferenced(big.blobs().get(119).digest())).isFalse();

        // a sweep past the grace period releases it once its writer made no step for long (a live one
        // is left alone even by a zero-grace sweep): no reference left, its blobs candidates
        assertThat(manifests.deleteManifestIfDangling(repo, big.digest(), clock.instant().plusSeconds(1)))
                .as("its writer may be alive").isFalse();
        clock.advance(DynamoIndex.ABANDONED_AFTER.plusMinutes(1));
        Instant later = clock.instant().plus(Duration.ofHours(1));
        assertThat(manifests.deleteManifestIfDangling(repo, big.digest(), clock.instant().minus(Duration.ofHours(1))))
                .as("within the grace period").isFalse();
        assertThat(all((n, t) -> manifests.listDangling(later, n, t), 100)).extracting(ManifestRecord::digest)
                .contains(big.digest());
        assertThat(manifests.deleteManifestIfDangling(repo, big.digest(), later)).isTrue();
        for (BlobRef b : big.blobs()) {
            assertThat(blobs.isReferenced(b.digest())).isFalse();
        }
        assertThat(all((n, t) -> blobs.listBlobCandidates(clock.instant(), n, t), 100))
                .extracting(BlobCandidate::digest).contains(big.blobs().get(0).digest());
        assertThat(dynamo.getItem(b -> b.tableName(table).key(key).consistentRead(true)).item()).isEmpty();

        // cut short again (after two steps): the next writer finishes what is there
        DynamoIndex dyingLater = new DynamoIndex(counting(new AtomicInteger(), 3), table, clock);
        assertThatThrownBy(() -> dyingLater.putManifest(big)).hasMessageContaining("died");
        assertThat(manifests.putManifest(big)).isTrue();
        assertThat(manifests.getManifest(repo, big.digest())).contains(big);
        for (BlobRef b : big.blobs()) {
            assertThat(blobs.referencingManifests(b.digest(), 10, null).items()).hasSize(1);
        }
        assertThat(dynamo.getItem(b -> b.tableName(table).key(key).consistentRead(true)).item())
                .doesNotContainKeys("writeState", "refsDone");

        // a delete cut short (a sweep killed mid-release, which goes backwards): not recorded any more,
        // and the next write takes it back from where it stands
        DynamoIndex dyingDelete = new DynamoIndex(counting(new AtomicInteger(), 2), table, clock);
        Instant muchLater = clock.instant().plus(Duration.ofHours(2));
        assertThatThrownBy(() -> dyingDelete.deleteManifestIfDangling(repo, big.digest(), muchLater))
                .hasMessageContaining("died");
        assertThat(manifests.getManifest(repo, big.digest())).isEmpty();
        assertThat(blobs.isReferenced(big.blobs().get(0).digest())).isTrue();
        assertThat(blobs.isReferenced(big.blobs().get(119).digest())).isFalse();
        assertThat(manifests.putManifest(big)).isTrue();
        for (BlobRef b : big.blobs()) {
            assertThat(blobs.referencingManifests(b.digest(), 10, null).items()).hasSize(1);
        }
        assertThat(manifests.deleteManifestIfDangling(repo, big.digest(), muchLater)).isTrue();
        assertThat(blobs.isReferenced(big.blobs().get(0).digest())).isFalse();
    }
}
