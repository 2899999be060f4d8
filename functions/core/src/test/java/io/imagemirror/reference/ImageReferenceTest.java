package io.imagemirror.reference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imagemirror.reference.InvalidReferenceException.Problem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ImageReferenceTest {

    private static final String D = "sha256:" + "a".repeat(64);
    private static final String D512 = "sha512:" + "0123456789abcdef".repeat(8);

    /** input | canonical (normalized) form */
    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            alpine                                   | docker.io/library/alpine:latest
            alpine:3.20                              | docker.io/library/alpine:3.20
            redis:latest                             | docker.io/library/redis:latest
            mongo:4.2.6                              | docker.io/library/mongo:4.2.6
            nigelpoulton/tu-demo:v2                  | docker.io/nigelpoulton/tu-demo:v2
            nigelpoulton/tu-demo                     | docker.io/nigelpoulton/tu-demo:latest
            gcr.io/google-containers/git-sync:v3.1.5 | gcr.io/google-containers/git-sync:v3.1.5
            localhost:5000/x                         | localhost:5000/x:latest
            localhost/x                              | localhost/x:latest
            localhost:5000/x:1                       | localhost:5000/x:1
            127.0.0.1:5000/a/b:c                     | 127.0.0.1:5000/a/b:c
            127.0.0.1/a                              | 127.0.0.1/a:latest
            index.docker.io/library/alpine           | docker.io/library/alpine:latest
            index.docker.io/alpine:edge              | docker.io/library/alpine:edge
            docker.io/alpine                         | docker.io/library/alpine:latest
            docker.io/library/alpine:3               | docker.io/library/alpine:3
            docker.io/bitnami/redis                  | docker.io/bitnami/redis:latest
            ghcr.io/org/app:1.0.0                    | ghcr.io/org/app:1.0.0
            ghcr.io/org/team/sub/app:tag_1           | ghcr.io/org/team/sub/app:tag_1
            quay.io/prometheus/node-exporter:v1.8.2  | quay.io/prometheus/node-exporter:v1.8.2
            registry.k8s.io/pause:3.9                | registry.k8s.io/pause:3.9
            public.ecr.aws/docker/library/nginx      | public.ecr.aws/docker/library/nginx:latest
            my-registry.example.com:8443/a/b         | my-registry.example.com:8443/a/b:latest
            Example.COM/repo                         | example.com/repo:latest
            [::1]:5000/repo:t                        | [::1]:5000/repo:t
            [fe80::1]/repo                           | [fe80::1]/repo:latest
            foo/bar__baz                             | docker.io/foo/bar__baz:latest
            foo/bar.baz                              | docker.io/foo/bar.baz:latest
            foo/bar---baz                            | docker.io/foo/bar---baz:latest
            foo/bar_baz                              | docker.io/foo/bar_baz:latest
            a                                        | docker.io/library/a:latest
            0                                        | docker.io/library/0:latest
            a/b/c/d/e/f                              | docker.io/a/b/c/d/e/f:latest
            alpine:LATEST                            | docker.io/library/alpine:LATEST
            alpine:_underscore                       | docker.io/library/alpine:_underscore
            alpine:1.2-rc.3_x                        | docker.io/library/alpine:1.2-rc.3_x
            localhost:5000                           | docker.io/library/localhost:5000
            """)
    void normalizesTags(String input, String canonical) {
        ImageReference ref = ImageReference.parse(input);
        assertThat(ref.canonical()).isEqualTo(canonical);
        assertThat(ImageReference.parse(canonical)).isEqualTo(ref.normalized());
        assertThat(ref.normalized().isNormalized()).isTrue();
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            alpine@DIGEST                            | docker.io/library/alpine@DIGEST
            alpine:3.20@DIGEST                       | docker.io/library/alpine:3.20@DIGEST
            ghcr.io/o/a@DIGEST                       | ghcr.io/o/a@DIGEST
            localhost:5000/x@DIGEST                  | localhost:5000/x@DIGEST
            127.0.0.1:5000/a/b:c@DIGEST              | 127.0.0.1:5000/a/b:c@DIGEST
            index.docker.io/library/busybox@DIGEST   | docker.io/library/busybox@DIGEST
            alpine@SHA512                            | docker.io/library/alpine@SHA512
            """)
    void keepsDigests(String input, String canonical) {
        ImageReference ref = ImageReference.parse(input.replace("DIGEST", D).replace("SHA512", D512));
        String want = canonical.replace("DIGEST", D).replace("SHA512", D512);
        assertThat(ref.canonical()).isEqualTo(want);
        assertThat(ref.digest()).isPresent();
        assertThat(ref.normalized().manifestReference()).isEqualTo(ref.digest().orElseThrow().toString());
    }

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource(delimiter = '|', textBlock = """
            ''                         | EMPTY
            :tag                       | EMPTY
            @DIGEST                    | EMPTY
            Alpine                     | UPPERCASE_REPOSITORY
            library/Alpine             | UPPERCASE_REPOSITORY
            docker.io/Library/alpine   | UPPERCASE_REPOSITORY
            foo//bar                   | EMPTY_PATH_COMPONENT
            foo/                       | EMPTY_PATH_COMPONENT
            /foo                       | EMPTY_PATH_COMPONENT
            ghcr.io/                   | EMPTY_PATH_COMPONENT
            a/../b                     | INVALID_PATH_COMPONENT
            ..                         | INVALID_PATH_COMPONENT
            a..b                       | INVALID_PATH_COMPONENT
            -foo                       | INVALID_PATH_COMPONENT
            foo-                       | INVALID_PATH_COMPONENT
            foo_                       | INVALID_PATH_COMPONENT
            foo___bar                  | INVALID_PATH_COMPONENT
            foo/.bar                   | INVALID_PATH_COMPONENT
            foo bar                    | INVALID_PATH_COMPONENT
            foo/bar$                   | INVALID_PATH_COMPONENT
            -host.io/foo               | INVALID_REGISTRY
            host-.io/foo               | INVALID_REGISTRY
            host.io:port/foo           | INVALID_REGISTRY
            host..io/foo               | INVALID_REGISTRY
            alpine:                    | INVALID_TAG
            alpine:.hidden             | INVALID_TAG
            alpine:-dash               | INVALID_TAG
            alpine:a+b                 | INVALID_TAG
            alpine:a:b                 | INVALID_PATH_COMPONENT
            alpine@sha256:abc          | INVALID_DIGEST
            alpine@md5:d41d8cd98f00b204e9800998ecf8427e | INVALID_DIGEST
            alpine@sha256              | INVALID_DIGEST
            alpine@SHA256UPPER         | INVALID_DIGEST
            alpine@DIGEST@DIGEST       | INVALID_DIGEST
            alpine@                    | INVALID_DIGEST
            """)
    void rejectsWithTypedProblem(String input, Problem problem) {
        String in = input.replace("SHA256UPPER", "sha256:" + "A".repeat(64)).replace("DIGEST", D);
        assertThatThrownBy(() -> ImageReference.parse(in))
                .isInstanceOf(InvalidReferenceException.class)
                .satisfies(e -> assertThat(((InvalidReferenceException) e).problem()).isEqualTo(problem))
                .hasMessageContaining("invalid reference");
    }

    @Test
    void nameOverLimitIsRejected() {
        String ok = "a".repeat(255);
        assertThat(ImageReference.parse("localhost/" + "b".repeat(245)).name()).hasSize(255);
        assertThat(ImageReference.parse(ok).repository()).isEqualTo(ok);
        assertThatThrownBy(() -> ImageReference.parse("a".repeat(256)))
                .isInstanceOfSatisfying(InvalidReferenceException.class,
                        e -> assertThat(e.problem()).isEqualTo(Problem.NAME_TOO_LONG))
                .hasMessageContaining("256 characters");
        assertThatThrownBy(() -> ImageReference.parse("localhost/" + "b".repeat(246) + ":t"))
                .hasMessageContaining("at most 255");
    }

    @Test
    void normalizedNameOverLimitIsRejected() {
        // 250 characters fit as written but not once "docker.io/library/" is added.
        ImageReference ref = ImageReference.parse("a".repeat(250));
        assertThatThrownBy(ref::normalized).isInstanceOfSatisfying(InvalidReferenceException.class,
                e -> assertThat(e.problem()).isEqualTo(Problem.NAME_TOO_LONG));
    }

    @Test
    void tagOverLimitIsRejected() {
        assertThat(ImageReference.parse("a:" + "t".repeat(128)).tag()).hasValue("t".repeat(128));
        assertThatThrownBy(() -> ImageReference.parse("a:" + "t".repeat(129)))
                .isInstanceOfSatisfying(InvalidReferenceException.class,
                        e -> assertThat(e.problem()).isEqualTo(Problem.TAG_TOO_LONG))
                .hasMessageContaining("129");
    }

    @Test
    void digestErrorsNameTheProblem() {
        assertThatThrownBy(() -> ImageReference.parse("alpine@sha256:abc")).hasMessageContaining("64 hex characters");
        assertThatThrownBy(() -> ImageReference.parse("alpine@md5:00")).hasMessageContaining("unsupported algorithm");
    }

    @Test
    void strictParseKeepsWhatWasWritten() {
        ImageReference ref = ImageReference.parse("alpine");
        assertThat(ref.registry()).isEmpty();
        assertThat(ref.repository()).isEqualTo("alpine");
        assertThat(ref.tag()).isEmpty();
        assertThat(ref.digest()).isEmpty();
        assertThat(ref.isNormalized()).isFalse();
        assertThat(ref).hasToString("alpine");
        assertThatThrownBy(ref::manifestReference).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void tagAndDigestTogetherPinTheDigest() {
        ImageReference ref = ImageReference.parseNormalized("golftrack:1.5@" + D);
        assertThat(ref.tag()).hasValue("1.5");
        assertThat(ref.manifestReference()).isEqualTo(D);
        assertThat(ref.registry()).isEqualTo("docker.io");
        assertThat(ref.repository()).isEqualTo("library/golftrack");
    }

    @Test
    void familiarFormIsWhatDockerShows() {
        assertThat(ImageReference.parse("docker.io/library/alpine:latest").familiar()).isEqualTo("alpine:latest");
        assertThat(ImageReference.parse("nigelpoulton/tu-demo:v2").familiar()).isEqualTo("nigelpoulton/tu-demo:v2");
        assertThat(ImageReference.parse("ghcr.io/a/b").familiar()).isEqualTo("ghcr.io/a/b:latest");
        assertThat(ImageReference.parse("library/a/b").familiar()).isEqualTo("library/a/b:latest");
    }

    @Test
    void withTagAndDigestBuildNewReferences() {
        ImageReference ref = ImageReference.parseNormalized("ghcr.io/o/a:1");
        assertThat(ref.withTag("2").canonical()).isEqualTo("ghcr.io/o/a:2");
        assertThat(ref.byDigest(io.imagemirror.oci.Digest.parse(D)).canonical()).isEqualTo("ghcr.io/o/a@" + D);
        assertThatThrownBy(() -> ref.withTag("bad tag")).isInstanceOf(InvalidReferenceException.class);
    }

    @Test
    void equalityIsOnAllParts() {
        assertThat(ImageReference.parse("a:1")).isEqualTo(ImageReference.parse("a:1"))
                .hasSameHashCodeAs(ImageReference.parse("a:1"))
                .isNotEqualTo(ImageReference.parse("a:2"))
                .isNotEqualTo(ImageReference.parse("docker.io/a:1"));
    }

    @Test
    void errorMessagesDoNotEchoControlCharactersOrHugeInput() {
        assertThatThrownBy(() -> ImageReference.parse("bad\nname"))
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        assertThatThrownBy(() -> ImageReference.parse("X".repeat(10_000)))
                .satisfies(e -> assertThat(e.getMessage().length()).isLessThan(400));
    }
}
