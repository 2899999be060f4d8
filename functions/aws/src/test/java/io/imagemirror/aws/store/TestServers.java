package io.imagemirror.aws.store;

import io.imagemirror.testbed.TestBed;
import java.util.Map;
import java.util.UUID;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/** Clients for the test bed's s3proxy and dynoxide, and unique names so concurrent test runs never meet. */
final class TestServers {
    private TestServers() {
    }

    static Map<String, String> env() {
        return Map.of("AWS_ENDPOINT_URL_S3", TestBed.s3().toString(),
                "AWS_ENDPOINT_URL_DYNAMODB", TestBed.dynamoDb().toString(),
                "AWS_REGION", TestBed.REGION, "AWS_ACCESS_KEY_ID", TestBed.ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY", TestBed.SECRET_KEY);
    }

    static AwsClients clients() {
        return new AwsClients(env());
    }

    static String uniqueName(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 12);
    }

    /** Deletes every object under {@code prefix} (or all), then, if asked, the bucket. */
    static void drop(S3Client s3, String bucket) {
        // A put still finishing on a pool thread of a failed test can land after the first sweep.
        for (int attempt = 1; ; attempt++) {
            try {
                empty(s3, bucket, "", true);
                return;
            } catch (software.amazon.awssdk.services.s3.model.S3Exception e) {
                if (attempt == 5) {
                    throw new IllegalStateException("cannot drop " + bucket + "; left: "
                            + s3.listObjectsV2(b -> b.bucket(bucket)).contents() + " uploads: "
                            + s3.listMultipartUploads(b -> b.bucket(bucket)).uploads(), e);
                }
                try {
                    Thread.sleep(500);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    static void empty(S3Client s3, String bucket, String prefix, boolean deleteBucket) {
        String token = null;
        do {
            String t = token;
            var r = s3.listObjectsV2(b -> b.bucket(bucket).prefix(prefix).continuationToken(t));
            for (S3Object o : r.contents()) {
                s3.deleteObject(b -> b.bucket(bucket).key(o.key()));
            }
            token = Boolean.TRUE.equals(r.isTruncated()) ? r.nextContinuationToken() : null;
        } while (token != null);
        if (deleteBucket) {
            var uploads = s3.listMultipartUploads(b -> b.bucket(bucket)).uploads();
            uploads.forEach(u -> s3.abortMultipartUpload(b -> b.bucket(bucket).key(u.key()).uploadId(u.uploadId())));
            s3.deleteBucket(b -> b.bucket(bucket));
        }
    }
}
