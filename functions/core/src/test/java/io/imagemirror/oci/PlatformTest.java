package io.imagemirror.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PlatformTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
        "linux/amd64, linux/amd64",
        "linux/x86_64, linux/amd64",
        "linux/x86-64, linux/amd64",
        "Linux/AMD64, linux/amd64",
        "linux/aarch64, linux/arm64/v8",
        "linux/arm64, linux/arm64/v8",
        "linux/arm64/v8, linux/arm64/v8",
        "linux/arm64/8, linux/arm64/v8",
        "linux/arm, linux/arm/v7",
        "linux/arm/7, linux/arm/v7",
        "linux/arm/v6, linux/arm/v6",
        "linux/armhf, linux/arm/v7",
        "linux/armel, linux/arm/v6",
        "linux/i386, linux/386",
        "linux/s390x, linux/s390x",
        "windows/amd64, windows/amd64",
        "macos/arm64, darwin/arm64/v8",
    })
    void normalizes(String spec, String normal) {
        assertThat(Platform.parse(spec)).hasToString(normal).isEqualTo(Platform.parse(normal));
    }

    @Test
    void rejectsMalformedSpecs() {
        for (String bad : new String[] {"linux", "linux/", "/amd64", "a/b/c/d", "linux/amd 64", ""}) {
            assertThatThrownBy(() -> Platform.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("platform");
        }
    }

    @Test
    void matchesAsRuntimesDo() {
        Platform arm64 = Platform.parse("linux/arm64");
        assertThat(arm64.matches(Platform.of("linux", "aarch64", "v8", null))).isTrue();
        assertThat(Platform.parse("linux/arm").matches(Platform.parse("linux/arm/v7"))).isTrue();
        assertThat(Platform.parse("linux/arm/v6").matches(Platform.parse("linux/arm/v7"))).isFalse();
        assertThat(Platform.parse("linux/amd64").matches(Platform.of("linux", "x86_64"))).isTrue();
        assertThat(Platform.parse("linux/amd64").matches(Platform.parse("windows/amd64"))).isFalse();
        assertThat(Platform.parse("linux/amd64").matches(Platform.parse("linux/arm64"))).isFalse();
        assertThat(Platform.parse("linux/amd64").matches(Platform.UNKNOWN)).isFalse();
        assertThat(Platform.UNKNOWN.isUnknown()).isTrue();
    }

    @Test
    void keepsOsVersionForWindows() {
        Platform w = Platform.of("windows", "amd64", null, "10.0.17763.1");
        assertThat(w.osVersion()).isEqualTo("10.0.17763.1");
        assertThat(Platform.parse("windows/amd64").matches(w)).isTrue();
    }
}
