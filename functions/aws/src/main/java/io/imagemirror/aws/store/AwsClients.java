package io.imagemirror.aws.store;

import java.net.URI;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * Builds the SDK clients the way every entry point wants them: the light
 * {@link UrlConnectionHttpClient}, one instance shared by all of them; endpoints from the standard {@code AWS_ENDPOINT_URL_S3} /
 * {@code AWS_ENDPOINT_URL_DYNAMODB} (or {@code AWS_ENDPOINT_URL}) variables, with path-style S3
 * addressing whenever an endpoint is given (S3-compatible servers have no virtual-host DNS);
 * region and credentials from the variables or else the default chains (with a custom endpoint
 * and no region given, us-east-1 rather than a wait for the instance metadata service). The environment is passed in, so tests can
 * point it anywhere; {@link #fromEnvironment()} reads the process's.
 */
public final class AwsClients {

    /** Used when a custom endpoint is set and neither AWS_REGION nor aws.region names a region. */
    static final Region FALLBACK_REGION = Region.US_EAST_1;

    private final Map<String, String> env;
    /**
     * One HTTP client for every SDK client built here: each {@link UrlConnectionHttpClient} builds its
     * own SSLContext and reads the trust store, ~50 ms of a cold start apiece. The SDK leaves a client
     * it was given open when the service client closes; this one holds nothing to close (its
     * {@code close()} does nothing, connections are the JDK's).
     */
    private SdkHttpClient http;

    public AwsClients(Map<String, String> env) {
        this.env = Map.copyOf(Objects.requireNonNull(env, "env"));
    }

    public static AwsClients fromEnvironment() {
        return new AwsClients(System.getenv());
    }

    private Optional<URI> endpoint(String service) {
        String v = env.get("AWS_ENDPOINT_URL_" + service);
        if (v == null || v.isBlank()) {
            v = env.get("AWS_ENDPOINT_URL");
        }
        return v == null || v.isBlank() ? Optional.empty() : Optional.of(URI.create(v.trim()));
    }

    public Optional<URI> s3Endpoint() {
        return endpoint("S3");
    }

    public Optional<URI> dynamoDbEndpoint() {
        return endpoint("DYNAMODB");
    }

    public Optional<URI> sqsEndpoint() {
        return endpoint("SQS");
    }

    public Optional<URI> secretsManagerEndpoint() {
        return endpoint("SECRETS_MANAGER");
    }

    private synchronized SdkHttpClient http() {
        if (http == null) {
            http = UrlConnectionHttpClient.create();
        }
        return http;
    }

    Region region() {
        String v = env.getOrDefault("AWS_REGION", env.get("AWS_DEFAULT_REGION"));
        if (v != null && !v.isBlank()) {
            return Region.of(v.trim());
        }
        if (s3Endpoint().isPresent() || dynamoDbEndpoint().isPresent()) {
            // An S3/DynamoDB-compatible server: do not wait for the instance metadata service.
            String prop = System.getProperty("aws.region");
            return prop == null || prop.isBlank() ? FALLBACK_REGION : Region.of(prop.trim());
        }
        return new DefaultAwsRegionProviderChain().getRegion();
    }

    AwsCredentialsProvider credentials() {
        String id = env.get("AWS_ACCESS_KEY_ID");
        String secret = env.get("AWS_SECRET_ACCESS_KEY");
        if (id != null && secret != null && env.get("AWS_SESSION_TOKEN") == null) {
            return StaticCredentialsProvider.create(AwsBasicCredentials.create(id, secret));
        }
        return DefaultCredentialsProvider.builder().build();
    }

    public S3Client s3() {
        var b = S3Client.builder().httpClient(http()).region(region())
                .credentialsProvider(credentials());
        s3Endpoint().ifPresent(uri -> b.endpointOverride(uri).forcePathStyle(true));
        return b.build();
    }

    public S3Presigner s3Presigner() {
        var b = S3Presigner.builder().region(region()).credentialsProvider(credentials());
        s3Endpoint().ifPresent(uri -> b.endpointOverride(uri)
                .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(true).build()));
        return b.build();
    }

    public DynamoDbClient dynamoDb() {
        var b = DynamoDbClient.builder().httpClient(http()).region(region())
                .credentialsProvider(credentials());
        dynamoDbEndpoint().ifPresent(b::endpointOverride);
        return b.build();
    }

    /** The SQS client; endpoint from {@code AWS_ENDPOINT_URL_SQS} (or {@code AWS_ENDPOINT_URL}) when set. */
    public SqsClient sqs() {
        var b = SqsClient.builder().httpClient(http()).region(region())
                .credentialsProvider(credentials());
        sqsEndpoint().ifPresent(b::endpointOverride);
        return b.build();
    }

    /** The Secrets Manager client; endpoint from {@code AWS_ENDPOINT_URL_SECRETS_MANAGER} when set. */
    public SecretsManagerClient secretsManager() {
        var b = SecretsManagerClient.builder().httpClient(http()).region(region())
                .credentialsProvider(credentials());
        secretsManagerEndpoint().ifPresent(b::endpointOverride);
        return b.build();
    }
}
