package io.imagemirror.aws.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imagemirror.oci.ContentMismatchException;
import io.imagemirror.oci.Digest;
import io.imagemirror.store.BigBlobPut;
import io.imagemirror.store.BlobStore;
import io.imagemirror.store.BlobStoreContract;
import io.imagemirror.store.GeneratedBlob;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;

/** The blob contract against s3proxy 4.1.0, plus S3 specifics: key layout and the multipart path. */
class S3BlobStoreTest extends BlobStoreContract {

    static S3Client s3;
    static S3Presigner presigner;
    static String bucket;
    String namespace;

    @BeforeAll
    static void bucket() {
        AwsClients clients = TestServers.clients();
        s3 = clients.s3();
        presigner = clients.s3Presigner();
        bucket = TestServers.uniqueName("im-s3-contract");
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
        // A namespace per test keeps tests apart inside the class's bucket.
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
        return new BigPutChild(BigPut.class, List.of(bucket, namespace));
    }

    /** The child JVM of the 200 MiB check: {@code BigPut BUCKET NAMESPACE}, default threshold and parts. */
    public static final class BigPut {
        public static void main(String[] args) throws Exception {
            AwsClients clients = new AwsClients(TestServers.env());
            try (S3Client client = clients.s3()) {
                BigBlobPut.putInThisJvm(new S3BlobStore(client, null, args[0], args[1]));
            }
        }
    }

    @Test
    void keysAreNamespaceAlgorithmHex() throws Exception {
        byte[] b = bytes("key layout");
        Digest d = Digest.sha256(b);
        store.put(d, b.length, new ByteArrayInputStream(b));
        assertThat(s3.headObject(h -> h.bucket(bucket).key(namespace + "/sha256/" + d.hex())).contentLength())
                .isEqualTo(b.length);
        assertThat(new S3BlobStore(s3, presigner, bucket, "blobs").keyOf(d)).isEqualTo("blobs/sha256/" + d.hex());
        assertThat(new S3BlobStore(s3, presigner, bucket, "manifests").keyOf(d)).isEqualTo("manifests/sha256/" + d.hex());
    }

    private S3BlobStore multipartStore() {
        return new S3BlobStore(s3, presigner, bucket, namespace, S3BlobStore.MIN_PART_SIZE, S3BlobStore.MIN_PART_SIZE);
    }

    @Test
    void aboveTheThresholdTheUploadIsMultipartAndWhole() throws Exception {
        GeneratedBlob blob = new GeneratedBlob(12L << 20, 12);
        Digest d = blob.digest();
        try (InputStream in = blob.stream()) {
            assertThat(multipartStore().put(d, blob.size(), in)).isEqualTo(BlobStore.PutResult.STORED);
        }
        String etag = s3.headObject(h -> h.bucket(bucket).key(namespace + "/sha256/" + d.hex())).eTag();
        assertThat(etag).as("a multipart ETag ends in -<parts>").endsWith("-3\"");
        BlobStore.Content c = store.open(d).orElseThrow();
        assertThat(c.size()).isEqualTo(blob.size());
        try (InputStream got = c.stream(); InputStream want = blob.stream()) {
            assertThat(got).hasSameContentAs(want);
        }
        try (InputStream in = blob.stream()) {
            assertThat(multipartStore().put(d, blob.size(), in)).isEqualTo(BlobStore.PutResult.ALREADY_EXISTS);
        }
    }

    @Test
    void aMultipartUploadThatFailsVerificationIsAbortedAndInvisible() throws Exception {
        GeneratedBlob blob = new GeneratedBlob(11L << 20, 11);
        Digest wrong = new GeneratedBlob(11L << 20, 99).digest();
        try (InputStream in = blob.stream()) {
            assertThatThrownBy(() -> multipartStore().put(wrong, blob.size(), in))
                    .isInstanceOf(ContentMismatchException.class);
        }
        assertThat(store.exists(wrong)).isFalse();
        assertThat(s3.listMultipartUploads(b -> b.bucket(bucket).prefix(namespace + "/")).uploads()).isEmpty();
        try (InputStream in = new GeneratedBlob(11L << 20, 11).stream()) {
            assertThatThrownBy(() -> multipartStore().put(blob.digest(), blob.size() + 1, in))
                    .isInstanceOf(ContentMismatchException.class);
        }
        assertThat(store.exists(blob.digest())).isFalse();
        assertThat(s3.listMultipartUploads(b -> b.bucket(bucket).prefix(namespace + "/")).uploads()).isEmpty();
    }

    @Test
    void aMissingBucketIsAClearError() {
        S3BlobStore nowhere = new S3BlobStore(s3, presigner, TestServers.uniqueName("im-absent"), "blobs");
        byte[] b = bytes("x");
        assertThatThrownBy(() -> nowhere.put(Digest.sha256(b), 1, new ByteArrayInputStream(b)))
                .hasMessageContaining("does not exist");
        assertThatThrownBy(() -> nowhere.list(10, null)).hasMessageContaining("does not exist");
        assertThatThrownBy(() -> AwsStorage.ensureBucket(s3, TestServers.uniqueName("im-absent"), false))
                .hasMessageContaining("--create-missing");
    }

}
