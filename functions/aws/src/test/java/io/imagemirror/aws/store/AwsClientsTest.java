package io.imagemirror.aws.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.imagemirror.oci.Digest;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;

class AwsClientsTest {

    private static final Map<String, String> EMULATORS = Map.of(
            "AWS_ENDPOINT_URL_S3", "http://127.0.0.1:4561",
            "AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:4568",
            "AWS_ACCESS_KEY_ID", "test", "AWS_SECRET_ACCESS_KEY", "test");

    @Test
    void endpointsComeFromTheStandardVariables() {
        AwsClients c = new AwsClients(EMULATORS);
        assertThat(c.s3Endpoint()).contains(URI.create("http://127.0.0.1:4561"));
        assertThat(c.dynamoDbEndpoint()).contains(URI.create("http://127.0.0.1:4568"));
        try (S3Client s3 = c.s3(); DynamoDbClient dynamo = c.dynamoDb()) {
            assertThat(s3.serviceClientConfiguration().endpointOverride()).contains(URI.create("http://127.0.0.1:4561"));
            assertThat(dynamo.serviceClientConfiguration().endpointOverride())
                    .contains(URI.create("http://127.0.0.1:4568"));
        }
        AwsClients generic = new AwsClients(Map.of("AWS_ENDPOINT_URL", "http://localhost:4566"));
        assertThat(generic.s3Endpoint()).contains(URI.create("http://localhost:4566"));
        assertThat(new AwsClients(Map.of()).s3Endpoint()).isEmpty();
    }

    @Test
    void regionFromTheEnvironmentOrUsEast1ForACustomEndpoint() {
        assertThat(new AwsClients(Map.of("AWS_REGION", "eu-central-1")).region()).isEqualTo(Region.EU_CENTRAL_1);
        assertThat(new AwsClients(Map.of("AWS_DEFAULT_REGION", "eu-west-2")).region()).isEqualTo(Region.EU_WEST_2);
        if (System.getProperty("aws.region") == null) {
            assertThat(new AwsClients(EMULATORS).region()).isEqualTo(AwsClients.FALLBACK_REGION);
        }
    }

    @Test
    void presignedUrlsArePathStyleWithACustomEndpoint() {
        AwsClients clients = new AwsClients(EMULATORS);
        try (S3Presigner p = clients.s3Presigner(); S3Client s3 = clients.s3()) {
            Digest d = Digest.sha256(new byte[0]);
            URI url = new S3BlobStore(s3, p, "my-bucket", "blobs").presignGet(d, Duration.ofMinutes(5)).orElseThrow();
            assertThat(url.toString()).startsWith("http://127.0.0.1:4561/my-bucket/blobs/sha256/" + d.hex() + "?");
            assertThat(url.getQuery()).contains("X-Amz-Expires=300");
        }
    }
}
