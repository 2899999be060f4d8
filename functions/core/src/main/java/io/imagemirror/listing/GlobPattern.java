package io.imagemirror.listing;

import io.imagemirror.oci.EchoedInput;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A shell-style pattern as docker's {@code --filter reference=PATTERN} uses it (Go's
 * {@code path.Match}): {@code *} matches any run of characters other than {@code /}, {@code ?} one
 * such character, {@code [a-z]} / {@code [^a-z]} a class, and {@code \c} the character {@code c}.
 * The whole text must match.
 *
 * <p>Matching takes time proportional to pattern length times text length at most (no
 * backtracking blow-up), so a pattern sent over {@code /v1} cannot stall a server. Immutable.
 */
public final class GlobPattern {

    /** One element of a compiled pattern. */
    private sealed interface Term permits Literal, AnyOne, AnyRun, CharClass {
    }

    private record Literal(char c) implements Term {
    }

    private record AnyOne() implements Term {
    }

    private record AnyRun() implements Term {
    }

    /** Ranges as pairs {@code lo, hi}; {@code negated} for {@code [^...]}. */
    private record CharClass(boolean negated, char[] ranges) implements Term {
        boolean matches(char c) {
            boolean in = false;
            for (int i = 0; i < ranges.length; i += 2) {
                if (ranges[i] <= c && c <= ranges[i + 1]) {
                    in = true;
                    break;
                }
            }
            return in != negated;
        }
    }

    private final String source;
    private final Term[] terms;

    private GlobPattern(String source, Term[] terms) {
        this.source = source;
        this.terms = terms;
    }

    /**
     * Compiles a pattern.
     *
     * @throws IllegalArgumentException for a malformed pattern (an unclosed or empty class, a
     *     trailing backslash), naming it
     */
    public static GlobPattern compile(String pattern) {
        Objects.requireNonNull(pattern, "pattern");
        List<Term> out = new ArrayList<>();
        int i = 0;
        while (i < pattern.length()) {
            char c = pattern.charAt(i);
            switch (c) {
                case '*' -> {
                    out.add(new AnyRun());
                    i++;
                }
                case '?' -> {
                    out.add(new AnyOne());
                    i++;
                }
                case '\\' -> {
                    if (i + 1 >= pattern.length()) {
                        throw bad(pattern, "it ends in a backslash");
                    }
                    out.add(new Literal(pattern.charAt(i + 1)));
                    i += 2;
                }
                case '[' -> i = charClass(pattern, i + 1, out);
                default -> {
                    out.add(new Literal(c));
                    i++;
                }
            }
        }
        return new GlobPattern(pattern, out.toArray(new Term[0]));
    }

    /** Parses a class starting after its {@code [}; returns the index after its {@code ]}. */
    private static int charClass(String p, int start, List<Term> out) {
        int i = start;
        boolean negated = i < p.length() && p.charAt(i) == '^';
        if (negated) {
            i++;
        }
        List<Character> ranges = new ArrayList<>();
        while (true) {
            if (i >= p.length()) {
                throw bad(p, "a character class is not closed");
            }
            if (p.charAt(i) == ']' && !ranges.isEmpty()) {
                i++;
                break;
            }
            int[] lo = classChar(p, i);
            char hi = (char) lo[0];
            i = lo[1];
            if (i < p.length() && p.charAt(i) == '-') {
                int[] h = classChar(p, i + 1);
                hi = (char) h[0];
                i = h[1];
                if (hi < lo[0]) {
                    throw bad(p, "a character range is reversed");
                }
            }
            ranges.add((char) lo[0]);
            ranges.add(hi);
        }
        char[] r = new char[ranges.size()];
        for (int k = 0; k < r.length; k++) {
            r[k] = ranges.get(k);
        }
        out.add(new CharClass(negated, r));
        return i;
    }

    /** One character of a class: {@code {char, next index}}. */
    private static int[] classChar(String p, int i) {
        if (i >= p.length()) {
            throw bad(p, "a character class is not closed");
        }
        char c = p.charAt(i);
        if (c == '\\') {
            if (i + 1 >= p.length()) {
                throw bad(p, "it ends in a backslash");
            }
            return new int[] {p.charAt(i + 1), i + 2};
        }
        if (c == '-' || c == ']') {
            throw bad(p, "'" + c + "' must be escaped inside a character class");
        }
        return new int[] {c, i + 1};
    }

    private static IllegalArgumentException bad(String pattern, String why) {
        return new IllegalArgumentException("bad pattern \"" + EchoedInput.of(pattern) + "\": " + why);
    }

    /** Whether the whole of {@code text} matches. */
    public boolean matches(String text) {
        // can[j]: the terms seen so far can match text[0, j). One pass per term: O(terms * text).
        boolean[] can = new boolean[text.length() + 1];
        can[0] = true;
        for (Term t : terms) {
            boolean[] next = new boolean[text.length() + 1];
            boolean any = false;
            for (int j = 0; j <= text.length(); j++) {
                if (t instanceof AnyRun) {
                    // A run extends from any reachable position over characters other than '/'.
                    next[j] = can[j] || (j > 0 && next[j - 1] && text.charAt(j - 1) != '/');
                } else if (j > 0 && can[j - 1]) {
                    char c = text.charAt(j - 1);
                    next[j] = matchesOne(t, text.charAt(j - 1));
                }
                any |= next[j];
            }
            if (!any) {
                return false;
            }
            can = next;
        }
        return can[text.length()];
    }

    private static boolean matchesOne(Term t, char c) {
        if (t instanceof Literal l) {
            return l.c() == c;
        }
        if (t instanceof CharClass k) {
            return c != '/' && k.matches(c);
        }
        return c != '/'; // AnyOne
    }

    @Override
    public String toString() {
        return source;
    }
}
