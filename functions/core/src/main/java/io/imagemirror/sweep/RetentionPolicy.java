package io.imagemirror.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import io.imagemirror.config.ConfigException;
import io.imagemirror.config.MirrorConfig;
import io.imagemirror.listing.GlobPattern;
import io.imagemirror.oci.EchoedInput;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * One retention policy of the {@code sweep.retention} list: which tags of the repositories it
 * covers are untagged by a sweep (their manifests then dangle and go after the grace period).
 * <pre>
 * sweep:
 *   retention:
 *     - repositories: docker.io/library/*   # glob over the canonical repository name (* stops at /)
 *       unpulledFor: 30d                     # untag tags not pulled (nor set) for 30 days
 *       keepLatest: 10                       # and all but the newest 10 ...
 *       order: mirrored                      # ... by when they were mirrored (default), or: semver
 *       keep: ['^latest$', '^stable$']       # pinned tags: never untagged (RE2, any part)
 * </pre>
 * A tag survives when any of these holds: it matches {@code keep}; its manifest is pinned (mirrored
 * by digest); a sync rule whose source is the repository selects it among the repository's tags.
 * Otherwise it is untagged when it was not used (pulled, or set) within {@code unpulledFor}, or it
 * is not among the {@code keepLatest} newest. With {@code order: semver} only tags that read as
 * versions are ranked and counted ({@code latest} is never "older" than {@code 1.2}); other tags are
 * left to {@code unpulledFor}. The first policy whose pattern matches a repository is its policy.
 * Immutable.
 *
 * @param unpulledFor untag tags unused this long, or null
 * @param keepLatest keep at most this many newest tags, or null
 */
public record RetentionPolicy(GlobPattern repositories, Duration unpulledFor, Integer keepLatest, Order order,
                              List<Pattern> keep) {

    /** How {@code keepLatest} ranks tags. */
    public enum Order {
        /** Newest first by when the tag was last set (mirrored). */
        MIRRORED,
        /** Highest version first; tags that are no version are not ranked. */
        SEMVER
    }

    private static final Set<String> KEYS = Set.of("repositories", "unpulledFor", "keepLatest", "order", "keep");

    public RetentionPolicy {
        Objects.requireNonNull(repositories, "repositories");
        Objects.requireNonNull(order, "order");
        keep = List.copyOf(keep == null ? List.of() : keep);
        if (unpulledFor == null && keepLatest == null) {
            throw new ConfigException("a retention policy needs unpulledFor or keepLatest");
        }
    }

    /** Whether this policy covers {@code repository} (canonical, e.g. {@code docker.io/library/alpine}). */
    public boolean covers(String repository) {
        return repositories.matches(repository);
    }

    /** Whether {@code tag} is pinned by this policy's {@code keep}. */
    public boolean keeps(String tag) {
        return keep.stream().anyMatch(p -> p.matcher(tag).find());
    }

    /**
     * The {@code sweep.retention} list of a configuration.
     *
     * @throws ConfigException naming the entry and field, e.g. {@code sweep.retention[1].keepLatest}
     */
    public static List<RetentionPolicy> listFromTree(JsonNode list) {
        if (list == null || list.isNull()) {
            return List.of();
        }
        if (!list.isArray()) {
            throw new ConfigException("sweep.retention must be a list");
        }
        List<RetentionPolicy> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            out.add(fromTree(list.get(i), "sweep.retention[" + i + "]."));
        }
        return List.copyOf(out);
    }

    static RetentionPolicy fromTree(JsonNode n, String where) {
        if (n == null || !n.isObject()) {
            throw new ConfigException(where.substring(0, where.length() - 1) + " must be a mapping");
        }
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!KEYS.contains(k)) {
                throw new ConfigException(where + k + " is not a retention field (repositories, unpulledFor, "
                        + "keepLatest, order, keep)");
            }
        }
        JsonNode r = n.get("repositories");
        if (r == null || !r.isTextual() || r.asText().isEmpty()) {
            throw new ConfigException(where + "repositories is required: a pattern such as docker.io/library/*");
        }
        GlobPattern repositories;
        try {
            repositories = GlobPattern.compile(r.asText());
        } catch (IllegalArgumentException e) {
            throw new ConfigException(where + "repositories: " + e.getMessage(), e);
        }
        Duration unpulled = null;
        if (n.hasNonNull("unpulledFor")) {
            unpulled = MirrorConfig.parseDuration(n.get("unpulledFor").asText(), where + "unpulledFor");
            if (unpulled.isNegative() || unpulled.isZero()) {
                throw new ConfigException(where + "unpulledFor must be positive");
            }
        }
        Integer keepLatest = null;
        if (n.hasNonNull("keepLatest")) {
            JsonNode k = n.get("keepLatest");
            if (!k.canConvertToInt() || !k.isIntegralNumber() || k.asInt() < 1) {
                throw new ConfigException(where + "keepLatest must be a whole number of at least 1");
            }
            keepLatest = k.asInt();
        }
        Order order = Order.MIRRORED;
        if (n.hasNonNull("order")) {
            String o = n.get("order").asText().toLowerCase(Locale.ROOT);
            order = switch (o) {
                case "mirrored" -> Order.MIRRORED;
                case "semver" -> Order.SEMVER;
                default -> throw new ConfigException(where + "order must be mirrored or semver, got \""
                        + EchoedInput.of(o) + "\"");
            };
        }
        List<Pattern> keep = new ArrayList<>();
        JsonNode k = n.get("keep");
        if (k != null && !k.isNull()) {
            if (!k.isArray()) {
                throw new ConfigException(where + "keep must be a list of regular expressions");
            }
            for (int i = 0; i < k.size(); i++) {
                String p = k.get(i).asText();
                try {
                    keep.add(Pattern.compile(p));
                } catch (PatternSyntaxException e) {
                    throw new ConfigException(where + "keep[" + i + "]: invalid regular expression \""
                            + EchoedInput.of(p) + "\": " + e.getDescription());
                }
            }
        }
        if (unpulled == null && keepLatest == null) {
            throw new ConfigException(where.substring(0, where.length() - 1) + " needs unpulledFor or keepLatest");
        }
        return new RetentionPolicy(repositories, unpulled, keepLatest, order, keep);
    }
}
