package io.imagemirror.aws.store;

import java.util.Map;
import org.testcontainers.junit.jupiter.Testcontainers;

/** The blob contract against LocalStack's S3; skipped (and reported skipped) without Docker. */
@Testcontainers(disabledWithoutDocker = true)
class LocalStackS3BlobStoreTest extends S3BlobStoreContractSetup {
    @Override
    Map<String, String> env() {
        return LocalStack.env();
    }
}
