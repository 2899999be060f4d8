package io.imagemirror.aws;

import io.imagemirror.testbed.LocalRegistry;
import java.nio.file.Path;
import okhttp3.Interceptor;

/**
 * What most handler tests start with: a real docker-registry playing Docker Hub, an
 * {@link AwsFixture} on the test bed, and the production wiring between them. {@link #close()}
 * closes the three in reverse order; a start that fails half-way closes what it started.
 *
 * @param upstream the registry the wiring takes for {@code docker.io}
 * @param aws the bucket, table and queues
 * @param wiring the production wiring over both
 */
public record AwsWithUpstream(LocalRegistry upstream, AwsFixture aws, AwsWiring wiring) implements AutoCloseable {

    /**
     * @param prefix names the bucket, table and queues (unique per test class)
     * @param extraConfig more top-level configuration JSON members, or null
     * @param counter sees every request the wiring sends upstream
     */
    public static AwsWithUpstream start(Path dir, String prefix, String extraConfig, Interceptor counter) {
        LocalRegistry upstream = LocalRegistry.start(dir);
        AwsFixture aws = null;
        try {
            aws = new AwsFixture(prefix);
            return new AwsWithUpstream(upstream, aws, aws.wiringWithDockerHubAt(upstream, extraConfig, counter));
        } catch (RuntimeException | Error e) {
            if (aws != null) {
                aws.close();
            }
            upstream.close();
            throw e;
        }
    }

    @Override
    public void close() {
        try {
            wiring.close();
        } finally {
            try {
                aws.close();
            } finally {
                upstream.close();
            }
        }
    }
}
