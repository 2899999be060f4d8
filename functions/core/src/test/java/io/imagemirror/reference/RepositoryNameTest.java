package io.imagemirror.reference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imagemirror.oci.Digest;
import io.imagemirror.reference.InvalidReferenceException.Problem;
import org.junit.jupiter.api.Test;

class RepositoryNameTest {

    @Test
    void everySpellingOfADockerHubRepositoryIsOneName() {
        RepositoryName alpine = RepositoryName.of("docker.io", "library/alpine");
        for (String registry : new String[] {"docker.io", "index.docker.io", "registry-1.docker.io",
            "registry.hub.docker.com"}) {
            assertThat(RepositoryName.of(registry, "alpine")).isEqualTo(alpine).hasSameHashCodeAs(alpine);
            assertThat(RepositoryName.of(registry, "library/alpine")).isEqualTo(alpine);
        }
        assertThat(alpine).hasToString("docker.io/library/alpine");
        assertThat(alpine.registry()).isEqualTo("docker.io");
        assertThat(alpine.path()).isEqualTo("library/alpine");
    }

    @Test
    void otherRegistriesKeepTheirPath() {
        assertThat(RepositoryName.of("127.0.0.1:5000", "base")).hasToString("127.0.0.1:5000/base");
        assertThat(RepositoryName.of("GHCR.io", "org/app")).hasToString("ghcr.io/org/app");
    }

    @Test
    void keysParseBack() {
        for (String key : new String[] {"docker.io/library/alpine", "127.0.0.1:5000/a/b", "[::1]:5000/x", "localhost/y"}) {
            assertThat(RepositoryName.parse(key)).hasToString(key);
        }
        assertThat(RepositoryName.parse("index.docker.io/alpine")).hasToString("docker.io/library/alpine");
        assertThatThrownBy(() -> RepositoryName.parse("alpine")).isInstanceOf(InvalidReferenceException.class);
        assertThatThrownBy(() -> RepositoryName.parse("/alpine")).isInstanceOf(InvalidReferenceException.class);
    }

    @Test
    void invalidPartsAreRefused() {
        assertThatThrownBy(() -> RepositoryName.of("registry", "x")).isInstanceOfSatisfying(
                InvalidReferenceException.class, e -> assertThat(e.problem()).isEqualTo(Problem.INVALID_REGISTRY));
        assertThatThrownBy(() -> RepositoryName.of("host.io:99999", "x")).isInstanceOfSatisfying(
                InvalidReferenceException.class, e -> assertThat(e.problem()).isEqualTo(Problem.INVALID_REGISTRY));
        assertThatThrownBy(() -> RepositoryName.of("ghcr.io", "Org/app")).isInstanceOfSatisfying(
                InvalidReferenceException.class, e -> assertThat(e.problem()).isEqualTo(Problem.UPPERCASE_REPOSITORY));
        assertThatThrownBy(() -> RepositoryName.of("docker.io", "a".repeat(240))).isInstanceOfSatisfying(
                InvalidReferenceException.class, e -> assertThat(e.problem()).isEqualTo(Problem.NAME_TOO_LONG));
    }

    @Test
    void referencesBuiltFromANameAreNormalized() {
        RepositoryName name = RepositoryName.of("index.docker.io", "alpine");
        Digest d = Digest.parse("sha256:" + "c".repeat(64));
        assertThat(ImageReference.of(name, "3", null)).hasToString("docker.io/library/alpine:3")
                .satisfies(r -> assertThat(r.isNormalized()).isTrue());
        assertThat(ImageReference.of(name, null, d)).hasToString("docker.io/library/alpine@" + d);
        assertThat(ImageReference.parseNormalized("registry-1.docker.io/alpine:3").repositoryName()).isEqualTo(name);
        assertThatThrownBy(() -> ImageReference.of(name, null, null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ImageReference.of(name, "bad tag", null)).isInstanceOf(InvalidReferenceException.class);
    }
}
