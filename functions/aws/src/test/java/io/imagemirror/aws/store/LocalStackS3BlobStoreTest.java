package io.imagemirror.aws.store;

import io.imagemirror.store.BigBlobPut;
import io.imagemirror.store.BlobStore;
import io.imagemirror.store.BlobStoreContract;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.testcontainers.junit.jupiter.Testcontainers;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;

/** The blob contract against LocalStack's S3; skipped (and reported skipped) without Docker. */
@Testcontainers(disabledWithoutDocker = true)
class LocalStackS3BlobStoreTest extends BlobStoreContract {

    static S3Client s3;
    static S3Presigner presigner;
    static String bucket;
    String namespace;

    @BeforeAll
    static void bucket() {
        AwsClients clients = new AwsClients(LocalStack.env());
        s3 = clients.s3();
        presigner = clients.s3Presigner();
        bucket = TestServers.uniqueName("im-localstack");
        AwsStorage.ensureBucket(s3, bucket, true);
    }

    @AfterAll
    static void dropBucket() {
        TestServers.drop(s3, bucket);
        presigner.close();
        s3.close();
    }

    @Override
    protected BlobStore newStore() {
        namespace = "t" + UUID.randomUUID().toString().replaceAll("[^a-f]", "");
        return new S3BlobStore(s3, presigner, bucket, namespace);
    }

    @Override
    protected void cleanUp(BlobStore store) {
        TestServers.empty(s3, bucket, namespace + "/", false);
    }

    @Override
    protected boolean exactPutResult() {
        return false;
    }

    @Override
    protected boolean presigns() {
        return true;
    }

    @Override
    protected BigPutChild bigPutChild() {
        return new BigPutChild(BigPut.class, List.of(bucket, namespace, LocalStack.container().getEndpoint().toString()));
    }

    /** {@code BigPut BUCKET NAMESPACE ENDPOINT} in the child JVM. */
    public static final class BigPut {
        public static void main(String[] args) throws Exception {
            AwsClients clients = new AwsClients(java.util.Map.of("AWS_ENDPOINT_URL_S3", args[2], "AWS_REGION",
                    "us-east-1", "AWS_ACCESS_KEY_ID", "test", "AWS_SECRET_ACCESS_KEY", "test"));
            try (S3Client client = clients.s3()) {
                BigBlobPut.putInThisJvm(new S3BlobStore(client, null, args[0], args[1]));
            }
        }
    }
}
