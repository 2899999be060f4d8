package io.imagemirror.aws.store;

import io.imagemirror.store.MetadataStore;
import io.imagemirror.store.MetadataStoreContract;
import io.imagemirror.store.TickingClock;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

/**
 * The metadata contract on some DynamoDB-compatible server: one table per test class (tests
 * keep apart by their own repository names). Subclasses say which server through {@link #env()}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class DynamoMetadataStoreContractSetup extends MetadataStoreContract {

    DynamoDbClient dynamo;
    String table;

    abstract Map<String, String> env();

    @BeforeAll
    void createTable() {
        dynamo = new AwsClients(env()).dynamoDb();
        table = TestServers.uniqueName("im-metadata-contract");
        DynamoMetadataStore.createTable(dynamo, table);
    }

    @AfterAll
    void dropTable() {
        dynamo.deleteTable(b -> b.tableName(table));
        dynamo.close();
    }

    @Override
    protected MetadataStore newStore(TickingClock clock) {
        return new DynamoMetadataStore(dynamo, table, clock);
    }
}
