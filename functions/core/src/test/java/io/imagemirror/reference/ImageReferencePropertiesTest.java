package io.imagemirror.reference;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Properties over the whole grammar, generated rather than listed. */
class ImageReferencePropertiesTest {

    @Property(tries = 2000)
    void canonicalFormParsesBackToTheSameReference(@ForAll("references") String input) {
        ImageReference ref;
        try {
            ref = ImageReference.parseNormalized(input);
        } catch (InvalidReferenceException tooLong) {
            // generated names can exceed 255 characters once defaults are added
            assertThat(tooLong.problem()).isEqualTo(InvalidReferenceException.Problem.NAME_TOO_LONG);
            return;
        }
        assertThat(ImageReference.parse(ref.canonical())).isEqualTo(ref);
        assertThat(ImageReference.parse(ref.toString())).isEqualTo(ref);
        assertThat(ref.normalized()).isEqualTo(ref);
    }

    @Property(tries = 3000)
    void arbitraryStringsOnlyEverThrowTheTypedError(@ForAll("noise") String input) {
        try {
            ImageReference ref = ImageReference.parse(input);
            // whatever parsed must print back to something that parses to the same thing
            assertThat(ImageReference.parse(ref.toString())).isEqualTo(ref);
        } catch (InvalidReferenceException expected) {
            assertThat(expected.getMessage()).isNotBlank();
            assertThat(expected.problem()).isNotNull();
        }
    }

    @Provide
    Arbitrary<String> noise() {
        Arbitrary<String> fromAlphabet = Arbitraries.strings().withChars("aA0:/@._-[]sha256Z ").ofMaxLength(80);
        Arbitrary<String> any = Arbitraries.strings().all().ofMaxLength(300);
        Arbitrary<String> mutated = references().map(s -> s.replaceFirst("[a-z]", "Q"));
        return Arbitraries.oneOf(fromAlphabet, any, mutated, references());
    }

    @Provide
    Arbitrary<String> references() {
        Arbitrary<String> alnum = Arbitraries.strings().withCharRange('a', 'z').withCharRange('0', '9')
                .ofMinLength(1).ofMaxLength(8);
        Arbitrary<String> separator = Arbitraries.of(".", "_", "__", "-", "--");
        Arbitrary<String> component = Combinators.combine(alnum, separator, alnum, Arbitraries.integers().between(0, 2))
                .as((a, s, b, shape) -> shape == 0 ? a : a + s + b);
        Arbitrary<String> path = component.list().ofMinSize(1).ofMaxSize(4).map(l -> String.join("/", l));
        Arbitrary<String> host = Arbitraries.of("", "docker.io/", "index.docker.io/", "ghcr.io/", "localhost/",
                "localhost:5000/", "127.0.0.1:5000/", "my-reg.example.com:443/", "[::1]:5000/");
        Arbitrary<String> tag = Arbitraries.strings().withCharRange('a', 'z').withCharRange('A', 'Z')
                .withCharRange('0', '9').withChars('_', '.', '-').ofMinLength(0).ofMaxLength(20)
                .map(t -> t.isEmpty() ? "" : ":" + (Character.isLetterOrDigit(t.charAt(0)) ? t : "v" + t));
        Arbitrary<String> digest = Arbitraries.strings().withChars("0123456789abcdef").ofLength(64)
                .injectNull(0.6).map(h -> h == null ? "" : "@sha256:" + h);
        return Combinators.combine(host, path, tag, digest).as((h, p, t, d) -> h + p + t + d);
    }
}
