package io.imagemirror.aws.store;

import java.util.Map;
import org.testcontainers.localstack.LocalStackContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * One LocalStack container for the LocalStack contract classes (started on first use, stopped by
 * Testcontainers' reaper at JVM exit). Pinned: recent {@code latest} images want an auth token.
 */
final class LocalStack {
    private LocalStack() {
    }

    static final DockerImageName IMAGE = DockerImageName.parse("localstack/localstack:3.8.1");

    private static LocalStackContainer container;

    static synchronized LocalStackContainer container() {
        if (container == null) {
            container = new LocalStackContainer(IMAGE).withServices("s3", "dynamodb");
            container.start();
        }
        return container;
    }

    static Map<String, String> env() {
        LocalStackContainer c = container();
        return Map.of("AWS_ENDPOINT_URL_S3", c.getEndpoint().toString(),
                "AWS_ENDPOINT_URL_DYNAMODB", c.getEndpoint().toString(),
                "AWS_REGION", c.getRegion(), "AWS_ACCESS_KEY_ID", c.getAccessKey(),
                "AWS_SECRET_ACCESS_KEY", c.getSecretKey());
    }
}
