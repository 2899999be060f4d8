package io.imagemirror.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imagemirror.oci.Digest;
import io.imagemirror.oci.ErrorCode;
import io.imagemirror.oci.RegistryException;
import io.imagemirror.testbed.LocalRegistry;
import io.imagemirror.testbed.TestImage;
import io.imagemirror.testbed.TestIndex;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client against the real registry (distribution 2.8 from Debian), filled by the test: every
 * manifest family comes back byte-identical with its digest, blobs verify, tags list, and the
 * htpasswd instance works through Basic auth.
 */
class RegistryClientLocalRegistryTest {

    @TempDir
    static Path tmp;
    static LocalRegistry registry;
    static LocalRegistry privateRegistry;
    static final OkHttpClient HTTP = new OkHttpClient.Builder().readTimeout(30, TimeUnit.SECONDS).build();
    static final RetryPolicy RETRY = RetryPolicy.defaults().withSleeper(d -> { }).withMaxAttempts(2);

    static final TestImage.Blob SHARED = TestImage.layer(1, 4096);
    static final TestImage OCI_IMAGE = TestImage.builder(20).layer(SHARED).layer(20_000).build();
    static final TestImage DOCKER_IMAGE = TestImage.builder(21).format(TestImage.Format.DOCKER).layer(5_000).build();
    static final TestIndex OCI_INDEX = TestIndex.of(TestImage.Format.OCI, List.of(
            TestImage.builder(22).layer(SHARED).build(),
            TestImage.builder(23).platform("linux", "arm64", "v8").layer(SHARED).build()), true);
    static final TestIndex DOCKER_LIST = TestIndex.of(TestImage.Format.DOCKER, List.of(
            TestImage.builder(24).format(TestImage.Format.DOCKER).build(),
            TestImage.builder(25).format(TestImage.Format.DOCKER).platform("linux", "arm", "v7").build()), false);

    @BeforeAll
    static void fill() {
        registry = LocalRegistry.start(tmp);
        registry.pusher().pushImage("demo/oci", "1.0", OCI_IMAGE);
        registry.pusher().pushImage("demo/docker", "1.0", DOCKER_IMAGE);
        registry.pusher().pushIndex("demo/multi", "oci", OCI_INDEX);
        registry.pusher().pushIndex("demo/multi", "docker", DOCKER_LIST);
        for (String t : List.of("1.1", "1.2", "latest")) {
            registry.pusher().pushImage("demo/oci", t, OCI_IMAGE);
        }
        privateRegistry = LocalRegistry.startWithBasicAuth(tmp, "alice", "s3cret-pw");
        privateRegistry.pusher().pushImage("private/app", "v1", DOCKER_IMAGE);
    }

    @AfterAll
    static void stop() {
        registry.close();
        privateRegistry.close();
    }

    private static RegistryClient client(LocalRegistry r, Credentials credentials) {
        Upstream upstream = Upstream.builder(r.hostPort()).insecure(true).credentials(credentials).build();
        return new RegistryClient(upstream, HTTP, Clock.systemUTC(), RETRY);
    }

    @Test
    void everyManifestFamilyComesBackByteIdenticalByTagAndDigest() throws IOException {
        RegistryClient client = client(registry, null);
        record Case(String repo, String tag, byte[] bytes, String digest, String mediaType) {
        }
        List<Case> cases = List.of(
                new Case("demo/oci", "1.0", OCI_IMAGE.manifest(), OCI_IMAGE.digest(), OCI_IMAGE.mediaType()),
                new Case("demo/docker", "1.0", DOCKER_IMAGE.manifest(), DOCKER_IMAGE.digest(), DOCKER_IMAGE.mediaType()),
                new Case("demo/multi", "oci", OCI_INDEX.bytes(), OCI_INDEX.digest(), OCI_INDEX.mediaType()),
                new Case("demo/multi", "docker", DOCKER_LIST.bytes(), DOCKER_LIST.digest(), DOCKER_LIST.mediaType()));
        for (Case c : cases) {
            RawManifest byTag = client.getManifest(c.repo(), c.tag());
            assertThat(byTag.bytes()).as(c.tag()).isEqualTo(c.bytes());
            assertThat(byTag.digest()).hasToString(c.digest());
            assertThat(byTag.mediaType()).isEqualTo(c.mediaType());

            RawManifest byDigest = client.getManifest(c.repo(), Digest.parse(c.digest()));
            assertThat(byDigest.bytes()).isEqualTo(c.bytes());

            ManifestDescriptor head = client.headManifest(c.repo(), c.tag());
            assertThat(head).isEqualTo(byTag.descriptor());
        }
        for (TestImage child : OCI_INDEX.children()) {
            assertThat(client.getManifest("demo/multi", Digest.parse(child.digest())).bytes()).isEqualTo(child.manifest());
        }
    }

    @Test
    void blobsStreamVerifiedAndHeadGivesTheirSize() throws IOException {
        RegistryClient client = client(registry, null);
        for (TestImage.Blob b : OCI_IMAGE.blobs()) {
            Digest d = Digest.parse(b.digest());
            try (InputStream in = client.openBlob("demo/oci", d, b.size())) {
                assertThat(in.readAllBytes()).isEqualTo(b.bytes());
            }
            assertThat(client.headBlob("demo/oci", d)).isEqualTo(b.size());
        }
        Digest missing = Digest.sha256(new byte[] {1, 2, 3});
        assertThatThrownBy(() -> client.openBlob("demo/oci", missing, 3))
                .isInstanceOfSatisfying(RegistryException.class, e -> {
                    assertThat(e.status()).isEqualTo(404);
                    assertThat(e.hasCode(ErrorCode.BLOB_UNKNOWN)).isTrue();
                });
    }

    @Test
    void tagsAreListedAndMissingThingsAreTyped() throws IOException {
        RegistryClient client = client(registry, null);
        assertThat(client.tags("demo/oci")).containsExactlyInAnyOrder("1.0", "1.1", "1.2", "latest");
        // distribution 2.8 ignores n on tags/list: one page, no Link.
        TagPage page = client.tags("demo/oci", 2, null);
        assertThat(page.tags()).containsExactlyInAnyOrder("1.0", "1.1", "1.2", "latest");
        assertThat(page.next()).isEmpty();

        assertThatThrownBy(() -> client.getManifest("demo/oci", "nope"))
                .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.hasCode(ErrorCode.MANIFEST_UNKNOWN)).isTrue());
        assertThatThrownBy(() -> client.tags("demo/none"))
                .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.hasCode(ErrorCode.NAME_UNKNOWN)).isTrue());
    }

    @Test
    void referrersFallBackToTheTagSchemaWhereTheApiIsMissing() throws IOException {
        RegistryClient client = client(registry, null);
        Digest subject = Digest.parse(OCI_IMAGE.digest());
        assertThat(client.referrers("demo/oci", subject).source()).isEqualTo(Referrers.Source.NONE);

        TestIndex fallback = TestIndex.of(TestImage.Format.OCI, List.of(TestImage.builder(30).build()), false);
        registry.pusher().pushIndex("demo/oci", "sha256-" + subject.hex(), fallback);
        Referrers referrers = client.referrers("demo/oci", subject);
        assertThat(referrers.source()).isEqualTo(Referrers.Source.TAG_SCHEMA);
        assertThat(referrers.rawIndex()).isEqualTo(fallback.bytes());
        assertThat(referrers.referrers()).extracting(r -> r.digest().toString())
                .containsExactly(fallback.children().get(0).digest());
    }

    @Test
    void basicAuthRegistryWorksWithCredentialsAndRefusesWithoutOrWithWrongOnes() throws IOException {
        RegistryClient client = client(privateRegistry, Credentials.of("alice", "s3cret-pw"));
        client.ping();
        assertThat(client.getManifest("private/app", "v1").bytes()).isEqualTo(DOCKER_IMAGE.manifest());
        assertThat(client.tags("private/app")).containsExactly("v1");
        TestImage.Blob layer = DOCKER_IMAGE.layers().get(0);
        try (InputStream in = client.openBlob("private/app", Digest.parse(layer.digest()), layer.size())) {
            assertThat(in.readAllBytes()).isEqualTo(layer.bytes());
        }

        for (Credentials c : new Credentials[] {null, Credentials.of("alice", "wrong-pw")}) {
            assertThatThrownBy(() -> client(privateRegistry, c).getManifest("private/app", "v1"))
                    .isInstanceOfSatisfying(RegistryException.class, e -> {
                        assertThat(e.status()).isEqualTo(401);
                        assertThat(e.hasCode(ErrorCode.UNAUTHORIZED)).isTrue();
                        assertThat(e.isRetryable()).isFalse();
                        assertThat(e.getMessage()).doesNotContain("pw");
                    });
        }
    }

    @Test
    void credentialsFromAStoreReachTheClient() throws IOException {
        CredentialStore store = CredentialStore.of(java.util.Map.of(privateRegistry.hostPort(),
                Credentials.of("alice", "s3cret-pw")));
        Upstream upstream = Upstream.builder(privateRegistry.hostPort()).insecure(true).build().withCredentialsFrom(store);
        RegistryClient client = new RegistryClient(upstream, HTTP, Clock.systemUTC(), RETRY);
        assertThat(client.headManifest("private/app", "v1").digest()).hasToString(DOCKER_IMAGE.digest());
    }
}
