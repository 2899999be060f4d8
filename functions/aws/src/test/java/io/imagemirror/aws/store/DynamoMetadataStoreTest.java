package io.imagemirror.aws.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.imagemirror.store.MetadataStore;
import io.imagemirror.store.MetadataStoreContract;
import io.imagemirror.store.TickingClock;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/** The metadata contract against dynoxide 1.2.1, plus the table design's specifics. */
class DynamoMetadataStoreTest extends MetadataStoreContract {

    static DynamoDbClient dynamo;
    static String table;

    @BeforeAll
    static void table() {
        dynamo = TestServers.clients().dynamoDb();
        table = TestServers.uniqueName("im-dynamo-contract");
        DynamoMetadataStore.createTable(dynamo, table);
    }

    @AfterAll
    static void dropTable() {
        dynamo.deleteTable(b -> b.tableName(table));
        dynamo.close();
    }

    @Override
    protected MetadataStore newStore(TickingClock clock) {
        return new DynamoMetadataStore(dynamo, table, clock);
    }

    @Test
    void tableHasTheSparseIndexAndTtl() {
        var t = dynamo.describeTable(b -> b.tableName(table)).table();
        assertThat(t.globalSecondaryIndexes()).extracting(g -> g.indexName()).containsExactly(DynamoMetadataStore.GSI);
        assertThat(dynamo.describeTimeToLive(b -> b.tableName(table)).timeToLiveDescription().attributeName())
                .isEqualTo("ttl");
    }

    @Test
    void taggedManifestLeavesTheDanglingIndex() {
        var m = image(repo, "gsi");
        store.putManifest(m);
        Map<String, AttributeValue> key = Map.of("pk", AttributeValue.fromS("REPO#" + repo),
                "sk", AttributeValue.fromS("MANIFEST#" + m.digest()));
        assertThat(dynamo.getItem(b -> b.tableName(table).key(key)).item()).containsKey("gsi1pk");
        store.setTag(repo, "latest", null, m.digest(), "mirror");
        var item = dynamo.getItem(b -> b.tableName(table).key(key)).item();
        assertThat(item).doesNotContainKey("gsi1pk");
        assertThat(item.get("refTags").n()).isEqualTo("1");
    }
}
