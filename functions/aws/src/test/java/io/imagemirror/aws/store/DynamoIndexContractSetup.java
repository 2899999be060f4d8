package io.imagemirror.aws.store;

import io.imagemirror.store.MetadataStoreContract;
import io.imagemirror.store.Storage;
import io.imagemirror.store.InMemoryBlobStore;
import io.imagemirror.store.TickingClock;
import java.util.List;
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
abstract class DynamoIndexContractSetup extends MetadataStoreContract {

    DynamoDbClient dynamo;
    String table;

    abstract Map<String, String> env();

    @BeforeAll
    void createTable() {
        dynamo = new AwsClients(env()).dynamoDb();
        table = TestServers.uniqueName("im-metadata-contract");
        DynamoIndex.createTable(dynamo, table);
    }

    @AfterAll
    void dropTable() {
        dynamo.deleteTable(b -> b.tableName(table));
        dynamo.close();
    }

    @Override
    protected Storage newStorage(TickingClock clock) {
        return Storage.of(new InMemoryBlobStore(), new InMemoryBlobStore(), new DynamoIndex(dynamo, table, clock),
                List.of());
    }
}
