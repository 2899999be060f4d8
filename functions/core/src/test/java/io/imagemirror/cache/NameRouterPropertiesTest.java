package io.imagemirror.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.imagemirror.oci.ErrorCode;
import io.imagemirror.oci.RegistryException;
import io.imagemirror.reference.ImageReference;
import io.imagemirror.reference.InvalidReferenceException;
import io.imagemirror.reference.RepositoryName;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** The router over generated names: one key per name, whichever way it is asked, and only typed refusals. */
class NameRouterPropertiesTest {

    final NameRouter router;

    NameRouterPropertiesTest() throws Exception {
        router = new NameRouter(NameRouterTest.config("{'upstreams': [{'name': 'docker.io'},"
                + " {'name': 'ghcr.io', 'prefix': 'gh'}, {'name': '127.0.0.1:5000', 'insecure': true},"
                + " {'name': 'localhost:5000', 'insecure': true}]}"));
    }

    @Property(tries = 2000)
    void resolvingIsIdempotentAndAgreesWithTheV2Router(@ForAll("names") String name, @ForAll("tags") String tag) {
        ImageReference resolved;
        try {
            resolved = router.resolve(name + tag);
        } catch (InvalidReferenceException tooLong) {
            assertThat(tooLong.problem()).isEqualTo(InvalidReferenceException.Problem.NAME_TOO_LONG);
            return;
        }
        assertThat(router.resolve(resolved.toString())).isEqualTo(resolved);
        assertThat(resolved.isNormalized()).isTrue();
        RepositoryName key = resolved.repositoryName();
        assertThat(RepositoryName.parse(key.toString())).isEqualTo(key);
        try {
            assertThat(router.route(name, Optional.empty()).name()).isEqualTo(key);
            assertThat(router.route(resolved.repository(), Optional.of(resolved.registry())).name()).isEqualTo(key);
            assertThat(router.route(key.toString(), Optional.empty()).name()).isEqualTo(key);
            assertThat(router.route(router.clientName(key.toString()), Optional.empty()).name()).isEqualTo(key);
        } catch (RegistryException notConfigured) {
            assertThat(notConfigured.hasCode(ErrorCode.DENIED)).as(notConfigured.getMessage()).isTrue();
            assertThat(key.registry()).isNotIn("docker.io", "ghcr.io", "127.0.0.1:5000", "localhost:5000");
        }
    }

    @Property(tries = 3000)
    void anyInputIsRoutedOrRefusedWithACode(@ForAll("noise") String name, @ForAll("noise") String ns) {
        for (Optional<String> n : new Optional[] {Optional.empty(), Optional.of(ns)}) {
            try {
                Target t = router.route(name, n);
                assertThat(RepositoryName.parse(t.repositoryKey())).isEqualTo(t.name());
            } catch (RegistryException e) {
                assertThat(e.hasCode(ErrorCode.NAME_INVALID) || e.hasCode(ErrorCode.DENIED)).as(e.getMessage()).isTrue();
                assertThat(e.getMessage()).doesNotContain("\n");
            }
        }
    }

    @Provide
    Arbitrary<String> names() {
        Arbitrary<String> alnum = Arbitraries.strings().withCharRange('a', 'z').withCharRange('0', '9')
                .ofMinLength(1).ofMaxLength(8);
        Arbitrary<String> separator = Arbitraries.of(".", "_", "__", "-", "--");
        Arbitrary<String> component = Combinators.combine(alnum, separator, alnum, Arbitraries.integers().between(0, 2))
                .as((a, s, b, shape) -> shape == 0 ? a : a + s + b);
        Arbitrary<String> path = Arbitraries.oneOf(component.list().ofMinSize(1).ofMaxSize(4).map(l -> String.join("/", l)),
                Arbitraries.of("library/alpine", "alpine", "gh/x", "library/gh"));
        Arbitrary<String> host = Arbitraries.of("", "docker.io/", "index.docker.io/", "registry-1.docker.io/",
                "registry.hub.docker.com/", "Index.Docker.IO/", "ghcr.io/", "gh/", "localhost:5000/", "127.0.0.1:5000/",
                "quay.io/", "[::1]:5000/");
        return Combinators.combine(host, path).as((h, p) -> h + p);
    }

    @Provide
    Arbitrary<String> tags() {
        return Arbitraries.of("", ":1", ":latest", "@sha256:" + "a".repeat(64), ":v2@sha256:" + "b".repeat(64));
    }

    @Provide
    Arbitrary<String> noise() {
        return Arbitraries.oneOf(Arbitraries.strings().withChars("aA0:/@._-[]Zl \n").ofMaxLength(40),
                Arbitraries.strings().all().ofMaxLength(300), names());
    }
}
