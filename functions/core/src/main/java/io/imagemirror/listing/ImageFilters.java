package io.imagemirror.listing;

import io.imagemirror.oci.EchoedInput;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code --filter} options of {@code image-mirror images}, with docker's meaning:
 * <ul>
 *   <li>{@code dangling=true|false}: only untagged, or only tagged, manifests;</li>
 *   <li>{@code before=REF} / {@code since=REF}: mirrored before / after the image {@code REF} names
 *       (mirror order, not the images' own creation times);</li>
 *   <li>{@code label=KEY} / {@code label=KEY=VALUE}: the config has that label (with that value);</li>
 *   <li>{@code reference=PATTERN}: {@code repository:tag} (or the repository alone) matches the
 *       {@link GlobPattern}.</li>
 * </ul>
 * Different filters must all hold. Repeated {@code reference} patterns are alternatives (any may
 * match); repeated {@code label}, {@code before} and {@code since} filters must all hold; a
 * repeated {@code dangling} must agree. Immutable once {@linkplain #resolve resolved}.
 */
public final class ImageFilters {

    /** What {@code before=}/{@code since=} name: resolved to a mirror time by the caller's index. */
    @FunctionalInterface
    public interface ImageLookup {
        /** When the image {@code reference} names was mirrored, or empty when there is no such image. */
        Optional<Instant> mirroredAt(String reference);
    }

    private record Label(String key, String value) {
    }

    private final Boolean dangling;
    private final List<String> before;
    private final List<String> since;
    private final List<Label> labels;
    private final List<GlobPattern> references;
    private final Instant beforeTime;
    private final Instant sinceTime;

    private ImageFilters(Boolean dangling, List<String> before, List<String> since, List<Label> labels,
                         List<GlobPattern> references, Instant beforeTime, Instant sinceTime) {
        this.dangling = dangling;
        this.before = before;
        this.since = since;
        this.labels = labels;
        this.references = references;
        this.beforeTime = beforeTime;
        this.sinceTime = sinceTime;
    }

    /** No filter: everything matches. */
    public static ImageFilters none() {
        return new ImageFilters(null, List.of(), List.of(), List.of(), List.of(), null, null);
    }

    /**
     * Parses {@code key=value} filters.
     *
     * @throws InvalidFilterException naming the first filter that is not understood
     */
    public static ImageFilters parse(List<String> filters) {
        Boolean dangling = null;
        List<String> before = new ArrayList<>();
        List<String> since = new ArrayList<>();
        List<Label> labels = new ArrayList<>();
        List<GlobPattern> references = new ArrayList<>();
        for (String f : filters) {
            int eq = f.indexOf('=');
            if (eq <= 0) {
                throw new InvalidFilterException("bad format of filter \"" + EchoedInput.of(f)
                        + "\" (expected name=value)");
            }
            String key = f.substring(0, eq).trim().toLowerCase(java.util.Locale.ROOT);
            String value = f.substring(eq + 1);
            switch (key) {
                case "dangling" -> {
                    boolean d;
                    if (value.equalsIgnoreCase("true") || value.equals("1")) {
                        d = true;
                    } else if (value.equalsIgnoreCase("false") || value.equals("0")) {
                        d = false;
                    } else {
                        throw new InvalidFilterException("invalid filter 'dangling=" + EchoedInput.of(value)
                                + "': dangling takes true or false");
                    }
                    if (dangling != null && dangling != d) {
                        throw new InvalidFilterException("invalid filter: dangling is both true and false");
                    }
                    dangling = d;
                }
                case "before" -> before.add(nonEmpty(key, value));
                case "since" -> since.add(nonEmpty(key, value));
                case "label" -> {
                    String v = nonEmpty(key, value);
                    int e = v.indexOf('=');
                    labels.add(e < 0 ? new Label(v, null) : new Label(v.substring(0, e), v.substring(e + 1)));
                }
                case "reference" -> {
                    try {
                        references.add(GlobPattern.compile(nonEmpty(key, value)));
                    } catch (InvalidFilterException e) {
                        throw e;
                    } catch (IllegalArgumentException e) {
                        throw new InvalidFilterException("invalid filter 'reference': " + e.getMessage());
                    }
                }
                default -> throw new InvalidFilterException("invalid filter '" + EchoedInput.of(key)
                        + "' (known: dangling, before, since, label, reference)");
            }
        }
        return new ImageFilters(dangling, List.copyOf(before), List.copyOf(since), List.copyOf(labels),
                List.copyOf(references), null, null);
    }

    private static String nonEmpty(String key, String value) {
        if (value.isEmpty()) {
            throw new InvalidFilterException("invalid filter '" + key + "': it needs a value");
        }
        return value;
    }

    /** Whether the listing must include untagged manifests to answer these filters. */
    public Optional<Boolean> dangling() {
        return Optional.ofNullable(dangling);
    }

    /**
     * Looks up the images {@code before=}/{@code since=} name.
     *
     * @throws InvalidFilterException naming an image that is not in the mirror
     */
    public ImageFilters resolve(ImageLookup lookup) {
        Instant b = bound(before, lookup, true);
        Instant s = bound(since, lookup, false);
        return new ImageFilters(dangling, before, since, labels, references, b, s);
    }

    /** The tightest bound: the earliest {@code before}, the latest {@code since}. */
    private static Instant bound(List<String> refs, ImageLookup lookup, boolean earliest) {
        Instant out = null;
        for (String ref : refs) {
            Instant t = lookup.mirroredAt(ref).orElseThrow(() ->
                    new InvalidFilterException("no such image: " + EchoedInput.of(ref)));
            if (out == null || (earliest ? t.isBefore(out) : t.isAfter(out))) {
                out = t;
            }
        }
        return out;
    }

    /**
     * Whether {@code row} passes every filter.
     *
     * @throws IllegalStateException if {@code before}/{@code since} were given and not {@linkplain #resolve resolved}
     */
    public boolean matches(ImageRow row) {
        if ((!before.isEmpty() && beforeTime == null) || (!since.isEmpty() && sinceTime == null)) {
            throw new IllegalStateException("before/since filters must be resolved first");
        }
        if (dangling != null && row.dangling() != dangling) {
            return false;
        }
        if (beforeTime != null && !row.mirroredAt().isBefore(beforeTime)) {
            return false;
        }
        if (sinceTime != null && !row.mirroredAt().isAfter(sinceTime)) {
            return false;
        }
        for (Label l : labels) {
            Map<String, String> have = row.labels();
            if (!have.containsKey(l.key()) || (l.value() != null && !l.value().equals(have.get(l.key())))) {
                return false;
            }
        }
        if (!references.isEmpty()) {
            if (row.dangling()) {
                return false; // docker: an untagged image has no reference to match
            }
            boolean any = false;
            for (GlobPattern p : references) {
                if (p.matches(row.familiarReference()) || p.matches(row.repository())) {
                    any = true;
                    break;
                }
            }
            return any;
        }
        return true;
    }
}
