package io.imagemirror.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class TagSelectorTest {

    /** 50 tags as a real repository mixes them: versions of several shapes, pre-releases, names. */
    static final List<String> TAGS = tags();

    private static List<String> tags() {
        List<String> t = new ArrayList<>();
        for (int minor = 16; minor <= 21; minor++) {
            t.add("3." + minor);
            t.add("3." + minor + ".0");
            t.add("3." + minor + ".1");
        }
        t.addAll(List.of("3.22.0-rc1", "3.22.0-rc2", "3.22", "4.0.0-beta", "4.0", "v2.9.9", "2.9", "2",
                "latest", "edge", "stable", "3", "3.19-slim", "3.20-slim", "20240101", "nightly-2024-01-01",
                "sha-abc1234", "3.21.1-r0", "1.0.0+build.5", "0.1", "3.18.10", "3.18.2", "3.19.10", "3.20.3",
                "3.21.3", "3.21.4", "3.021", "V3", "3.15", "3.15.0", "3.15.1", "alpine-3.19"));
        return List.copyOf(t);
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("include anchored", List.of("^3\\.\\d+(\\.\\d+)?$"), List.of(), null, null, 29),
                Arguments.of("include + exclude", List.of("^3\\."), List.of("-rc", "-slim"), null, null, 30),
                Arguments.of("exclude only", List.of(), List.of("^(latest|edge|stable|nightly.*|sha-.*)$"), null, null, 45),
                Arguments.of("semver range", List.of(), List.of(), ">=3.19 <4", null, 14),
                Arguments.of("semver caret", List.of(), List.of(), "^2", null, 3),
                Arguments.of("semver x-range", List.of(), List.of(), "3.21.x", null, 5),
                Arguments.of("keepLatest alone", List.of(), List.of(), null, 3, 3),
                Arguments.of("everything", List.of("^3\\."), List.of("-slim"), ">=3.19 <4", 5, 5));
    }

    @Test
    void theRepositoryHasFiftyTags() {
        assertThat(TAGS).hasSize(50).doesNotHaveDuplicates();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void selectsExactlyTheExpectedNumber(String what, List<String> include, List<String> exclude, String semver,
                                         Integer keep, int expected) {
        List<String> selected = TagSelector.of(include, exclude, semver, keep).select(TAGS);
        assertThat(selected).as(what + ": " + selected).hasSize(expected);
    }

    @Test
    void selectsExactlyTheseTags() {
        assertThat(TagSelector.of(List.of("^3\\.\\d+(\\.\\d+)?$"), List.of("-rc"), ">=3.19 <4", 5).select(TAGS))
                .containsExactly("3.22", "3.21.4", "3.21.3", "3.21.1", "3.21.0"); // 3.21 ties 3.21.0: name decides
        // Pre-releases satisfy no plain range; 3.22 counts once its release exists.
        assertThat(TagSelector.of(List.of(), List.of(), ">=3.22.0-rc1 <3.23", null).select(TAGS))
                .containsExactly("3.22.0-rc1", "3.22.0-rc2", "3.22");
        assertThat(TagSelector.of(List.of(), List.of(), "~3.18.2", null).select(TAGS))
                .containsExactly("3.18.10", "3.18.2");
        assertThat(TagSelector.of(List.of("^(latest|edge)$"), List.of(), null, null).select(TAGS))
                .containsExactly("latest", "edge");
    }

    @Test
    void keepLatestRanksVersionsAboveNamesAndNamesByNameDescending() {
        assertThat(TagSelector.of(List.of("^(latest|edge|3\\.21\\.4|v2\\.9\\.9)$"), List.of(), null, 4).select(TAGS))
                .containsExactly("3.21.4", "v2.9.9", "latest", "edge");
    }

    @Test
    void tagsAreReadAsVersionsOnlyInTheDocumentedShapes() {
        assertThat(TagSelector.version("3.20")).hasToString("3.20.0");
        assertThat(TagSelector.version("v2")).hasToString("2.0.0");
        assertThat(TagSelector.version("3.22.0-rc1")).hasToString("3.22.0-rc1");
        assertThat(TagSelector.version("3.021")).isNull();
        assertThat(TagSelector.version("V3")).isNull();
        assertThat(TagSelector.version("20240101")).hasToString("20240101.0.0");
        assertThat(TagSelector.version("latest")).isNull();
    }

    @Test
    void badPatternsRangesAndCountsNameTheirField() {
        assertThatThrownBy(() -> TagSelector.of(List.of("ok", "(unclosed"), List.of(), null, null))
                .isInstanceOf(InvalidRuleException.class).hasMessageStartingWith("tags.include[1]: ");
        assertThatThrownBy(() -> TagSelector.of(List.of(), List.of("a{2,1}"), null, null))
                .hasMessageStartingWith("tags.exclude[0]: ");
        // A backreference is refused: RE2 has none, which is what keeps matching linear.
        assertThatThrownBy(() -> TagSelector.of(List.of("(a)\\1"), List.of(), null, null))
                .hasMessageStartingWith("tags.include[0]: ");
        assertThatThrownBy(() -> TagSelector.of(List.of(), List.of(), "not a range!", null))
                .hasMessageStartingWith("tags.semver: ");
        assertThatThrownBy(() -> TagSelector.of(List.of(), List.of(), " ", null)).hasMessageStartingWith("tags.semver: ");
        assertThatThrownBy(() -> TagSelector.of(List.of(), List.of(), null, 0)).hasMessageStartingWith("tags.keepLatest: ");
    }

    @Test
    void aHostilePatternMatchesInLinearTime() {
        // (a+)+$ takes exponential time in a backtracking engine on a long run of a's ending in b.
        TagSelector s = TagSelector.of(List.of("^(a+)+$"), List.of(), null, null);
        String tag = "a".repeat(120) + "b";
        assertThat(s.select(List.of(tag, "aaaa"))).containsExactly("aaaa");
    }
}
