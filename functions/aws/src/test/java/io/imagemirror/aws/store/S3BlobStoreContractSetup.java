package io.imagemirror.aws.store;

import io.imagemirror.store.BigBlobPut;
import io.imagemirror.store.BlobStore;
import io.imagemirror.store.BlobStoreContract;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;

/**
 * The blob contract on some S3-compatible server: one bucket per test class, one key prefix
 * (namespace) per test. Subclasses say which server through {@link #env()}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class S3BlobStoreContractSetup extends BlobStoreContract {

    S3Client s3;
    S3Presigner presigner;
    String bucket;
    String namespace;

    /** The AWS_* variables that point the clients at the server. */
    abstract Map<String, String> env();

    @BeforeAll
    void createBucket() {
        AwsClients clients = new AwsClients(env());
        s3 = clients.s3();
        presigner = clients.s3Presigner();
        bucket = TestServers.uniqueName("im-blob-contract");
        AwsStorage.ensureBucket(s3, bucket, true);
    }

    @AfterAll
    void dropBucket() {
        TestServers.drop(s3, bucket);
        presigner.close();
        s3.close();
    }

    @Override
    protected BlobStore newStore() {
        namespace = "t" + Long.toString(new Random().nextLong() & Long.MAX_VALUE, 36).replaceAll("[0-9]", "x");
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
        List<String> args = new ArrayList<>(List.of(bucket, namespace));
        env().forEach((k, v) -> args.add(k + "=" + v));
        return new BigPutChild(BigPut.class, args);
    }

    /**
     * The child JVM of the 200 MiB check: {@code BigPut BUCKET NAMESPACE NAME=VALUE...} with the
     * default multipart threshold and part size.
     */
    public static final class BigPut {
        public static void main(String[] args) throws Exception {
            Map<String, String> env = new java.util.HashMap<>();
            for (int i = 2; i < args.length; i++) {
                String[] kv = args[i].split("=", 2);
                env.put(kv[0], kv[1]);
            }
            try (S3Client client = new AwsClients(env).s3()) {
                BigBlobPut.putInThisJvm(new S3BlobStore(client, null, args[0], args[1]));
            }
        }
    }
}
