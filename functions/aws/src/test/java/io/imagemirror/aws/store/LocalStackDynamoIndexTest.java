package io.imagemirror.aws.store;

import java.util.Map;
import org.testcontainers.junit.jupiter.Testcontainers;

/** The metadata contract against LocalStack's DynamoDB; skipped (and reported skipped) without Docker. */
@Testcontainers(disabledWithoutDocker = true)
class LocalStackDynamoIndexTest extends DynamoIndexContractSetup {
    @Override
    Map<String, String> env() {
        return LocalStack.env();
    }
}
