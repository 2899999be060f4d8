package io.imagemirror.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imagemirror.oci.ContentMismatchException;
import io.imagemirror.oci.Digest;
import io.imagemirror.oci.ErrorCode;
import io.imagemirror.oci.MediaTypes;
import io.imagemirror.oci.RegistryException;
import io.imagemirror.testbed.Content;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.SocketEffect;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** The client against a MockWebServer that plays Docker Hub: token realm, CDN, faults. */
class RegistryClientFakeHubTest {

    private static final String REPO = "library/alpine";
    private static final byte[] MANIFEST = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST
            + "\",\"config\":{},\"layers\":[]}").getBytes(StandardCharsets.UTF_8);

    private final MockWebServer hubServer = new MockWebServer();
    private final MockWebServer tokenServer = new MockWebServer();
    private final MockWebServer cdnServer = new MockWebServer();
    private final FakeRegistry hub = FakeRegistry.registry();
    private final FakeRegistry cdn = FakeRegistry.cdn();
    private TokenServer tokens;
    private final MutableClock clock = new MutableClock(Instant.parse("2026-06-01T12:00:00Z"));
    private final List<Duration> sleeps = new CopyOnWriteArrayList<>();
    private final OkHttpClient http = new OkHttpClient.Builder()
            .connectTimeout(2, TimeUnit.SECONDS).readTimeout(5, TimeUnit.SECONDS).build();

    @BeforeEach
    void start() throws IOException {
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        tokenServer.start(loopback, 0);
        tokens = new TokenServer("http://localhost:" + tokenServer.getPort() + "/token");
        tokenServer.setDispatcher(tokens);
        hubServer.setDispatcher(hub);
        hubServer.start(loopback, 0);
        cdnServer.setDispatcher(cdn);
        cdnServer.start(loopback, 0);
        hub.tokens = tokens;
    }

    @AfterEach
    void stop() {
        hubServer.close();
        tokenServer.close();
        cdnServer.close();
        http.connectionPool().evictAll();
    }

    private Upstream.Builder upstreamBuilder() {
        return Upstream.builder("docker.io").endpoint(URI.create("http://127.0.0.1:" + hubServer.getPort()))
                .insecure(true).allowAuthHost("localhost:" + tokenServer.getPort());
    }

    private RegistryClient client(Upstream upstream) {
        return new RegistryClient(upstream, http, clock, new RetryPolicy(4, Duration.ofMillis(200),
                Duration.ofSeconds(5), Duration.ofSeconds(60), sleeps::add, () -> 1.0));
    }

    private RegistryClient client() {
        return client(upstreamBuilder().build());
    }

    private static String auth(RecordedRequest r) {
        return r.getHeaders().get("Authorization");
    }

    private static byte[] readAll(InputStream in) throws IOException {
        try (in) {
            return in.readAllBytes();
        }
    }

    @Nested
    class Auth {
        @Test
        void anonymousTokenIsFetchedOncePerRepositoryScopeAndReused() throws IOException {
            Digest d = hub.putManifest(REPO, "3.20", MediaTypes.OCI_MANIFEST, MANIFEST);
            hub.putManifest("library/busybox", "1", MediaTypes.OCI_MANIFEST, MANIFEST);
            RegistryClient client = client();

            RawManifest first = client.getManifest(REPO, "3.20");
            client.getManifest(REPO, "3.20");
            client.getManifest("library/busybox", "1");

            assertThat(first.bytes()).isEqualTo(MANIFEST);
            assertThat(first.digest()).isEqualTo(d);
            assertThat(tokens.requests).hasSize(2);
            RecordedRequest t1 = tokens.requests.get(0);
            assertThat(t1.getUrl().queryParameter("service")).isEqualTo(TokenServer.SERVICE);
            assertThat(t1.getUrl().queryParameter("scope")).isEqualTo("repository:library/alpine:pull");
            assertThat(auth(t1)).as("anonymous token request").isNull();
            assertThat(tokens.requests.get(1).getUrl().queryParameter("scope")).isEqualTo("repository:library/busybox:pull");
            // One 401 for the first call only; later calls (even for a new scope) carry a token up front.
            List<String> sent = hub.requests.stream().map(r -> String.valueOf(auth(r))).toList();
            assertThat(sent).containsExactly("null", "Bearer tok-1", "Bearer tok-1", "Bearer tok-2");
        }

        @Test
        void credentialsGoOnlyToTheTokenRealmAsBasic() throws IOException {
            String basic = "Basic " + Base64.getEncoder().encodeToString("alice:s3cret-pw".getBytes(StandardCharsets.UTF_8));
            tokens.requiredBasic = basic;
            hub.putManifest(REPO, "latest", MediaTypes.OCI_MANIFEST, MANIFEST);
            RegistryClient client = client(upstreamBuilder().credentials(Credentials.of("alice", "s3cret-pw")).build());

            assertThat(client.getManifest(REPO, "latest").bytes()).isEqualTo(MANIFEST);

            assertThat(tokens.requests).extracting(RegistryClientFakeHubTest::auth).containsExactly(basic);
            assertThat(hub.requests).extracting(RegistryClientFakeHubTest::auth).containsExactly(null, "Bearer tok-1");
        }

        @Test
        void refusedCredentialsAreAnUnauthorizedErrorThatNamesNoSecret() {
            tokens.requiredBasic = "Basic nobody";
            hub.putManifest(REPO, "latest", MediaTypes.OCI_MANIFEST, MANIFEST);
            RegistryClient client = client(upstreamBuilder().credentials(Credentials.of("alice", "s3cret-pw")).build());

            assertThatThrownBy(() -> client.getManifest(REPO, "latest"))
                    .isInstanceOfSatisfying(RegistryException.class, e -> {
                        assertThat(e.status()).isEqualTo(401);
                        assertThat(e.hasCode(ErrorCode.UNAUTHORIZED)).isTrue();
                        assertThat(e.isRetryable()).isFalse();
                        assertThat(e.getMessage()).doesNotContain("s3cret-pw")
                                .doesNotContain(Base64.getEncoder().encodeToString("alice:s3cret-pw".getBytes(StandardCharsets.UTF_8)));
                    });
            assertThat(client.upstream().toString()).doesNotContain("s3cret-pw").doesNotContain("alice");
        }

        @Test
        void aTokenRealmOnAHostThatIsNotAllowedIsRefusedWithoutContactingIt() {
            hub.putManifest(REPO, "latest", MediaTypes.OCI_MANIFEST, MANIFEST);
            RegistryClient client = client(Upstream.builder("docker.io")
                    .endpoint(URI.create("http://127.0.0.1:" + hubServer.getPort())).insecure(true)
                    .credentials(Credentials.of("alice", "s3cret-pw")).build());

            assertThatThrownBy(() -> client.getManifest(REPO, "latest"))
                    .isInstanceOfSatisfying(RegistryException.class, e -> {
                        assertThat(e.hasCode(ErrorCode.DENIED)).isTrue();
                        assertThat(e.isRetryable()).isFalse();
                        assertThat(e.getMessage()).contains("localhost:" + tokenServer.getPort())
                                .contains("not an allowed auth host");
                    });
            assertThat(tokens.requests).isEmpty();
        }

        @Test
        void aTokenThatExpiresOnTheServerMidCopyIsRenewedAndTheBlobResumes() throws IOException {
            byte[] blob = Content.randomBytes(1, 300_000);
            Digest d = hub.putBlob(blob);
            hub.truncateAt.add(100_000L);
            RegistryClient client = client();

            byte[] got;
            try (InputStream in = client.openBlob(REPO, d, blob.length)) {
                byte[] head = in.readNBytes(10_000);
                tokens.revokeAll(); // the token dies while the copy is under way
                byte[] rest = in.readAllBytes();
                got = new byte[head.length + rest.length];
                System.arraycopy(head, 0, got, 0, head.length);
                System.arraycopy(rest, 0, got, head.length, rest.length);
            }

            assertThat(got).isEqualTo(blob);
            assertThat(tokens.requests).hasSize(2);
            List<RecordedRequest> blobRequests = hub.requestsTo("/blobs/");
            RecordedRequest last = blobRequests.get(blobRequests.size() - 1);
            assertThat(last.getHeaders().get("Range")).isEqualTo("bytes=100000-");
            assertThat(auth(last)).isEqualTo("Bearer tok-2");
            assertThat(blobRequests).extracting(r -> r.getHeaders().get("Range"))
                    .containsExactly(null, null, "bytes=100000-", "bytes=100000-"); // 401, ok, 401 (revoked), 206
        }

        @Test
        void aTokenPastItsExpiryIsRenewedBeforeTheRequestLeaves() throws IOException {
            tokens.expiresIn = 300;
            hub.putManifest(REPO, "latest", MediaTypes.OCI_MANIFEST, MANIFEST);
            RegistryClient client = client();
            client.getManifest(REPO, "latest");

            clock.advance(Duration.ofSeconds(290)); // within the renewal margin of a 300 s token
            client.getManifest(REPO, "latest");

            assertThat(tokens.requests).hasSize(2);
            assertThat(hub.requests).extracting(RegistryClientFakeHubTest::auth)
                    .containsExactly(null, "Bearer tok-1", "Bearer tok-2");
        }

        @Test
        void pingAuthenticatesWithoutScope() throws IOException {
            client().ping();
            assertThat(tokens.requests).hasSize(1);
            assertThat(tokens.requests.get(0).getUrl().queryParameter("scope")).isNull();
        }
    }

    @Nested
    class Redirects {
        @Test
        void blobRedirectToTheCdnCarriesNoAuthorizationAndResumesThroughTheRegistry() throws IOException {
            byte[] blob = Content.randomBytes(2, 200_000);
            Digest d = hub.putBlob(blob);
            cdn.putBlob(blob);
            cdn.truncateAt.add(50_000L);
            hub.cdnBase = "http://localhost:" + cdnServer.getPort();

            assertThat(readAll(client().openBlob(REPO, d, blob.length))).isEqualTo(blob);

            assertThat(cdn.requests).hasSize(2);
            assertThat(cdn.requests).allSatisfy(r -> {
                assertThat(auth(r)).isNull();
                assertThat(r.getHeaders().get("Accept-Encoding")).as("ranges must address the blob's own bytes")
                        .isEqualTo("identity");
            });
            assertThat(cdn.requests).extracting(r -> r.getHeaders().get("Range")).containsExactly(null, "bytes=50000-");
            assertThat(hub.requestsTo("/blobs/")).extracting(RegistryClientFakeHubTest::auth)
                    .containsExactly(null, "Bearer tok-1", "Bearer tok-1");
        }

        @Test
        void blobLocationIsTheCdnRedirectTargetAfterAuthentication() throws IOException {
            byte[] blob = Content.randomBytes(5, 1000);
            Digest d = hub.putBlob(blob);
            hub.cdnBase = "http://localhost:" + cdnServer.getPort();
            assertThat(client().blobLocation(REPO, d)).hasValueSatisfying(u -> {
                assertThat(u.toString()).startsWith(hub.cdnBase + "/blobs/" + d).contains("sig=");
            });
            assertThat(cdn.requests).as("only the location is asked for, not the bytes").isEmpty();
            hub.cdnBase = null;
            assertThat(client().blobLocation(REPO, d)).as("served directly: no location").isEmpty();
            assertThatThrownBy(() -> client().blobLocation(REPO, Digest.sha256(new byte[] {1})))
                    .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.hasCode(ErrorCode.BLOB_UNKNOWN)).isTrue());
        }

        @Test
        void redirectsToLinkLocalOrPrivateAddressesAreRefused() {
            Digest d = hub.putBlob(Content.randomBytes(3, 1000));
            RegistryClient client = client();
            for (String target : List.of("http://169.254.169.254/latest/meta-data/", "http://10.1.2.3/blob",
                    "http://192.168.0.10/blob", "http://[fd00::1]/blob")) {
                hub.redirectOverride = target;
                assertThatThrownBy(() -> client.openBlob(REPO, d, 1000))
                        .as(target)
                        .isInstanceOfSatisfying(RegistryException.class, e -> {
                            assertThat(e.hasCode(ErrorCode.DENIED)).isTrue();
                            assertThat(e.isRetryable()).isFalse();
                            assertThat(e.getMessage()).contains("refusing redirect");
                        });
            }
            assertThat(sleeps).isEmpty();
        }

        @Test
        void aNextPageLinkToAnotherHostIsRefused() {
            hub.fault("/tags/list", FakeRegistry.json(200, "{\"name\":\"library/alpine\",\"tags\":[\"a\"]}")
                    .setHeader("Link", "<http://localhost:" + cdnServer.getPort() + "/v2/library/alpine/tags/list?last=a>; rel=\"next\"")
                    .build());
            assertThatThrownBy(() -> client().tags(REPO))
                    .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.hasCode(ErrorCode.DENIED)).isTrue());
            assertThat(cdn.requests).isEmpty();
        }
    }

    @Nested
    class Retries {
        @Test
        void tooManyRequestsWaitsWhatRetryAfterSays() throws IOException {
            hub.tokens = null;
            hub.putManifest(REPO, "latest", MediaTypes.OCI_MANIFEST, MANIFEST);
            hub.fault("/manifests/", FakeRegistry.json(429,
                    "{\"errors\":[{\"code\":\"TOOMANYREQUESTS\",\"message\":\"slow down\"}]}").setHeader("Retry-After", "7").build());
            String date = DateTimeFormatter.RFC_1123_DATE_TIME.format(clock.instant().plusSeconds(30).atOffset(ZoneOffset.UTC));
            hub.fault("/manifests/", FakeRegistry.json(429, "").setHeader("Retry-After", date).build());

            assertThat(client().getManifest(REPO, "latest").bytes()).isEqualTo(MANIFEST);
            assertThat(sleeps).containsExactly(Duration.ofSeconds(7), Duration.ofSeconds(30));
        }

        @Test
        void aRetryAfterBeyondTheWaitBudgetEndsTheCallAtOnce() {
            hub.tokens = null;
            hub.fault("/manifests/", FakeRegistry.json(429,
                    "{\"errors\":[{\"code\":\"TOOMANYREQUESTS\",\"message\":\"pull rate limit\"}]}").setHeader("Retry-After", "3600").build());

            assertThatThrownBy(() -> client().getManifest(REPO, "latest"))
                    .isInstanceOfSatisfying(RegistryException.class, e -> {
                        assertThat(e.status()).isEqualTo(429);
                        assertThat(e.hasCode(ErrorCode.TOOMANYREQUESTS)).isTrue();
                        assertThat(e.isRetryable()).isTrue();
                        assertThat(e.retryAfter()).contains(Duration.ofHours(1));
                    });
            assertThat(sleeps).isEmpty();
        }

        @Test
        void serviceUnavailableIsRetriedWithGrowingBackoff() throws IOException {
            hub.tokens = null;
            hub.putManifest(REPO, "latest", MediaTypes.OCI_MANIFEST, MANIFEST);
            hub.fault("/manifests/", new MockResponse.Builder().code(503).build());
            hub.fault("/manifests/", new MockResponse.Builder().code(502).build());

            assertThat(client().getManifest(REPO, "latest").bytes()).isEqualTo(MANIFEST);
            assertThat(sleeps).containsExactly(Duration.ofMillis(200), Duration.ofMillis(400));
        }

        @Test
        void attemptsAreBounded() {
            hub.tokens = null;
            for (int i = 0; i < 10; i++) {
                hub.fault("/manifests/", new MockResponse.Builder().code(503).build());
            }
            assertThatThrownBy(() -> client().getManifest(REPO, "latest"))
                    .isInstanceOfSatisfying(RegistryException.class, e -> {
                        assertThat(e.status()).isEqualTo(503);
                        assertThat(e.isRetryable()).isTrue();
                    });
            assertThat(hub.requestsTo("/manifests/")).hasSize(4);
            assertThat(sleeps).hasSize(3);
        }

        @Test
        void aDroppedConnectionIsRetried() throws IOException {
            hub.tokens = null;
            hub.putManifest(REPO, "latest", MediaTypes.OCI_MANIFEST, MANIFEST);
            hub.fault("/manifests/", new MockResponse.Builder().onResponseStart(SocketEffect.ShutdownConnection.INSTANCE).build());

            assertThat(client().getManifest(REPO, "latest").bytes()).isEqualTo(MANIFEST);
            assertThat(hub.requestsTo("/manifests/")).hasSizeGreaterThanOrEqualTo(2);
        }

        @Test
        void notFoundIsNotRetried() {
            hub.tokens = null;
            assertThatThrownBy(() -> client().getManifest(REPO, "nope")).isInstanceOf(RegistryException.class);
            assertThat(hub.requestsTo("/manifests/")).hasSize(1);
            assertThat(sleeps).isEmpty();
        }
    }

    @Nested
    class Blobs {
        @Test
        void aTruncatedBodyResumesWithRangeFromTheLastVerifiedByte() throws IOException {
            hub.tokens = null;
            byte[] blob = Content.randomBytes(4, 300_000);
            Digest d = hub.putBlob(blob);
            hub.truncateAt.add(100_000L);
            hub.truncateAt.add(200_000L);

            assertThat(readAll(client().openBlob(REPO, d, blob.length))).isEqualTo(blob);
            assertThat(hub.requestsTo("/blobs/")).extracting(r -> r.getHeaders().get("Range"))
                    .containsExactly(null, "bytes=100000-", "bytes=200000-");
        }

        @Test
        void aServerThatIgnoresRangeIsReadAgainAndTheDeliveredPrefixSkipped() throws IOException {
            hub.tokens = null;
            hub.honourRange = false;
            byte[] blob = Content.randomBytes(5, 300_000);
            Digest d = hub.putBlob(blob);
            hub.truncateAt.add(150_000L);

            assertThat(readAll(client().openBlob(REPO, d, blob.length))).isEqualTo(blob);
            assertThat(hub.blobGets).hasValue(2);
        }

        @Test
        void aStalledBodyIsResumedAfterTheReadTimeout() throws IOException {
            hub.tokens = null;
            byte[] blob = Content.randomBytes(10, 100_000);
            Digest d = hub.putBlob(blob);
            hub.stallAt.add(30_000L);
            OkHttpClient impatient = http.newBuilder().readTimeout(300, TimeUnit.MILLISECONDS).build();
            RegistryClient client = new RegistryClient(upstreamBuilder().build(), impatient, clock, RetryPolicy.none());

            assertThat(readAll(client.openBlob(REPO, d, blob.length))).isEqualTo(blob);
            assertThat(hub.requestsTo("/blobs/")).extracting(r -> r.getHeaders().get("Range"))
                    .containsExactly(null, "bytes=30000-");
        }

        @Test
        void aBodyThatKeepsBreakingWithoutProgressGivesUp() {
            hub.tokens = null;
            byte[] blob = Content.randomBytes(6, 10_000);
            Digest d = hub.putBlob(blob);
            for (int i = 0; i < 10; i++) {
                hub.truncateAt.add(5_000L);
            }
            assertThatThrownBy(() -> readAll(client().openBlob(REPO, d, blob.length)))
                    .isInstanceOfSatisfying(RegistryException.class, e -> {
                        assertThat(e.getMessage()).contains("failed at byte 5000");
                        assertThat(e.status()).isZero();
                    });
        }

        @Test
        void wrongBytesAreADigestMismatch() {
            hub.tokens = null;
            byte[] blob = Content.randomBytes(7, 50_000);
            Digest d = hub.putBlob(blob);
            hub.wrongBlobBytes = Content.randomBytes(8, 50_000);

            assertThatThrownBy(() -> readAll(client().openBlob(REPO, d, blob.length)))
                    .isInstanceOfSatisfying(ContentMismatchException.class, e -> {
                        assertThat(e.kind()).isEqualTo(ContentMismatchException.Kind.DIGEST);
                        assertThat(e.wantDigest()).isEqualTo(d);
                    });
        }

        @Test
        void headBlobAndMissingBlobs() throws IOException {
            hub.tokens = null;
            byte[] blob = Content.randomBytes(9, 1234);
            Digest d = hub.putBlob(blob);
            RegistryClient client = client();
            assertThat(client.headBlob(REPO, d)).isEqualTo(1234);
            Digest missing = Digest.sha256(new byte[1]);
            assertThatThrownBy(() -> client.headBlob(REPO, missing)).isInstanceOfSatisfying(RegistryException.class,
                    e -> assertThat(e.hasCode(ErrorCode.BLOB_UNKNOWN)).isTrue());
            assertThatThrownBy(() -> client.openBlob(REPO, missing, 1)).isInstanceOfSatisfying(RegistryException.class,
                    e -> assertThat(e.hasCode(ErrorCode.BLOB_UNKNOWN)).isTrue());
        }
    }

    @Nested
    class Manifests {
        @Test
        void aPullByDigestMustMatchTheBytes() {
            hub.tokens = null;
            Digest asked = Digest.sha256("other".getBytes(StandardCharsets.UTF_8));
            hub.manifests.put(REPO + "@" + asked, new FakeRegistry.Stored(MANIFEST, MediaTypes.OCI_MANIFEST));
            hub.sendDigestHeader = false;

            assertThatThrownBy(() -> client().getManifest(REPO, asked))
                    .isInstanceOfSatisfying(ContentMismatchException.class, e -> {
                        assertThat(e.wantDigest()).isEqualTo(asked);
                        assertThat(e.gotDigest()).isEqualTo(Digest.sha256(MANIFEST));
                    });
        }

        @Test
        void aDigestHeaderThatDisagreesWithTheBytesIsRefusedAndAMissingOneIsNotNeeded() throws IOException {
            hub.tokens = null;
            hub.putManifest(REPO, "latest", MediaTypes.OCI_MANIFEST, MANIFEST);
            hub.wrongDigestHeader = Digest.sha256(new byte[0]).toString();
            assertThatThrownBy(() -> client().getManifest(REPO, "latest")).isInstanceOf(ContentMismatchException.class);

            hub.wrongDigestHeader = null;
            hub.sendDigestHeader = false;
            assertThat(client().getManifest(REPO, "latest").digest()).isEqualTo(Digest.sha256(MANIFEST));
        }

        @Test
        void headGivesTheDescriptorAndAcceptListsEveryManifestType() throws IOException {
            hub.tokens = null;
            Digest d = hub.putManifest(REPO, "latest", MediaTypes.DOCKER_MANIFEST_LIST, MANIFEST);

            ManifestDescriptor desc = client().headManifest(REPO, "latest");

            assertThat(desc).isEqualTo(new ManifestDescriptor(d, MediaTypes.DOCKER_MANIFEST_LIST, MANIFEST.length));
            String accept = hub.requests.get(0).getHeaders().get("Accept");
            assertThat(accept).contains(MediaTypes.OCI_INDEX, MediaTypes.OCI_MANIFEST, MediaTypes.DOCKER_MANIFEST,
                    MediaTypes.DOCKER_MANIFEST_LIST, RegistryClient.OCI_ARTIFACT_MANIFEST);
            assertThat(hub.requests.get(0).getMethod()).isEqualTo("HEAD");
        }

        @Test
        void schema1IsRefusedClearly() {
            hub.tokens = null;
            hub.putManifest(REPO, "old", MediaTypes.DOCKER_SCHEMA1_SIGNED,
                    "{\"schemaVersion\":1,\"name\":\"library/alpine\"}".getBytes(StandardCharsets.UTF_8));
            hub.putManifest(REPO, "older", "application/json",
                    "{\"schemaVersion\":1,\"name\":\"library/alpine\"}".getBytes(StandardCharsets.UTF_8));
            for (String tag : List.of("old", "older")) {
                assertThatThrownBy(() -> client().getManifest(REPO, tag))
                        .isInstanceOfSatisfying(RegistryException.class, e -> {
                            assertThat(e.hasCode(ErrorCode.UNSUPPORTED)).isTrue();
                            assertThat(e.isRetryable()).isFalse();
                            assertThat(e.getMessage()).contains("schema 1");
                        });
            }
        }

        @Test
        void manifestsOverFourMebibytesAreRefused() {
            hub.tokens = null;
            byte[] big = new byte[RegistryClient.MAX_MANIFEST_BYTES + 1];
            java.util.Arrays.fill(big, (byte) ' ');
            hub.putManifest(REPO, "big", MediaTypes.OCI_MANIFEST, big);
            assertThatThrownBy(() -> client().getManifest(REPO, "big"))
                    .isInstanceOfSatisfying(RegistryException.class, e -> {
                        assertThat(e.hasCode(ErrorCode.MANIFEST_INVALID)).isTrue();
                        assertThat(e.getMessage()).contains("exceeds the limit");
                    });
        }

        @Test
        void ociErrorBodiesAreMappedAndMissingOnesImpliedByStatus() {
            hub.tokens = null;
            RegistryClient client = client();
            assertThatThrownBy(() -> client.getManifest(REPO, "missing"))
                    .isInstanceOfSatisfying(RegistryException.class, e -> {
                        assertThat(e.status()).isEqualTo(404);
                        assertThat(e.hasCode(ErrorCode.MANIFEST_UNKNOWN)).isTrue();
                        assertThat(e.errors().get(0).detail()).isEqualTo("{\"Tag\":\"missing\"}");
                        assertThat(e.isRetryable()).isFalse();
                        assertThat(e.getMessage()).contains("docker.io: GET /v2/library/alpine/manifests/missing");
                    });
            assertThatThrownBy(() -> client.headManifest(REPO, "missing"))
                    .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.hasCode(ErrorCode.MANIFEST_UNKNOWN)).isTrue());
            assertThatThrownBy(() -> client.tags("library/nothing"))
                    .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.hasCode(ErrorCode.NAME_UNKNOWN)).isTrue());
            hub.fault("/manifests/", FakeRegistry.json(403,
                    "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"requested access to the resource is denied\"}]}").build());
            assertThatThrownBy(() -> client.getManifest(REPO, "x"))
                    .isInstanceOfSatisfying(RegistryException.class, e -> {
                        assertThat(e.status()).isEqualTo(403);
                        assertThat(e.hasCode(ErrorCode.DENIED)).isTrue();
                    });
            hub.fault("/manifests/", FakeRegistry.json(400, "{\"errors\":[" + "{\"code\":\"NAME_INVALID\"},".repeat(20_000)
                    + "{\"code\":\"NAME_INVALID\"}]}").build());
            assertThatThrownBy(() -> client.getManifest(REPO, "x"))
                    .as("an error body over the cap is cut off, not buffered")
                    .isInstanceOfSatisfying(RegistryException.class, e -> {
                        assertThat(e.status()).isEqualTo(400);
                        assertThat(e.errors()).isEmpty();
                    });
        }

        @Test
        void rateLimitHeadersAreExposed() throws IOException {
            hub.putManifest(REPO, "latest", MediaTypes.OCI_MANIFEST, MANIFEST);
            hub.rateLimit = "100;w=21600";
            hub.rateRemaining = "76;w=21600";
            RegistryClient client = client();
            assertThat(client.rateLimit()).isEmpty();

            client.getManifest(REPO, "latest");

            RateLimit limit = client.rateLimit().orElseThrow();
            assertThat(limit.limit()).isEqualTo(100);
            assertThat(limit.remaining()).isEqualTo(76);
            assertThat(limit.window()).isEqualTo(Duration.ofHours(6));
            assertThat(limit.observedAt()).isEqualTo(clock.instant());
        }
    }

    @Nested
    class TagsAndReferrers {
        @Test
        void tagListFollowsLinkPagination() throws IOException {
            for (String t : List.of("e", "a", "c", "b", "d")) {
                hub.putManifest(REPO, t, MediaTypes.OCI_MANIFEST, MANIFEST);
            }
            RegistryClient client = client();

            assertThat(client.tags(REPO)).containsExactly("a", "b", "c", "d", "e");
            List<RecordedRequest> pages = hub.requestsTo("/tags/list").stream().filter(r -> auth(r) != null).toList();
            assertThat(pages).extracting(r -> r.getUrl().queryParameter("last")).containsExactly(null, "b", "d");

            TagPage first = client.tags(REPO, 3, null);
            assertThat(first.tags()).containsExactly("a", "b", "c");
            assertThat(first.next()).contains("c");
            TagPage lastPage = client.tags(REPO, 3, "c");
            assertThat(lastPage.tags()).containsExactly("d", "e");
            assertThat(lastPage.next()).isEmpty();
        }

        @Test
        void referrersComeFromTheApiOrTheTagSchemaOrNowhere() throws IOException {
            hub.tokens = null;
            Digest subject = Digest.sha256(MANIFEST);
            String index = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":["
                    + "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" + Digest.sha256(new byte[1])
                    + "\",\"size\":42,\"artifactType\":\"application/vnd.dev.sigstore.bundle+json\","
                    + "\"annotations\":{\"org.opencontainers.image.created\":\"2026-01-01T00:00:00Z\"}}]}";
            byte[] indexBytes = index.getBytes(StandardCharsets.UTF_8);
            RegistryClient client = client();

            assertThat(client.referrers(REPO, subject).source()).isEqualTo(Referrers.Source.NONE);

            hub.putManifest(REPO, "sha256-" + subject.hex(), MediaTypes.OCI_INDEX, indexBytes);
            Referrers viaTag = client.referrers(REPO, subject);
            assertThat(viaTag.source()).isEqualTo(Referrers.Source.TAG_SCHEMA);
            assertThat(viaTag.rawIndex()).isEqualTo(indexBytes);

            hub.referrersApi = true;
            hub.referrers.put(subject.toString(), indexBytes);
            Referrers viaApi = client.referrers(REPO, subject);
            assertThat(viaApi.source()).isEqualTo(Referrers.Source.API);
            assertThat(viaApi.referrers()).singleElement().satisfies(r -> {
                assertThat(r.digest()).isEqualTo(Digest.sha256(new byte[1]));
                assertThat(r.size()).isEqualTo(42);
                assertThat(r.artifactType()).isEqualTo("application/vnd.dev.sigstore.bundle+json");
                assertThat(r.annotations()).containsEntry("org.opencontainers.image.created", "2026-01-01T00:00:00Z");
            });
            assertThat(Objects.requireNonNull(hub.requestsTo("/referrers/").get(0).getHeaders().get("Accept")))
                    .isEqualTo(MediaTypes.OCI_INDEX);
        }
    }

    @Test
    void invalidNamesNeverBecomeRequests() {
        RegistryClient client = client();
        assertThatThrownBy(() -> client.getManifest("../../etc", "latest")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> client.getManifest("Library/Alpine", "latest")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> client.getManifest(REPO, "a/b")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> client.getManifest(REPO, "sha256:zz")).isInstanceOf(IllegalArgumentException.class);
        assertThat(hub.requests).isEmpty();
    }
}
