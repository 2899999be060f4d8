package io.imagemirror.listing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class GlobPatternTest {

    @ParameterizedTest(name = "{0} ~ {1} = {2}")
    @CsvSource(delimiter = '|', value = {
            "app-*:1          | app-web:1            | true",
            "app-*:1          | app-web:12           | false",
            "app-*:1          | team/app-web:1       | false",
            "*/*:latest       | team/app:latest      | true",
            "*:latest         | team/app:latest      | false",
            "alpine           | alpine               | true",
            "alp?ne:3.2?      | alpine:3.20          | true",
            "alp?ne           | alp/ne               | false",
            "[a-c]pp:1        | bpp:1                | true",
            "[^a-c]pp:1       | bpp:1                | false",
            "[^a-c]pp:1       | xpp:1                | true",
            "\\*:1            | *:1                  | true",
            "\\*:1            | a:1                  | false",
            "*                | ''                   | true",
            "''               | ''                   | true",
            "''               | a                    | false",
            "a*b*c            | aXXbYYc              | true",
            "a*b*c            | aXXbYY               | false",
            "ghcr.io/*/*:*    | ghcr.io/org/app:1    | true",
            "[\\]]x           | ]x                   | true",
    })
    void matchesAsGoPathMatch(String pattern, String text, boolean expected) {
        assertThat(GlobPattern.compile(pattern).matches(text)).isEqualTo(expected);
    }

    @Test
    void malformedPatternsAreRefusedWithTheReason() {
        assertThatThrownBy(() -> GlobPattern.compile("app[")).hasMessageContaining("not closed");
        assertThatThrownBy(() -> GlobPattern.compile("app\\")).hasMessageContaining("backslash");
        assertThatThrownBy(() -> GlobPattern.compile("[z-a]")).hasMessageContaining("reversed");
        assertThatThrownBy(() -> GlobPattern.compile("[]")).hasMessageContaining("must be escaped");
    }

    @Test
    void aHostilePatternIsMatchedInBoundedWork() {
        // Backtracking matchers take exponential time here; this one is proportional to pattern x text.
        String pattern = "a*".repeat(60) + "b";
        String text = "a".repeat(300);
        assertThat(GlobPattern.compile(pattern).matches(text)).isFalse();
        assertThat(GlobPattern.compile(pattern).matches(text + "b")).isTrue();
    }
}
