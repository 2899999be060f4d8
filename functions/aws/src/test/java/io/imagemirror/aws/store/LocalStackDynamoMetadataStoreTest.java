package io.imagemirror.aws.store;

import io.imagemirror.store.MetadataStore;
import io.imagemirror.store.MetadataStoreContract;
import io.imagemirror.store.TickingClock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.testcontainers.junit.jupiter.Testcontainers;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

/** The metadata contract against LocalStack's DynamoDB; skipped (and reported skipped) without Docker. */
@Testcontainers(disabledWithoutDocker = true)
class LocalStackDynamoMetadataStoreTest extends MetadataStoreContract {

    static DynamoDbClient dynamo;
    static String table;

    @BeforeAll
    static void table() {
        dynamo = new AwsClients(LocalStack.env()).dynamoDb();
        table = TestServers.uniqueName("im-localstack");
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
}
