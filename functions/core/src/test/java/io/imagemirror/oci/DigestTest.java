package io.imagemirror.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DigestTest {

    @Test
    void computesSha256OfBytes() {
        Digest d = Digest.sha256("hello".getBytes(StandardCharsets.UTF_8));
        assertThat(d).hasToString("sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
        assertThat(d.shortHex()).isEqualTo("2cf24dba5fb0");
        assertThat(d.matches("hello".getBytes(StandardCharsets.UTF_8))).isTrue();
        assertThat(d.matches("hellO".getBytes(StandardCharsets.UTF_8))).isFalse();
    }

    @Test
    void parsesBothAlgorithmsAndCompares() {
        Digest a = Digest.parse("sha256:" + "0".repeat(64));
        Digest b = Digest.parse("sha512:" + "f".repeat(128));
        assertThat(a.algorithm()).isEqualTo(Digest.Algorithm.SHA256);
        assertThat(b.algorithm()).isEqualTo(Digest.Algorithm.SHA512);
        assertThat(Digest.parse(a.toString())).isEqualTo(a).hasSameHashCodeAs(a);
        assertThat(a).isNotEqualTo(b);
        assertThat(a.compareTo(b)).isNegative();
        assertThat(Digest.compute(Digest.Algorithm.SHA512, new byte[0]).hex()).hasSize(128);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "", "sha256", "sha256:", ":abc", "md5:d41d8cd98f00b204e9800998ecf8427e",
        "sha256:abc", "SHA256:0000000000000000000000000000000000000000000000000000000000000000",
        "sha256:000000000000000000000000000000000000000000000000000000000000000G",
        "sha256:000000000000000000000000000000000000000000000000000000000000000A",
        "sha256:00000000000000000000000000000000000000000000000000000000000000000",
        "sha512:0000000000000000000000000000000000000000000000000000000000000000",
        "sha256 :0000000000000000000000000000000000000000000000000000000000000000"
    })
    void rejectsInvalid(String s) {
        assertThatThrownBy(() -> Digest.parse(s)).isInstanceOf(InvalidDigestException.class)
                .hasMessageContaining("invalid digest");
        assertThat(Digest.isValid(s)).isFalse();
    }

    @Test
    void messagesNameTheProblem() {
        assertThatThrownBy(() -> Digest.parse("sha256:abc")).hasMessageContaining("needs 64 hex characters, got 3");
        assertThatThrownBy(() -> Digest.parse("blake3:abc")).hasMessageContaining("unsupported algorithm \"blake3\"");
        assertThatThrownBy(() -> Digest.parse("nocolon")).hasMessageContaining("missing");
        assertThatThrownBy(() -> Digest.parse("sha256:" + "A".repeat(64))).hasMessageContaining("not lowercase hex");
    }
}
