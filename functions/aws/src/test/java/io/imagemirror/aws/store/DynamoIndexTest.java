package io.imagemirror.aws.store;

import static org.assertj.core.api.Assertions.assertThat;

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
}
