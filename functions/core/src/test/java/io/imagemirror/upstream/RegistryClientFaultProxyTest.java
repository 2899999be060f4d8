package io.imagemirror.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imagemirror.config.MirrorConfig;
import io.imagemirror.oci.ContentMismatchException;
import io.imagemirror.oci.Digest;
import io.imagemirror.oci.RegistryException;
import io.imagemirror.testbed.FaultProxy;
import io.imagemirror.testbed.FaultProxy.Fault;
import io.imagemirror.testbed.LocalRegistry;
import io.imagemirror.testbed.TestImage;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The upstream client through the fault-injecting proxy in front of a real registry: every broken
 * transfer either resumes to the exact bytes or fails with a clear, typed error.
 */
class RegistryClientFaultProxyTest {

    @TempDir
    static Path tmp;
    static LocalRegistry registry;
    static FaultProxy proxy;
    static RegistryClient client;
    static final TestImage.Blob LAYER = TestImage.layer(7, 300_000);

    @BeforeAll
    static void start() throws Exception {
        registry = LocalRegistry.start(tmp);
        registry.pusher().pushBlob("faults/app", LAYER.bytes());
        proxy = FaultProxy.start(registry.url());
        MirrorConfig config = MirrorConfig.defaults().withUpstream(new MirrorConfig.UpstreamConfig(proxy.hostPort(),
                URI.create(proxy.url().toString()), true, null, null, null, Set.of()));
        OkHttpClient http = RegistryClient.defaultHttpClient().newBuilder().readTimeout(10, TimeUnit.SECONDS).build();
        RetryPolicy retry = RetryPolicy.defaults().withSleeper(d -> { }).withMaxAttempts(3);
        client = new Upstreams(config.toUpstreamList(), CredentialStore.none(), http, Clock.systemUTC(), retry)
                .client(proxy.hostPort());
    }

    @AfterEach
    void noFaultLeft() {
        assertThat(proxy.pendingFaults()).as("every injected fault was used").isZero();
        proxy.clearFaults();
    }

    @AfterAll
    static void stop() {
        proxy.close();
        registry.close();
    }

    static byte[] read() throws Exception {
        try (InputStream in = client.openBlob("faults/app", Digest.parse(LAYER.digest()), LAYER.size())) {
            return in.readAllBytes();
        }
    }

    @Test
    void truncatedResetAndMisframedBodiesResumeToTheExactBytes() throws Exception {
        for (Fault f : List.of(Fault.truncateAt(100_000), Fault.resetAt(5), Fault.truncateAt(LAYER.size() - 1),
                Fault.lengthOver(), Fault.lengthUnder(), Fault.resetAt(LAYER.size() - 1))) {
            proxy.inject(f);
            assertThat(read()).as(f.toString()).isEqualTo(LAYER.bytes());
        }
    }

    /**
     * Issue 15 item 9: a response that ends cleanly one byte short of the blob (its Content-Length
     * says one byte less) is a short read like a cut connection, resumed with a Range request.
     */
    @Test
    void aResponseEndingOneByteShortResumesWithARange() throws Exception {
        proxy.inject(Fault.lengthUnder());
        assertThat(read()).isEqualTo(LAYER.bytes());
        List<String> gets = proxy.requestLines().stream().filter(l -> l.startsWith("GET ")).toList();
        assertThat(gets.subList(gets.size() - 2, gets.size())).allMatch(l -> l.contains(LAYER.digest()));
    }

    @Test
    void aFlippedByteFailsAsAMismatchAndIsNotRetriedIntoSuccess() {
        proxy.inject(Fault.flipAt(1234));
        assertThatThrownBy(RegistryClientFaultProxyTest::read).isInstanceOf(ContentMismatchException.class);
    }

    @Test
    void busyUpstreamIsRetriedThenReportedWithItsRetryAfter() throws Exception {
        proxy.inject(Fault.status(503, "1"));
        assertThat(read()).isEqualTo(LAYER.bytes());
        for (int i = 0; i < 3; i++) {
            proxy.inject(Fault.status(429, "2"));
        }
        assertThatThrownBy(RegistryClientFaultProxyTest::read).isInstanceOfSatisfying(RegistryException.class, e -> {
            assertThat(e.status()).isEqualTo(429);
            assertThat(e.retryAfter()).contains(Duration.ofSeconds(2));
        });
    }
}
