package io.imagemirror.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imagemirror.config.ConfigException;
import io.imagemirror.config.MirrorConfig;
import io.imagemirror.store.StoreException;
import io.imagemirror.upstream.RegistryClient;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Building the functions' objects from the environment; the happy path runs in the handler tests. */
class AwsWiringTest {

    @Test
    void theCopyWorkersRangedPartsFollowLargeBlobsParallelism() {
        MirrorConfig one = AwsWiring.config(Map.of(AwsWiring.CONFIG, "{\"largeBlobs\": {\"parallelism\": 1}}"));
        MirrorConfig defaults = AwsWiring.config(Map.of());
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newCachedThreadPool();
        try (software.amazon.awssdk.services.s3.S3Client s3 = new io.imagemirror.aws.store.AwsClients(
                Map.of("AWS_REGION", "us-east-1", "AWS_ACCESS_KEY_ID", "k", "AWS_SECRET_ACCESS_KEY", "s")).s3()) {
            io.imagemirror.aws.store.S3BlobStore blobs = new io.imagemirror.aws.store.S3BlobStore(s3, null, "b", "blobs");
            // 4 parts uploading, plus the part hashed next and those fetched ahead of it
            assertThat(AwsWiring.resumableCopies(blobs, pool, pool, one.largeBlobs().parallelism()).buffersPerCopy())
                    .isEqualTo(4 + 1);
            assertThat(AwsWiring.resumableCopies(blobs, pool, pool, defaults.largeBlobs().parallelism())
                    .buffersPerCopy()).isEqualTo(4 + 4);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void largeCopiesShareThreeQuartersOfTheHeapLessWhatTheRestNeeds() {
        long mib = 1L << 20;
        // a heap of 1.5 GiB: 8 large copies (8 parts of 16 MiB each) at once
        assertThat(AwsWiring.partBufferBudget(1536 * mib)).isEqualTo(1088 * mib);
        // a 512 MB function with the JVM's default heap (a quarter): one copy at a time
        assertThat(AwsWiring.partBufferBudget(128 * mib)).isEqualTo(32 * mib);
        assertThat(AwsWiring.partBufferBudget(64 * mib)).isEqualTo(mib);
    }

    @Test
    void theConfigIsTheLocalSchemaAsJsonWithVariablesExpanded() {
        MirrorConfig c = AwsWiring.config(Map.of(AwsWiring.CONFIG, """
                {"upstreams": [{"name": "ghcr.io", "username": "bot", "password": "${GHCR_TOKEN}"},
                               {"name": "docker.io"}],
                 "defaultUpstream": "ghcr.io", "tagTtl": "10m"}""", "GHCR_TOKEN", "ghp_x"));
        assertThat(c.upstreams()).containsOnlyKeys("ghcr.io", "docker.io");
        assertThat(c.defaultUpstream()).isEqualTo("ghcr.io");
        assertThat(c.upstream("ghcr.io")).hasValueSatisfying(u -> assertThat(u.password()).isEqualTo("ghp_x"));
        assertThat(AwsWiring.config(Map.of())).isEqualTo(MirrorConfig.defaults());
    }

    @Test
    void aBadConfigIsNamedWithoutQuotingIt() {
        assertThatThrownBy(() -> AwsWiring.config(Map.of(AwsWiring.CONFIG,
                "{\"upstreams\": [{\"name\": \"x.io\", \"password\": hunter2}]}")))
                .isInstanceOf(ConfigException.class).hasMessageContaining(AwsWiring.CONFIG)
                .hasMessageNotContaining("hunter2");
        assertThatThrownBy(() -> AwsWiring.config(Map.of(AwsWiring.CONFIG, "{\"upstream\": []}")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("unknown configuration key upstream");
    }

    @Test
    void missingVariablesAndResourcesAreNamed() {
        Map<String, String> env = new HashMap<>(AwsFixture.sdkEnv());
        assertThatThrownBy(() -> AwsWiring.fromEnvironment(env, RegistryClient.defaultHttpClient(), Clock.systemUTC()))
                .isInstanceOf(ConfigException.class).hasMessageContaining(AwsWiring.BUCKET);
        env.put(AwsWiring.BUCKET, "wiring-no-such-bucket");
        env.put(AwsWiring.TABLE, "wiring-no-such-table");
        assertThatThrownBy(() -> AwsWiring.fromEnvironment(env, RegistryClient.defaultHttpClient(), Clock.systemUTC()))
                .isInstanceOf(ConfigException.class).hasMessageContaining(AwsWiring.QUEUE_URL);
        env.put(AwsWiring.QUEUE_URL, "http://127.0.0.1:1/000000000000/none");
        assertThatThrownBy(() -> AwsWiring.fromEnvironment(env, RegistryClient.defaultHttpClient(), Clock.systemUTC()))
                .isInstanceOf(StoreException.class).hasMessageContaining("wiring-no-such-bucket");
    }
}
