package io.imagemirror.aws.store;

import io.imagemirror.store.CoordinationContract;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

/** The coordination contract (fill leases, quota ledger) on dynoxide. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DynamoCoordinationTest extends CoordinationContract<DynamoCoordination> {

    DynamoDbClient dynamo;
    String table;
    DynamoCoordination coordination;

    @BeforeAll
    void createTable() {
        dynamo = TestServers.clients().dynamoDb();
        table = TestServers.uniqueName("im-coordination");
        DynamoIndex.createTable(dynamo, table);
        coordination = new DynamoCoordination(dynamo, table);
    }

    @AfterAll
    void dropTable() {
        dynamo.deleteTable(b -> b.tableName(table));
        dynamo.close();
    }

    @Override
    protected DynamoCoordination coordination() {
        return coordination;
    }
}
