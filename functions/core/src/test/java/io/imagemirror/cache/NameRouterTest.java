package io.imagemirror.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.imagemirror.config.MirrorConfig;
import io.imagemirror.oci.ErrorCode;
import io.imagemirror.oci.RegistryException;
import io.imagemirror.reference.InvalidReferenceException;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class NameRouterTest {

    static MirrorConfig config(String json) throws Exception {
        return MirrorConfig.fromTree(new ObjectMapper().readTree(json.replace('\'', '"')), k -> null);
    }

    /** Docker Hub, ghcr.io under the prefix "gh", a local registry under its own name. */
    final NameRouter router = new NameRouter(config("{'upstreams': [{'name': 'docker.io'},"
            + " {'name': 'ghcr.io', 'prefix': 'gh'}, {'name': '127.0.0.1:5000', 'insecure': true}]}"));

    NameRouterTest() throws Exception {
    }

    /** written reference | resolved */
    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            alpine                                | docker.io/library/alpine:latest
            library/alpine:3                      | docker.io/library/alpine:3
            index.docker.io/alpine:3              | docker.io/library/alpine:3
            registry-1.docker.io/library/alpine   | docker.io/library/alpine:latest
            docker.io/bitnami/redis               | docker.io/bitnami/redis:latest
            gh/org/app:1                          | ghcr.io/org/app:1
            ghcr.io/org/app:1                     | ghcr.io/org/app:1
            127.0.0.1:5000/base:1                 | 127.0.0.1:5000/base:1
            quay.io/org/app                       | quay.io/org/app:latest
            """)
    void resolvesReferencesAsTheV2RouterDoes(String written, String resolved) throws Exception {
        assertThat(router.resolve(written)).hasToString(resolved);
        String name = written.replaceFirst(":[^/:]*$", "");
        if (!written.startsWith("quay.io")) {
            assertThat(router.route(name, Optional.empty()).repositoryKey())
                    .isEqualTo(resolved.substring(0, resolved.lastIndexOf(':')));
        }
    }

    @Test
    void aDigestPinsWithoutDefaultTag() {
        String d = "sha256:" + "e".repeat(64);
        assertThat(router.resolve("alpine@" + d)).hasToString("docker.io/library/alpine@" + d);
        assertThat(router.resolve("alpine:3@" + d)).hasToString("docker.io/library/alpine:3@" + d);
    }

    @Test
    void namesWithoutRegistryGoToTheDefaultUpstreamWithoutLibrary() throws Exception {
        NameRouter local = new NameRouter(config("{'defaultUpstream': '127.0.0.1:5000',"
                + " 'upstreams': [{'name': '127.0.0.1:5000', 'insecure': true}]}"));
        assertThat(local.resolve("library/base:1")).hasToString("127.0.0.1:5000/library/base:1");
        assertThat(local.resolve("base:1")).hasToString("127.0.0.1:5000/base:1");
        assertThat(local.route("library/base", Optional.empty()).repositoryKey()).isEqualTo("127.0.0.1:5000/library/base");
        assertThat(local.route("base", Optional.empty()).repositoryKey()).isEqualTo("127.0.0.1:5000/base");
        // Docker Hub is not configured here: naming it is refused before anything is looked up
        assertThatThrownBy(() -> local.route("docker.io/library/base", Optional.empty()))
                .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.hasCode(ErrorCode.DENIED)).isTrue());
        assertThat(local.resolve("docker.io/base:1")).as("resolving checks no allow-list")
                .hasToString("docker.io/library/base:1");
    }

    @Test
    void nsNamesTheRegistryAndItsAliases() throws Exception {
        for (String ns : new String[] {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}) {
            assertThat(router.route("alpine", Optional.of(ns)).repositoryKey()).isEqualTo("docker.io/library/alpine");
            assertThat(router.route("library/alpine", Optional.of(ns)).repositoryKey())
                    .isEqualTo("docker.io/library/alpine");
        }
        assertThat(router.route("org/app", Optional.of("ghcr.io")).repositoryKey()).isEqualTo("ghcr.io/org/app");
        assertThat(router.route("base", Optional.of("127.0.0.1:5000")).repositoryKey()).isEqualTo("127.0.0.1:5000/base");
        assertThat(router.route("base", Optional.of("127.0.0.1:5000")).clientName()).isEqualTo("base");
        for (String ns : new String[] {"quay.io", "127.0.0.1:5001", "127.0.0.1:0", "not a host", "registry"}) {
            assertThatThrownBy(() -> router.route("x", Optional.of(ns))).as(ns)
                    .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.hasCode(ErrorCode.DENIED)).isTrue());
        }
        assertThatThrownBy(() -> router.route("Bad", Optional.of("docker.io"))).isInstanceOfSatisfying(
                RegistryException.class, e -> assertThat(e.hasCode(ErrorCode.NAME_INVALID)).isTrue());
    }

    @Test
    void malformedAndUnconfiguredNamesAreRefused() {
        for (String name : new String[] {"", "App/x", "a//b", "a:1", "a@sha256:x", "x".repeat(256), "localhost:0/x"}) {
            assertThatThrownBy(() -> router.route(name, Optional.empty())).as(name).isInstanceOfSatisfying(
                    RegistryException.class, e -> assertThat(e.hasCode(ErrorCode.NAME_INVALID)).isTrue());
        }
        assertThatThrownBy(() -> router.route("evil.example.com/x", Optional.empty())).isInstanceOfSatisfying(
                RegistryException.class, e -> {
                    assertThat(e.hasCode(ErrorCode.DENIED)).isTrue();
                    assertThat(e.getMessage()).contains("evil.example.com is not a configured upstream");
                });
        assertThatThrownBy(() -> router.resolve("host.io:99999/x")).isInstanceOf(InvalidReferenceException.class);
    }

    @Test
    void catalogNamesAreWhatAClientWouldWrite() {
        assertThat(router.clientName("docker.io/library/alpine")).isEqualTo("library/alpine");
        assertThat(router.clientName("ghcr.io/org/app")).isEqualTo("gh/org/app");
        assertThat(router.clientName("127.0.0.1:5000/base")).isEqualTo("127.0.0.1:5000/base");
        // "gh/app" would route to ghcr.io: a Docker Hub repository under a prefix's name keeps its registry
        assertThat(router.clientName("docker.io/gh/app")).isEqualTo("docker.io/gh/app");
    }
}
