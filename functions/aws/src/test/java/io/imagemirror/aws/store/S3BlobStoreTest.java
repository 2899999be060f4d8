package io.imagemirror.aws.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imagemirror.oci.ContentMismatchException;
import io.imagemirror.oci.Digest;
import io.imagemirror.store.BlobStore;
import io.imagemirror.store.GeneratedBlob;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The blob contract against s3proxy 4.1.0, plus S3 specifics: key layout and the multipart path. */
class S3BlobStoreTest extends S3BlobStoreContractSetup {

    @Override
    Map<String, String> env() {
        return TestServers.env();
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
