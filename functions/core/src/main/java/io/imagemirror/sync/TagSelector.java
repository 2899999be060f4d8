package io.imagemirror.sync;

import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import io.imagemirror.oci.EchoedInput;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.semver4j.RangesList;
import org.semver4j.RangesListFactory;
import org.semver4j.Semver;

/**
 * Which of a repository's tags a sync rule keeps mirrored.
 * <ol>
 *   <li>{@code include}: regular expressions, a tag must match one (any part of it; anchor with
 *       {@code ^…$}); none given: every tag.</li>
 *   <li>{@code exclude}: a tag matching any of these is dropped.</li>
 *   <li>{@code semver}: a range in npm's syntax ({@code >=3.19 <4}, {@code ^1.2}, {@code ~2.0},
 *       {@code 1.x}, {@code 1.2 - 1.4}); a tag is read as a version when it is
 *       {@code [v]MAJOR[.MINOR[.PATCH]][-PRERELEASE][+BUILD]} (missing parts are 0, so {@code 3.20}
 *       is {@code 3.20.0}); a tag that is no version never satisfies a range. Pre-releases
 *       satisfy a range only as npm allows.</li>
 *   <li>{@code keepLatest N}: of what is left, the N highest versions; tags that are no version
 *       rank below every version, by name descending.</li>
 * </ol>
 * Expressions are RE2 (linear time in the tag's length, whatever the pattern), so a hostile
 * pattern cannot stall a planner. Immutable and thread-safe.
 */
public final class TagSelector {
    private static final java.util.regex.Pattern VERSION = java.util.regex.Pattern.compile(
            "v?(0|[1-9]\\d{0,8})(?:\\.(0|[1-9]\\d{0,8}))?(?:\\.(0|[1-9]\\d{0,8}))?"
                    + "(-[0-9A-Za-z.-]+)?(\\+[0-9A-Za-z.-]+)?");

    private final List<Pattern> include;
    private final List<Pattern> exclude;
    private final String semverText;
    private final RangesList semver;
    private final Integer keepLatest;

    private TagSelector(List<Pattern> include, List<Pattern> exclude, String semverText, RangesList semver,
                        Integer keepLatest) {
        this.include = include;
        this.exclude = exclude;
        this.semverText = semverText;
        this.semver = semver;
        this.keepLatest = keepLatest;
    }

    /** Every tag. */
    public static TagSelector all() {
        return new TagSelector(List.of(), List.of(), null, null, null);
    }

    /**
     * A selector; each argument may be empty or null.
     *
     * @throws InvalidRuleException naming the field ({@code tags.include[1]}, {@code tags.semver},
     *     {@code tags.keepLatest}) that is not valid
     */
    public static TagSelector of(List<String> include, List<String> exclude, String semver, Integer keepLatest) {
        RangesList ranges = null;
        if (semver != null) {
            if (semver.isBlank()) {
                throw new InvalidRuleException("tags.semver", "must not be empty (leave it out to take every tag)");
            }
            try {
                ranges = RangesListFactory.create(semver);
            } catch (IllegalArgumentException e) { // SemverException is one
                throw new InvalidRuleException("tags.semver", "invalid range \"" + EchoedInput.of(semver) + "\": "
                        + e.getMessage());
            }
            if (ranges.get().isEmpty()) {
                throw new InvalidRuleException("tags.semver", "invalid range \"" + EchoedInput.of(semver) + "\"");
            }
        }
        if (keepLatest != null && keepLatest < 1) {
            throw new InvalidRuleException("tags.keepLatest", "must be at least 1, got " + keepLatest);
        }
        return new TagSelector(compile(include, "tags.include"), compile(exclude, "tags.exclude"), semver, ranges,
                keepLatest);
    }

    private static List<Pattern> compile(List<String> patterns, String field) {
        List<Pattern> out = new ArrayList<>();
        if (patterns == null) {
            return List.of();
        }
        for (int i = 0; i < patterns.size(); i++) {
            String p = patterns.get(i);
            if (p == null || p.isEmpty()) {
                throw new InvalidRuleException(field + "[" + i + "]", "must not be empty");
            }
            try {
                out.add(Pattern.compile(p));
            } catch (PatternSyntaxException e) {
                throw new InvalidRuleException(field + "[" + i + "]", "invalid regular expression \""
                        + EchoedInput.of(p) + "\": " + e.getDescription());
            }
        }
        return List.copyOf(out);
    }

    /** The selected tags of {@code tags}, highest version first when {@code keepLatest} is set, else in input order. */
    public List<String> select(List<String> tags) {
        List<String> out = new ArrayList<>();
        for (String t : tags) {
            if (matches(t)) {
                out.add(t);
            }
        }
        if (keepLatest == null) {
            return out;
        }
        out.sort(Comparator.comparing(TagSelector::version, Comparator.nullsLast(Comparator.reverseOrder()))
                .thenComparing(Comparator.<String>reverseOrder()));
        return List.copyOf(out.subList(0, Math.min(keepLatest, out.size())));
    }

    private boolean matches(String tag) {
        if (!include.isEmpty() && include.stream().noneMatch(p -> p.matcher(tag).find())) {
            return false;
        }
        if (exclude.stream().anyMatch(p -> p.matcher(tag).find())) {
            return false;
        }
        if (semver != null) {
            Semver v = version(tag);
            return v != null && v.satisfies(semver);
        }
        return true;
    }

    /** The tag read as a version, or null when it is none. */
    public static Semver version(String tag) {
        java.util.regex.Matcher m = VERSION.matcher(tag);
        if (!m.matches()) {
            return null;
        }
        String text = m.group(1) + "." + Optional.ofNullable(m.group(2)).orElse("0") + "."
                + Optional.ofNullable(m.group(3)).orElse("0") + Optional.ofNullable(m.group(4)).orElse("")
                + Optional.ofNullable(m.group(5)).orElse("");
        return Semver.parse(text);
    }

    public List<String> include() {
        return include.stream().map(Pattern::pattern).toList();
    }

    public List<String> exclude() {
        return exclude.stream().map(Pattern::pattern).toList();
    }

    public Optional<String> semver() {
        return Optional.ofNullable(semverText);
    }

    public Optional<Integer> keepLatest() {
        return Optional.ofNullable(keepLatest);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TagSelector s && s.include().equals(include()) && s.exclude().equals(exclude())
                && Objects.equals(s.semverText, semverText) && Objects.equals(s.keepLatest, keepLatest);
    }

    @Override
    public int hashCode() {
        return Objects.hash(include(), exclude(), semverText, keepLatest);
    }
}
