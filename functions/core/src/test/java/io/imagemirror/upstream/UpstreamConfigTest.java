package io.imagemirror.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imagemirror.oci.ErrorCode;
import io.imagemirror.oci.RegistryException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import okhttp3.Dns;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Upstream configuration, credentials, retry arithmetic, rate-limit headers and the address policy. */
class UpstreamConfigTest {

    @TempDir
    Path tmp;

    @Test
    void dockerHubMapsToItsApiEndpointAndAuthHost() {
        Upstream hub = Upstream.of("docker.io");
        assertThat(hub.endpoint()).isEqualTo(URI.create("https://registry-1.docker.io"));
        assertThat(hub.authHosts()).containsExactlyInAnyOrder("auth.docker.io", "registry-1.docker.io");
        assertThat(Upstream.of("index.docker.io").name()).isEqualTo("docker.io");

        Upstream ghcr = Upstream.of("ghcr.io");
        assertThat(ghcr.endpoint()).isEqualTo(URI.create("https://ghcr.io"));
        assertThat(ghcr.authHosts()).containsExactly("ghcr.io");
        assertThat(ghcr.allowsAuthHost("ghcr.io", 443)).isTrue();
        assertThat(ghcr.allowsAuthHost("evil.example", 443)).isFalse();

        Upstream local = Upstream.builder("127.0.0.1:5000").insecure(true).allowAuthHost("auth.local:8443").build();
        assertThat(local.endpoint()).isEqualTo(URI.create("http://127.0.0.1:5000"));
        assertThat(local.allowsAuthHost("auth.local", 8443)).isTrue();
        assertThat(local.allowsAuthHost("auth.local", 443)).isFalse();
    }

    @Test
    void onlyConfiguredUpstreamsGetAClient() throws IOException {
        Credentials c = Credentials.of("alice", "pw");
        Upstreams upstreams = new Upstreams(List.of(Upstream.of("docker.io"), Upstream.of("ghcr.io")),
                CredentialStore.of(Map.of("ghcr.io", c)), new OkHttpClient(), Clock.systemUTC(),
                RetryPolicy.none());

        assertThat(upstreams.names()).containsExactlyInAnyOrder("docker.io", "ghcr.io");
        assertThat(upstreams.client("index.docker.io")).isSameAs(upstreams.client("docker.io"));
        assertThat(upstreams.client("ghcr.io").upstream().credentials()).contains(c);
        assertThat(upstreams.client("docker.io").upstream().credentials()).isEmpty();
        assertThat(upstreams.isConfigured("quay.io")).isFalse();
        assertThatThrownBy(() -> upstreams.client("evil.example"))
                .isInstanceOfSatisfying(RegistryException.class, e -> {
                    assertThat(e.hasCode(ErrorCode.DENIED)).isTrue();
                    assertThat(e.isRetryable()).isFalse();
                    assertThat(e.getMessage()).contains("evil.example is not a configured upstream");
                });
        assertThatThrownBy(() -> new Upstreams(List.of(Upstream.of("docker.io"), Upstream.of("index.docker.io")),
                CredentialStore.none(), new OkHttpClient(), Clock.systemUTC(), RetryPolicy.none()))
                .hasMessageContaining("configured twice");
    }

    @Test
    void anIpv6EndpointAllowsItsOwnHostAsRealm() {
        Upstream v6 = Upstream.builder("[::1]:5000").insecure(true).build();
        assertThat(v6.endpoint()).isEqualTo(URI.create("http://[::1]:5000"));
        assertThat(v6.allowsAuthHost(HttpUrl.get(v6.endpoint()).host(), 5001)).isTrue();
    }

    @Test
    void plainHttpNeedsInsecureAndNamesAreChecked() {
        assertThatThrownBy(() -> Upstream.builder("registry.local").endpoint(URI.create("http://registry.local")).build())
                .hasMessageContaining("insecure");
        assertThatThrownBy(() -> Upstream.builder("r.local").endpoint(URI.create("https://r.local/prefix")).build())
                .hasMessageContaining("without path");
        assertThatThrownBy(() -> Upstream.of("not a host")).isInstanceOf(IllegalArgumentException.class);
        assertThat(Upstream.canonicalName("https://index.docker.io/v1/")).isEqualTo("docker.io");
        assertThat(Upstream.canonicalName("https://Quay.io")).isEqualTo("quay.io");
    }

    @Test
    void credentialsNeverShowInToString() {
        Credentials c = Credentials.of("alice", "s3cret-pw");
        Upstream u = Upstream.builder("ghcr.io").credentials(c).build();
        assertThat(c.toString()).doesNotContain("alice").doesNotContain("s3cret-pw");
        assertThat(u.toString()).doesNotContain("alice").doesNotContain("s3cret-pw").contains("with credentials");
        assertThat(u.credentials()).contains(c);
        assertThat(Upstream.of("ghcr.io").withCredentialsFrom(CredentialStore.of(Map.of("ghcr.io", c))).credentials())
                .contains(c);
        assertThat(u.withCredentialsFrom(CredentialStore.of(Map.of("ghcr.io", Credentials.of("bob", "x")))).credentials())
                .as("configured credentials win over a store").contains(c);
    }

    @Test
    void dockerConfigAuthsAreRead() throws IOException {
        String b64 = Base64.getEncoder().encodeToString("alice:pa:ss".getBytes(StandardCharsets.UTF_8));
        Path file = tmp.resolve("config.json");
        Files.writeString(file, "{\"auths\":{"
                + "\"https://index.docker.io/v1/\":{\"auth\":\"" + b64 + "\"},"
                + "\"ghcr.io\":{\"username\":\"bob\",\"password\":\"ghp_token\"},"
                + "\"quay.io\":{\"identitytoken\":\"refresh\"},"
                + "\"broken.io\":{\"auth\":\"%%%\"}},"
                + "\"credsStore\":\"desktop\"}");
        DockerConfigCredentials store = DockerConfigCredentials.read(file);

        assertThat(store.find("docker.io")).contains(Credentials.of("alice", "pa:ss"));
        assertThat(store.find("registry-1.docker.io")).contains(Credentials.of("alice", "pa:ss"));
        assertThat(store.find("ghcr.io")).contains(Credentials.of("bob", "ghp_token"));
        assertThat(store.find("quay.io")).isEmpty();
        assertThat(store.find("broken.io")).isEmpty();
        assertThat(store.toString()).contains("docker.io", "ghcr.io").doesNotContain("alice").doesNotContain("ghp_token");

        assertThat(DockerConfigCredentials.read(tmp.resolve("missing.json")).find("docker.io")).isEmpty();
        Files.writeString(file, "{\"auths\": {\"x\": {\"auth\": \"c2VjcmV0LXZhbHVl\"}, oops-secret-value}");
        assertThatThrownBy(() -> DockerConfigCredentials.read(file))
                .isInstanceOf(IOException.class).hasMessageContaining("not valid JSON")
                .hasNoCause().satisfies(e -> assertThat(e.getMessage()).doesNotContain("secret"));

        assertThat(DockerConfigCredentials.defaultLocation(Map.of("DOCKER_CONFIG", "/etc/dock"), Path.of("/home/u")))
                .isEqualTo(Path.of("/etc/dock/config.json"));
        assertThat(DockerConfigCredentials.defaultLocation(Map.of(), Path.of("/home/u")))
                .isEqualTo(Path.of("/home/u/.docker/config.json"));
        assertThat(CredentialStore.none().orElse(store).find("ghcr.io")).isPresent();
    }

    @Test
    void backoffDoublesWithJitterAndHonoursRetryAfter() {
        RetryPolicy low = new RetryPolicy(5, Duration.ofMillis(100), Duration.ofMillis(1000), Duration.ofSeconds(10),
                d -> { }, () -> 0.0);
        RetryPolicy high = new RetryPolicy(5, Duration.ofMillis(100), Duration.ofMillis(1000), Duration.ofSeconds(10),
                d -> { }, () -> 1.0);
        assertThat(List.of(1, 2, 3, 4, 5, 40).stream().map(n -> high.delayAfter(n, null).toMillis()).toList())
                .containsExactly(100L, 200L, 400L, 800L, 1000L, 1000L);
        assertThat(List.of(1, 2, 3, 4, 5).stream().map(n -> low.delayAfter(n, null).toMillis()).toList())
                .containsExactly(50L, 100L, 200L, 400L, 500L);
        assertThat(low.delayAfter(1, Duration.ofSeconds(42))).isEqualTo(Duration.ofSeconds(42));
        assertThatThrownBy(() -> RetryPolicy.defaults().withMaxAttempts(0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void rateLimitHeadersParse() {
        Instant now = Instant.parse("2026-01-01T00:00:00Z");
        assertThat(RateLimit.parse("100;w=21600", "0;w=21600", now))
                .contains(new RateLimit(100, 0, Duration.ofHours(6), now));
        assertThat(RateLimit.parse("200", "150", now)).contains(new RateLimit(200, 150, null, now));
        assertThat(RateLimit.parse(null, "1", now)).isEmpty();
        assertThat(RateLimit.parse("lots", "1", now)).isEmpty();
    }

    @ParameterizedTest
    @CsvSource({
        "8.8.8.8, PUBLIC", "127.0.0.1, LOOPBACK", "::1, LOOPBACK", "169.254.169.254, LINK_LOCAL", "fe80::1, LINK_LOCAL",
        "10.0.0.1, PRIVATE", "172.16.5.4, PRIVATE", "192.168.1.1, PRIVATE", "100.64.0.1, PRIVATE", "fd12::1, PRIVATE",
        "0.0.0.0, UNSPECIFIED", "224.0.0.1, MULTICAST", "::ffff:10.0.0.1, PRIVATE", "2606:4700::1, PUBLIC"
    })
    void addressesAreClassified(String address, AddressPolicy.Kind kind) throws IOException {
        assertThat(AddressPolicy.classify(InetAddress.getByName(address))).isEqualTo(kind);
    }

    @Test
    void redirectsMayReachOnlyPublicAddressesAndTheKindsTheUpstreamItselfUses() throws IOException {
        Dns fake = host -> switch (host) {
            case "cdn.example" -> List.of(InetAddress.getByName("104.16.0.1"));
            case "rebind.example" -> List.of(InetAddress.getByName("104.16.0.1"), InetAddress.getByName("10.0.0.7"));
            default -> throw new java.net.UnknownHostException(host);
        };
        AddressPolicy publicUpstream = new AddressPolicy(Upstream.builder("registry.example")
                .endpoint(URI.create("https://104.16.0.9")).build(), fake);
        HttpUrl from = HttpUrl.get("https://104.16.0.9/v2/a/blobs/x");
        publicUpstream.checkRedirect(from, HttpUrl.get("https://cdn.example/blob?sig=1"));
        assertThatThrownBy(() -> publicUpstream.checkRedirect(from, HttpUrl.get("https://127.0.0.1:8080/x")))
                .hasMessageContaining("loopback address 127.0.0.1");
        assertThatThrownBy(() -> publicUpstream.checkRedirect(from, HttpUrl.get("https://rebind.example/x")))
                .hasMessageContaining("private address 10.0.0.7");
        assertThatThrownBy(() -> publicUpstream.checkRedirect(from, HttpUrl.get("http://cdn.example/x")))
                .hasMessageContaining("plain-HTTP");
        assertThat(publicUpstream.guard(fake).lookup("rebind.example"))
                .as("the guarded DNS drops private answers for redirect hosts")
                .containsExactly(InetAddress.getByName("104.16.0.1"));

        AddressPolicy loopbackUpstream = new AddressPolicy(Upstream.builder("127.0.0.1:5000").insecure(true).build(), fake);
        HttpUrl local = HttpUrl.get("http://127.0.0.1:5000/v2/a/blobs/x");
        loopbackUpstream.checkRedirect(local, HttpUrl.get("http://127.0.0.1:9000/x"));
        assertThatThrownBy(() -> loopbackUpstream.checkRedirect(local, HttpUrl.get("http://169.254.169.254/latest")))
                .hasMessageContaining("link-local");
    }
}
