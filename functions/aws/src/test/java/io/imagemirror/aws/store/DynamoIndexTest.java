package io.imagemirror.aws.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imagemirror.oci.MediaTypes;
import io.imagemirror.store.BlobRef;
import io.imagemirror.store.ManifestRecord;
import io.imagemirror.store.StoreException;
import java.util.ArrayList;
import java.util.List;

import java.util.Map;
import org.junit.jupiter.api.Test;
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

    @Test
    void aManifestAndItsReferencesFillOneTransactionAndNoMore() {
        // A blob takes two items (its reference and its record's sweep check), and so does the manifest's
        // own digest (its bytes): 48 blobs fill 99 items.
        ManifestRecord full = withBlobs("full", DynamoIndex.MAX_MANIFEST_REFERENCES / 2 - 1);
        assertThat(manifests.putManifest(full)).isTrue();
        assertThat(blobs.isReferencedIn(full.blobs().get(47).digest(), repo)).isTrue();
        assertThat(blobs.isReferencedIn(full.digest(), repo)).isTrue();
        assertThat(manifests.deleteManifestIfDangling(repo, full.digest(), clock.instant())).isTrue();
        ManifestRecord tooMany = withBlobs("too many", DynamoIndex.MAX_MANIFEST_REFERENCES / 2);
        assertThatThrownBy(() -> manifests.putManifest(tooMany)).isInstanceOf(StoreException.class)
                .hasMessageContaining("lists 49 blobs").hasMessageContaining("at most 99 transaction items");
        assertThat(manifests.getManifest(repo, tooMany.digest())).isEmpty();
    }
}
