package io.imagemirror.reference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imagemirror.reference.InvalidReferenceException.Problem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ReferenceGrammarTest {

    @ParameterizedTest
    @ValueSource(strings = {"localhost:0/x", "host.io:99999/x", "host.io:65536/x", "127.0.0.1:00000/x",
        "[::1]:0/x", "host.io:99999999999999999999/x"})
    void portsOutsideOneTo65535AreRefused(String input) {
        assertThatThrownBy(() -> ImageReference.parse(input))
                .isInstanceOfSatisfying(InvalidReferenceException.class,
                        e -> assertThat(e.problem()).isEqualTo(Problem.INVALID_REGISTRY))
                .hasMessageContaining("is not between 1 and 65535");
    }

    @ParameterizedTest
    @ValueSource(strings = {"localhost:1/x", "host.io:65535/x", "127.0.0.1:5000/x", "[::1]:443/x", "localhost/x"})
    void portsInRangeAreKept(String input) {
        assertThat(ImageReference.parse(input).registry()).isEqualTo(input.substring(0, input.lastIndexOf('/')));
    }

    @Test
    void registriesAreHostsWithADotAColonOrLocalhost() {
        assertThat(ReferenceGrammar.isRegistry("ghcr.io")).isTrue();
        assertThat(ReferenceGrammar.isRegistry("127.0.0.1:5000")).isTrue();
        assertThat(ReferenceGrammar.isRegistry("localhost")).isTrue();
        assertThat(ReferenceGrammar.isRegistry("[fe80::1]")).isTrue();
        assertThat(ReferenceGrammar.isRegistry("registry")).as("reads as a repository").isFalse();
        assertThat(ReferenceGrammar.isRegistry("host.io:0")).isFalse();
        assertThat(ReferenceGrammar.isRegistry("host.io:port")).isFalse();
        assertThat(ReferenceGrammar.isRegistry("-host.io")).isFalse();
        assertThat(ReferenceGrammar.isRegistry("")).isFalse();
        assertThatThrownBy(() -> ReferenceGrammar.checkRegistry("registry/x", "registry"))
                .isInstanceOfSatisfying(InvalidReferenceException.class,
                        e -> assertThat(e.problem()).isEqualTo(Problem.INVALID_REGISTRY))
                .hasMessageContaining("a registry has a '.' or ':' or is localhost");
    }

    @Test
    void aCapitalisedFirstComponentIsARepositoryWrittenInCapitals() {
        // distribution would try to reach a host "Foo"; its canonical name would not parse back
        assertThatThrownBy(() -> ImageReference.parse("Foo/bar")).isInstanceOfSatisfying(
                InvalidReferenceException.class, e -> assertThat(e.problem()).isEqualTo(Problem.UPPERCASE_REPOSITORY));
    }

    /** written registry | canonical */
    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            docker.io               | docker.io
            index.docker.io         | docker.io
            registry-1.docker.io    | docker.io
            registry.hub.docker.com | docker.io
            Index.Docker.IO         | docker.io
            ghcr.io                 | ghcr.io
            GHCR.io                 | ghcr.io
            hub.docker.io           | hub.docker.io
            127.0.0.1:5000          | 127.0.0.1:5000
            """)
    void dockerHubAliasesFoldIntoOneName(String written, String canonical) {
        assertThat(ReferenceGrammar.canonicalRegistry(written)).isEqualTo(canonical);
    }

    @Test
    void libraryIsAddedOnceAndOnlyOnDockerHub() {
        assertThat(ReferenceGrammar.officialRepository("docker.io", "alpine")).isEqualTo("library/alpine");
        assertThat(ReferenceGrammar.officialRepository("docker.io", "library/alpine")).isEqualTo("library/alpine");
        assertThat(ReferenceGrammar.officialRepository("docker.io", "bitnami/redis")).isEqualTo("bitnami/redis");
        assertThat(ReferenceGrammar.officialRepository("ghcr.io", "alpine")).isEqualTo("alpine");
        assertThat(ReferenceGrammar.officialRepository("127.0.0.1:5000", "library/base")).isEqualTo("library/base");
    }

    @Test
    void tagsAndPathsFollowTheGrammar() {
        assertThat(ReferenceGrammar.isTag("v1.2-rc_3")).isTrue();
        assertThat(ReferenceGrammar.isTag("t".repeat(128))).isTrue();
        assertThat(ReferenceGrammar.isTag("t".repeat(129))).isFalse();
        assertThat(ReferenceGrammar.isTag(".hidden")).isFalse();
        assertThat(ReferenceGrammar.isTag("a:b")).isFalse();
        assertThat(ReferenceGrammar.isRepositoryPath("library/alpine")).isTrue();
        assertThat(ReferenceGrammar.isRepositoryPath("a/b__c/d-e.f")).isTrue();
        assertThat(ReferenceGrammar.isRepositoryPath("a//b")).isFalse();
        assertThat(ReferenceGrammar.isRepositoryPath("A/b")).isFalse();
        assertThat(ReferenceGrammar.isRepositoryPath("a".repeat(256))).isFalse();
        assertThat(ReferenceGrammar.isRepositoryPath("")).isFalse();
    }

    @Test
    void aNameAloneRefusesTagsAndDigests() {
        assertThat(ImageReference.parseName("127.0.0.1:5000/a/b").registry()).isEqualTo("127.0.0.1:5000");
        assertThat(ImageReference.parseName("a/b").registry()).isEmpty();
        assertThatThrownBy(() -> ImageReference.parseName("a/b:1")).isInstanceOf(InvalidReferenceException.class);
        assertThatThrownBy(() -> ImageReference.parseName("a@sha256:" + "a".repeat(64)))
                .isInstanceOf(InvalidReferenceException.class);
    }
}
