package io.imagemirror.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ManifestTest {

    static byte[] resource(String name) throws IOException {
        try (InputStream in = ManifestTest.class.getResourceAsStream("/manifests/" + name)) {
            return in.readAllBytes();
        }
    }

    @Test
    void dockerV2Schema2() throws IOException {
        byte[] raw = resource("docker-v2s2-manifest.json");
        Manifest m = Manifest.parse(raw, MediaTypes.DOCKER_MANIFEST);
        assertThat(m.mediaType()).isEqualTo(MediaTypes.DOCKER_MANIFEST);
        assertThat(m.isIndex()).isFalse();
        assertThat(m.digest()).isEqualTo(Digest.sha256(raw));
        assertThat(m.raw()).isEqualTo(raw);
        assertThat(m.size()).isEqualTo(raw.length);
        assertThat(m.config()).hasValueSatisfying(c -> {
            assertThat(c.digest()).hasToString("sha256:a0ce5a295b637a10bc329ded296a0c895e5e56e7c5e674188d423e213b0d213e");
            assertThat(c.size()).isEqualTo(1463);
            assertThat(c.mediaType()).isEqualTo(MediaTypes.DOCKER_CONFIG);
        });
        assertThat(m.layers()).singleElement().satisfies(l -> {
            assertThat(l.size()).isEqualTo(28572685);
            assertThat(l.isNonDistributable()).isFalse();
        });
        assertThat(m.blobs()).hasSize(2);
        assertThat(m.manifests()).isEmpty();
        assertThat(m.subject()).isEmpty();
    }

    @Test
    void dockerManifestListWithPlatforms() throws IOException {
        byte[] raw = resource("docker-manifest-list.json");
        // the document's own mediaType decides even without a Content-Type
        Manifest m = Manifest.parse(raw, null);
        assertThat(m.mediaType()).isEqualTo(MediaTypes.DOCKER_MANIFEST_LIST);
        assertThat(m.isIndex()).isTrue();
        assertThat(m.config()).isEmpty();
        assertThat(m.blobs()).isEmpty();
        assertThat(m.manifests()).hasSize(6).extracting(d -> d.platform().toString())
                .containsExactly("linux/amd64", "linux/arm/v7", "linux/arm64/v8", "linux/ppc64le", "linux/riscv64",
                        "linux/s390x");
        assertThat(m.manifests()).noneMatch(Descriptor::isAttestation);
        assertThat(m.manifests().stream().filter(d -> Platform.parse("linux/arm64").matches(d.platform())))
                .singleElement().extracting(d -> d.digest().toString())
                .isEqualTo("sha256:b18dbe0837fd555c7028af6a1281ffa4fd1b5ffd835968f1009fd4cf9dfeaec3");
    }

    @Test
    void ociIndexWithAttestation() throws IOException {
        byte[] raw = resource("oci-index-attestation.json");
        Manifest m = Manifest.parse(raw, MediaTypes.OCI_INDEX + "; charset=utf-8");
        assertThat(m.mediaType()).isEqualTo(MediaTypes.OCI_INDEX);
        assertThat(m.manifests()).hasSize(2);
        Descriptor image = m.manifests().get(0);
        Descriptor attestation = m.manifests().get(1);
        assertThat(image.isAttestation()).isFalse();
        assertThat(image.platform()).isEqualTo(Platform.parse("linux/amd64"));
        assertThat(attestation.isAttestation()).isTrue();
        assertThat(attestation.platform().isUnknown()).isTrue();
        assertThat(attestation.annotations()).containsEntry("vnd.docker.reference.digest", image.digest().toString());
    }

    @Test
    void ociArtifactWithSubject() throws IOException {
        Manifest m = Manifest.parse(resource("oci-artifact-referrer.json"), MediaTypes.OCI_MANIFEST);
        assertThat(m.artifactType()).hasValue("application/vnd.dev.cosign.artifact.sig.v1+json");
        assertThat(m.subject()).hasValueSatisfying(s -> assertThat(s.digest().hex()).startsWith("5c8cef78"));
        assertThat(m.annotations()).containsKey("org.opencontainers.image.created");
        assertThat(m.toDescriptor().artifactType()).isEqualTo("application/vnd.dev.cosign.artifact.sig.v1+json");
        assertThat(m.layers().get(0).annotations()).containsKey("dev.cosignproject.cosign/signature");
    }

    @Test
    void artifactTypeFallsBackToConfigMediaType() throws IOException {
        Manifest m = Manifest.parse(resource("docker-v2s2-manifest.json"), null);
        assertThat(m.artifactType()).hasValue(MediaTypes.DOCKER_CONFIG);
    }

    @Test
    void ociManifestWithoutMediaTypeFieldIsInferred() {
        String json = "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
                + "\"digest\":\"sha256:" + "1".repeat(64) + "\",\"size\":2},\"layers\":[]}";
        assertThat(Manifest.parse(json.getBytes(StandardCharsets.UTF_8), null).mediaType())
                .isEqualTo(MediaTypes.OCI_MANIFEST);
        String idx = "{\"schemaVersion\":2,\"manifests\":[]}";
        assertThat(Manifest.parse(idx.getBytes(StandardCharsets.UTF_8), "application/json").mediaType())
                .isEqualTo(MediaTypes.OCI_INDEX);
    }

    @Test
    void foreignLayersAreMarked() {
        String json = "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.DOCKER_MANIFEST + "\",\"config\":{\"mediaType\":\""
                + MediaTypes.DOCKER_CONFIG + "\",\"digest\":\"sha256:" + "1".repeat(64) + "\",\"size\":2},"
                + "\"layers\":[{\"mediaType\":\"" + MediaTypes.DOCKER_FOREIGN_LAYER + "\",\"digest\":\"sha256:"
                + "2".repeat(64) + "\",\"size\":5,\"urls\":[\"https://go.microsoft.com/fwlink/?linkid=1\"]}]}";
        Manifest m = Manifest.parse(json.getBytes(StandardCharsets.UTF_8), null);
        assertThat(m.layers().get(0).isNonDistributable()).isTrue();
        assertThat(m.layers().get(0).urls()).hasSize(1);
    }

    @Test
    void schema1IsRefusedClearly() throws IOException {
        assertThatThrownBy(() -> Manifest.parse(resource("docker-schema1.json"), MediaTypes.DOCKER_SCHEMA1_SIGNED))
                .isInstanceOfSatisfying(InvalidManifestException.class, e -> {
                    assertThat(e.kind()).isEqualTo(InvalidManifestException.Kind.SCHEMA1);
                    assertThat(e.isUnsupported()).isTrue();
                })
                .hasMessageContaining("schema 1");
        assertThatThrownBy(() -> Manifest.parse(resource("docker-schema1.json"), null))
                .hasMessageContaining("schema 1");
    }

    @Test
    void unknownMediaTypeIsRefused() {
        String json = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.example+json\"}";
        assertThatThrownBy(() -> Manifest.parse(json.getBytes(StandardCharsets.UTF_8), null))
                .isInstanceOfSatisfying(InvalidManifestException.class,
                        e -> assertThat(e.kind()).isEqualTo(InvalidManifestException.Kind.UNSUPPORTED_MEDIA_TYPE))
                .hasMessageContaining("application/vnd.example+json");
    }

    @Test
    void contentTypeContradictingTheDocumentIsRefused() throws IOException {
        assertThatThrownBy(() -> Manifest.parse(resource("docker-v2s2-manifest.json"), MediaTypes.OCI_MANIFEST))
                .isInstanceOfSatisfying(InvalidManifestException.class,
                        e -> assertThat(e.kind()).isEqualTo(InvalidManifestException.Kind.MALFORMED));
    }

    @Test
    void oversizedManifestIsRefusedBeforeParsing() {
        byte[] big = new byte[Manifest.MAX_SIZE + 1];
        assertThatThrownBy(() -> Manifest.parse(big, null)).isInstanceOfSatisfying(InvalidManifestException.class,
                e -> assertThat(e.kind()).isEqualTo(InvalidManifestException.Kind.TOO_LARGE));
    }

    @Test
    void malformedContentIsRefusedWithReason() {
        for (String bad : new String[] {"not json", "[]", "{\"schemaVersion\":3}",
            "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\"}",
            "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_INDEX + "\",\"manifests\":[{\"digest\":\"sha256:x\",\"size\":1}]}",
            "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_INDEX + "\",\"manifests\":[{\"digest\":\"sha256:"
                + "1".repeat(64) + "\"}]}",
            "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_INDEX + "\",\"manifests\":{}}"}) {
            assertThatThrownBy(() -> Manifest.parse(bad.getBytes(StandardCharsets.UTF_8), null)).as(bad)
                    .isInstanceOfSatisfying(InvalidManifestException.class,
                            e -> assertThat(e.kind()).isEqualTo(InvalidManifestException.Kind.MALFORMED));
        }
    }

    @Test
    void keepsBytesExactlyIncludingWhitespace() {
        String json = "{ \"schemaVersion\" : 2 ,\n \"manifests\" : [ ] }\n\n";
        byte[] raw = json.getBytes(StandardCharsets.UTF_8);
        Manifest m = Manifest.parse(raw, MediaTypes.OCI_INDEX);
        assertThat(m.raw()).isEqualTo(raw);
        assertThat(m.digest()).isEqualTo(Digest.sha256(raw));
        raw[0] = 'X';
        assertThat(m.raw()[0]).isEqualTo((byte) '{');
    }
}
