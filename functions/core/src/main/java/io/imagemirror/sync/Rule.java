package io.imagemirror.sync;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.imagemirror.cache.NameRouter;
import io.imagemirror.config.ConfigException;
import io.imagemirror.config.MirrorConfig;
import io.imagemirror.oci.EchoedInput;
import io.imagemirror.oci.Platform;
import io.imagemirror.reference.ImageReference;
import io.imagemirror.reference.InvalidReferenceException;
import io.imagemirror.reference.RepositoryName;
import io.imagemirror.store.Cause;
import io.imagemirror.upstream.Prefetch;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * A sync rule: which tags of one upstream repository the mirror keeps, and how often it looks.
 * <pre>
 * name: alpine-3                      # [a-z0-9-]{1,63}
 * source: alpine                      # a repository of a configured upstream
 * tags:                               # all optional: see {@link TagSelector}
 *   include: ['^3\.\d+(\.\d+)?$']
 *   exclude: ['-rc']
 *   semver: '>=3.19 <4'
 *   keepLatest: 5
 * platforms: [linux/amd64, linux/arm64]   # default: all
 * referrers: true                     # default: false
 * schedule: rate(15 minutes)          # or cron(0 3 * * ? *): see {@link Schedule}
 * tagTtl: 1h                          # pull-through freshness for this repository (default: the global one)
 * prefetch: all                       # what a pull through the cache fetches of an index of this
 *                                     # repository: pulled | all (default: the upstream's)
 * removedUpstream: keep               # keep (default) | untag
 * </pre>
 * The same tree is the YAML in a config file, the JSON body of {@code /v1/rules} and what the
 * store keeps; {@link #toTree()} writes it back so that {@code fromTree(toTree())} equals the rule.
 * Immutable.
 *
 * @param source the canonical repository, e.g. {@code docker.io/library/alpine}
 * @param platforms the platforms to copy; empty: all
 * @param tagTtl the pull-through freshness for {@code source}, or null for the global one
 * @param prefetch what a pull through the cache fetches of an index of {@code source}, or null for
 *     the upstream's setting (the rule's own copies follow {@code platforms} either way)
 * @param enabled whether the planner runs it when due ({@code enabled: false} keeps a rule, its state
 *     and its runs while it is paused; naming it on {@code sync RULE} still runs it)
 */
public record Rule(String name, String source, TagSelector tags, List<Platform> platforms, boolean referrers,
                   Schedule schedule, Duration tagTtl, RemovedUpstream removedUpstream, Prefetch prefetch,
                   boolean enabled) {

    /** What a tag deleted upstream does here; its history is kept either way. */
    public enum RemovedUpstream {
        /** The tag stays, pointing at what was mirrored. */
        KEEP,
        /** The tag is removed here too (cause {@code sync rule <name>}). */
        UNTAG
    }

    private static final Set<String> KEYS = Set.of("name", "source", "tags", "platforms", "referrers", "schedule",
            "tagTtl", "removedUpstream", "prefetch", "enabled");
    private static final Set<String> TAG_KEYS = Set.of("include", "exclude", "semver", "keepLatest");
    private static final ObjectMapper JSON = new ObjectMapper();

    public Rule {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(tags, "tags");
        Objects.requireNonNull(schedule, "schedule");
        Objects.requireNonNull(removedUpstream, "removedUpstream");
        platforms = List.copyOf(platforms == null ? List.of() : platforms);
        if (!isValidName(name)) {
            throw new InvalidRuleException("name", "\"" + EchoedInput.of(name)
                    + "\" must be 1-63 characters of a-z, 0-9 and -");
        }
    }

    /** An enabled rule that leaves pull-through prefetch to its upstream. */
    public Rule(String name, String source, TagSelector tags, List<Platform> platforms, boolean referrers,
                Schedule schedule, Duration tagTtl, RemovedUpstream removedUpstream) {
        this(name, source, tags, platforms, referrers, schedule, tagTtl, removedUpstream, null);
    }

    /** An enabled rule. */
    public Rule(String name, String source, TagSelector tags, List<Platform> platforms, boolean referrers,
                Schedule schedule, Duration tagTtl, RemovedUpstream removedUpstream, Prefetch prefetch) {
        this(name, source, tags, platforms, referrers, schedule, tagTtl, removedUpstream, prefetch, true);
    }

    /** Whether {@code name} may name a rule: 1-63 characters of a-z, 0-9 and -. */
    public static boolean isValidName(String name) {
        return Cause.isRuleName(name);
    }

    /** The cause written into tag history for what this rule changes. */
    public Cause cause() {
        return Cause.syncRule(name);
    }

    /**
     * Reads a rule from its YAML/JSON tree.
     *
     * @param names what {@code source} means on this mirror (as on {@code /v2}, {@code /v1} and the CLI),
     *     and which upstreams are configured
     * @throws InvalidRuleException naming the first field that is missing, unknown or invalid
     */
    public static Rule fromTree(JsonNode node, NameRouter names) {
        if (node == null || !node.isObject()) {
            throw new InvalidRuleException("rule", "must be a mapping");
        }
        unknownKeys(node, "", KEYS);
        String name = text(node, "name", true);
        String source = source(text(node, "source", true), names);
        TagSelector tags = TagSelector.all();
        JsonNode t = node.get("tags");
        if (t != null && !t.isNull()) {
            if (!t.isObject()) {
                throw new InvalidRuleException("tags", "must be a mapping");
            }
            unknownKeys(t, "tags.", TAG_KEYS);
            JsonNode keep = t.get("keepLatest");
            if (keep != null && !keep.isNull() && (!keep.isIntegralNumber() || !keep.canConvertToInt())) {
                throw new InvalidRuleException("tags.keepLatest", "must be a whole number");
            }
            tags = TagSelector.of(strings(t, "include", "tags."), strings(t, "exclude", "tags."),
                    text(t, "semver", false, "tags."), keep == null || keep.isNull() ? null : keep.intValue());
        }
        List<Platform> platforms = new ArrayList<>();
        List<String> ps = strings(node, "platforms", "");
        for (int i = 0; i < ps.size(); i++) {
            try {
                platforms.add(Platform.parse(ps.get(i)));
            } catch (IllegalArgumentException e) {
                throw new InvalidRuleException("platforms[" + i + "]", e.getMessage());
            }
        }
        JsonNode ref = node.get("referrers");
        if (ref != null && !ref.isNull() && !ref.isBoolean()) {
            throw new InvalidRuleException("referrers", "must be true or false");
        }
        String scheduleText = text(node, "schedule", true);
        Schedule schedule = Schedule.parse(scheduleText);
        Duration ttl = null;
        String ttlText = text(node, "tagTtl", false);
        if (ttlText != null) {
            try {
                ttl = MirrorConfig.parseDuration(ttlText, "tagTtl");
            } catch (ConfigException e) {
                throw new InvalidRuleException("tagTtl", e.getMessage().replaceFirst("^tagTtl: ", ""));
            }
            if (ttl.isNegative()) {
                throw new InvalidRuleException("tagTtl", "must not be negative");
            }
        }
        RemovedUpstream removed = RemovedUpstream.KEEP;
        String r = text(node, "removedUpstream", false);
        if (r != null) {
            removed = switch (r) {
                case "keep" -> RemovedUpstream.KEEP;
                case "untag" -> RemovedUpstream.UNTAG;
                default -> throw new InvalidRuleException("removedUpstream", "must be keep or untag, got \""
                        + EchoedInput.of(r) + "\"");
            };
        }
        Prefetch prefetch = null;
        String pf = text(node, "prefetch", false);
        if (pf != null) {
            try {
                prefetch = Prefetch.parse(pf);
            } catch (IllegalArgumentException e) {
                throw new InvalidRuleException("prefetch", e.getMessage());
            }
        }
        JsonNode enabled = node.get("enabled");
        if (enabled != null && !enabled.isNull() && !enabled.isBoolean()) {
            throw new InvalidRuleException("enabled", "must be true or false");
        }
        return new Rule(name, source, tags, platforms, ref != null && ref.asBoolean(), schedule, ttl, removed,
                prefetch, enabled == null || enabled.isNull() || enabled.asBoolean());
    }

    /** The canonical repository of {@code source}: a name without tag or digest, of a configured upstream. */
    private static String source(String text, NameRouter names) {
        ImageReference ref;
        RepositoryName name;
        try {
            ref = ImageReference.parse(text);
            name = names.repositoryOf(ref);
        } catch (InvalidReferenceException e) {
            throw new InvalidRuleException("source", e.getMessage());
        }
        if (ref.tag().isPresent() || ref.digest().isPresent()) {
            throw new InvalidRuleException("source", "\"" + EchoedInput.of(text)
                    + "\" must name a repository without a tag or digest (tags are chosen by tags:)");
        }
        if (!names.isConfigured(name.registry())) {
            throw new InvalidRuleException("source", "registry " + name.registry() + " is not a configured upstream");
        }
        return name.toString();
    }

    /** The rule as its YAML/JSON tree: only what differs from the defaults, so files stay short. */
    public ObjectNode toTree() {
        ObjectNode n = JSON.createObjectNode();
        n.put("name", name);
        n.put("source", source);
        ObjectNode t = JSON.createObjectNode();
        if (!tags.include().isEmpty()) {
            ArrayNode a = t.putArray("include");
            tags.include().forEach(a::add);
        }
        if (!tags.exclude().isEmpty()) {
            ArrayNode a = t.putArray("exclude");
            tags.exclude().forEach(a::add);
        }
        tags.semver().ifPresent(s -> t.put("semver", s));
        tags.keepLatest().ifPresent(k -> t.put("keepLatest", k));
        if (!t.isEmpty()) {
            n.set("tags", t);
        }
        if (!platforms.isEmpty()) {
            ArrayNode a = n.putArray("platforms");
            platforms.forEach(p -> a.add(p.toString()));
        }
        if (referrers) {
            n.put("referrers", true);
        }
        n.put("schedule", schedule.toString());
        if (tagTtl != null) {
            n.put("tagTtl", tagTtl.toString());
        }
        n.put("removedUpstream", removedUpstream.name().toLowerCase(Locale.ROOT));
        if (prefetch != null) {
            n.put("prefetch", prefetch.toString());
        }
        if (!enabled) {
            n.put("enabled", false);
        }
        return n;
    }

    private static void unknownKeys(JsonNode node, String where, Set<String> known) {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!known.contains(k)) {
                throw new InvalidRuleException(where + k, "unknown key (known: "
                        + known.stream().sorted().toList() + ")");
            }
        }
    }

    private static String text(JsonNode node, String field, boolean required) {
        return text(node, field, required, "");
    }

    private static String text(JsonNode node, String field, boolean required, String where) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            if (required) {
                throw new InvalidRuleException(where + field, "is required");
            }
            return null;
        }
        if (!v.isValueNode()) {
            throw new InvalidRuleException(where + field, "must be a single value");
        }
        return v.asText();
    }

    private static List<String> strings(JsonNode node, String field, String where) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return List.of();
        }
        if (v.isTextual()) {
            return List.of(v.asText());
        }
        if (!v.isArray()) {
            throw new InvalidRuleException(where + field, "must be a list");
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < v.size(); i++) {
            if (!v.get(i).isValueNode() || v.get(i).isNull()) {
                throw new InvalidRuleException(where + field + "[" + i + "]", "must be a string");
            }
            out.add(v.get(i).asText());
        }
        return out;
    }
}
