package io.imagemirror.config;

import com.fasterxml.jackson.databind.JsonNode;
import io.imagemirror.cache.NameRouter;
import io.imagemirror.reference.ReferenceGrammar;
import io.imagemirror.sync.InvalidRuleException;
import io.imagemirror.sync.Rule;
import io.imagemirror.upstream.Credentials;
import io.imagemirror.upstream.Prefetch;
import io.imagemirror.upstream.Upstream;
import java.net.URI;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * What an operator configures: the upstream registries image-mirror may contact (and nothing
 * else), which one serves names without a registry prefix, how long a tag is trusted before it is
 * re-validated, and copy parallelism. Read from YAML locally ({@code --config FILE}) and from
 * environment variables on AWS, through the same {@link #fromTree} so both behave alike.
 * Immutable. Secrets are never part of {@link #toString()}.
 *
 * @param upstreams configured upstreams by canonical registry name, in configuration order
 * @param defaultUpstream the registry for {@code /v2/<repo>} and references without a registry
 * @param tagTtl how long a mirrored tag is served without asking upstream again
 * @param parallelism how many blobs one copy transfers at once
 * @param serveToken the bearer token that allows write routes on a non-loopback listener, or null
 * @param dockerConfig whether to read credentials from the user's Docker {@code config.json}
 * @param rules the sync rules of the file ({@code rules:}, each as {@link Rule#fromTree} reads it);
 *     locally they are applied to the store when {@code serve} or {@code sync} starts
 * @param syncQuotaFloor below this Docker Hub {@code ratelimit-remaining} the sync planner creates no
 *     more copy jobs (pulls through the cache keep the rest of the quota)
 * @param sweep the sweeper's grace period and schedule ({@code sweep:})
 * @param largeBlobs which blobs are fetched with parallel ranged GETs, in parts of what size, how
 *     many at once ({@code largeBlobs: {threshold: 64MiB, partSize: 8MiB, parallelism: 4}})
 * @param fills the cross-instance fill leases ({@code fills: {leaseTtl: 30s, leaseWait: 20s}})
 */
public record MirrorConfig(Map<String, UpstreamConfig> upstreams, String defaultUpstream, Duration tagTtl,
                           int parallelism, String serveToken, boolean dockerConfig, List<Rule> rules,
                           int syncQuotaFloor, io.imagemirror.sweep.SweepConfig sweep,
                           io.imagemirror.upstream.RangedFetch largeBlobs,
                           io.imagemirror.mirror.FillLeases.Config fills) {

    private static final String DOCKER_HUB = ReferenceGrammar.DOCKER_HUB;
    public static final Duration DEFAULT_TAG_TTL = Duration.ofMinutes(5);
    public static final int DEFAULT_PARALLELISM = 4;
    public static final int DEFAULT_SYNC_QUOTA_FLOOR = 10;

    /**
     * One upstream.
     *
     * @param name the registry as references name it ({@code docker.io}, {@code ghcr.io}, {@code 127.0.0.1:5000})
     * @param endpoint the API endpoint, or null for the default ({@code https://NAME}; Docker Hub's API host)
     * @param insecure whether plain HTTP is allowed (like Docker's {@code insecure-registries})
     * @param prefix the first path component that selects it on {@code /v2/<prefix>/<repo>}
     * @param username credentials, or null
     * @param password the password or token, or null (never printed)
     * @param authHosts extra hosts its token realm may live on
     * @param prefetch what a pull through the cache fetches of a multi-platform index (null: the default)
     */
    public record UpstreamConfig(String name, URI endpoint, boolean insecure, String prefix, String username,
                                 String password, Set<String> authHosts, Prefetch prefetch) {
        public UpstreamConfig {
            authHosts = authHosts == null ? Set.of() : Set.copyOf(authHosts);
            if (prefix == null || prefix.isBlank()) {
                prefix = name;
            }
            prefetch = prefetch == null ? Prefetch.DEFAULT : prefetch;
        }

        /** An upstream with the default prefetch. */
        public UpstreamConfig(String name, URI endpoint, boolean insecure, String prefix, String username,
                              String password, Set<String> authHosts) {
            this(name, endpoint, insecure, prefix, username, password, authHosts, null);
        }

        @Override
        public String toString() {
            return "UpstreamConfig[name=" + name + ", endpoint=" + endpoint + ", insecure=" + insecure + ", prefix="
                    + prefix + ", username=" + username + ", password=" + (password == null ? "none" : "***")
                    + ", authHosts=" + authHosts + ", prefetch=" + prefetch + "]";
        }
    }

    public MirrorConfig {
        upstreams = Map.copyOf(upstreams);
        if (defaultUpstream == null || defaultUpstream.isBlank()) {
            defaultUpstream = DOCKER_HUB;
        }
        tagTtl = tagTtl == null ? DEFAULT_TAG_TTL : tagTtl;
        if (tagTtl.isNegative()) {
            throw new ConfigException("tagTtl must not be negative");
        }
        if (parallelism < 1 || parallelism > 64) {
            throw new ConfigException("parallelism must be between 1 and 64, got " + parallelism);
        }
        rules = rules == null ? List.of() : List.copyOf(rules);
        sweep = sweep == null ? io.imagemirror.sweep.SweepConfig.DEFAULTS : sweep;
        largeBlobs = largeBlobs == null ? io.imagemirror.upstream.RangedFetch.DEFAULTS : largeBlobs;
        fills = fills == null ? io.imagemirror.mirror.FillLeases.Config.DEFAULTS : fills;
        if (syncQuotaFloor < 0) {
            throw new ConfigException("syncQuotaFloor must not be negative, got " + syncQuotaFloor);
        }
    }

    /** A configuration with the default {@code largeBlobs:} and {@code fills:} sections. */
    public MirrorConfig(Map<String, UpstreamConfig> upstreams, String defaultUpstream, Duration tagTtl,
                        int parallelism, String serveToken, boolean dockerConfig, List<Rule> rules,
                        int syncQuotaFloor, io.imagemirror.sweep.SweepConfig sweep) {
        this(upstreams, defaultUpstream, tagTtl, parallelism, serveToken, dockerConfig, rules, syncQuotaFloor, sweep,
                io.imagemirror.upstream.RangedFetch.DEFAULTS,
                null);
    }

    /** A copy with this {@code largeBlobs:} section. */
    public MirrorConfig withLargeBlobs(io.imagemirror.upstream.RangedFetch r) {
        return new MirrorConfig(upstreams, defaultUpstream, tagTtl, parallelism, serveToken, dockerConfig, rules,
                syncQuotaFloor, sweep, r, fills);
    }

    /** A copy with this {@code fills:} section. */
    public MirrorConfig withFills(io.imagemirror.mirror.FillLeases.Config f) {
        return new MirrorConfig(upstreams, defaultUpstream, tagTtl, parallelism, serveToken, dockerConfig, rules,
                syncQuotaFloor, sweep, largeBlobs, f);
    }

    /** A configuration with the default {@code sweep:} section. */
    public MirrorConfig(Map<String, UpstreamConfig> upstreams, String defaultUpstream, Duration tagTtl,
                        int parallelism, String serveToken, boolean dockerConfig, List<Rule> rules,
                        int syncQuotaFloor) {
        this(upstreams, defaultUpstream, tagTtl, parallelism, serveToken, dockerConfig, rules, syncQuotaFloor,
                io.imagemirror.sweep.SweepConfig.DEFAULTS);
    }

    public MirrorConfig(Map<String, UpstreamConfig> upstreams, String defaultUpstream, Duration tagTtl,
                        int parallelism, String serveToken, boolean dockerConfig) {
        this(upstreams, defaultUpstream, tagTtl, parallelism, serveToken, dockerConfig, List.of(),
                DEFAULT_SYNC_QUOTA_FLOOR);
    }

    /** A copy with these sync rules. */
    public MirrorConfig withRules(List<Rule> r) {
        return new MirrorConfig(upstreams, defaultUpstream, tagTtl, parallelism, serveToken, dockerConfig, r,
                syncQuotaFloor, sweep, largeBlobs, fills);
    }

    /** Docker Hub only, anonymous: what image-mirror does with no configuration. */
    public static MirrorConfig defaults() {
        return new MirrorConfig(Map.of(DOCKER_HUB, dockerHub()), DOCKER_HUB, DEFAULT_TAG_TTL, DEFAULT_PARALLELISM,
                null, true);
    }

    private static UpstreamConfig dockerHub() {
        return new UpstreamConfig(DOCKER_HUB, null, false, DOCKER_HUB, null, null, Set.of());
    }

    /** The configured upstream for a registry name, if configured. */
    public Optional<UpstreamConfig> upstream(String registry) {
        return Optional.ofNullable(upstreams.get(Upstream.canonicalName(registry)));
    }

    /** The upstream whose path prefix is {@code prefix}. */
    public Optional<UpstreamConfig> upstreamByPrefix(String prefix) {
        return upstreams.values().stream().filter(u -> u.prefix().equals(prefix)).findFirst();
    }

    /** A copy with an extra upstream (for {@code --insecure-registry} and tests). */
    public MirrorConfig withUpstream(UpstreamConfig u) {
        Map<String, UpstreamConfig> m = new LinkedHashMap<>(upstreams);
        m.put(Upstream.canonicalName(u.name()), u);
        return new MirrorConfig(m, defaultUpstream, tagTtl, parallelism, serveToken, dockerConfig, rules, syncQuotaFloor, sweep, largeBlobs, fills);
    }

    public MirrorConfig withDefaultUpstream(String registry) {
        return new MirrorConfig(upstreams, Upstream.canonicalName(registry), tagTtl, parallelism, serveToken, dockerConfig, rules, syncQuotaFloor, sweep, largeBlobs, fills);
    }

    public MirrorConfig withParallelism(int n) {
        return new MirrorConfig(upstreams, defaultUpstream, tagTtl, n, serveToken, dockerConfig, rules, syncQuotaFloor, sweep, largeBlobs, fills);
    }

    /** The configured upstreams as the upstream client takes them (credentials included). */
    public List<Upstream> toUpstreamList() {
        List<Upstream> out = new ArrayList<>();
        for (UpstreamConfig c : upstreams.values()) {
            Upstream.Builder b = Upstream.builder(c.name()).insecure(c.insecure()).prefetch(c.prefetch());
            if (c.endpoint() != null) {
                b.endpoint(c.endpoint());
            }
            c.authHosts().forEach(b::allowAuthHost);
            if (c.username() != null) {
                b.credentials(Credentials.of(c.username(), c.password()));
            }
            try {
                out.add(b.build());
            } catch (IllegalArgumentException e) {
                throw new ConfigException("upstream " + c.name() + ": " + e.getMessage(), e);
            }
        }
        return out;
    }

    /**
     * Builds a configuration from a parsed YAML/JSON tree:
     * <pre>
     * defaultUpstream: docker.io
     * tagTtl: 5m            # or PT5M, 300s
     * parallelism: 4
     * serveToken: ${IMAGE_MIRROR_TOKEN}
     * dockerConfig: true    # read ~/.docker/config.json for credentials
     * sweep: {grace: 24h, schedule: rate(1 day)}   # retention: see RetentionPolicy
     * largeBlobs: {threshold: 64MiB, partSize: 8MiB, parallelism: 4}   # ranged GETs; parallelism 1: off
     * fills: {leaseTtl: 30s, leaseWait: 20s}   # cold fills shared by instances (aws store)
     * upstreams:
     *   - name: docker.io
     *     username: me
     *     password: ${DOCKERHUB_TOKEN}
     *   - name: 127.0.0.1:5000
     *     insecure: true
     *     prefix: local
     *     prefetch: all     # pull-through fetches every platform of an index (default: pulled)
     * </pre>
     * {@code ${VAR}} in a string is replaced from {@code env}; an unset variable is an error.
     * Unknown keys are errors, so a typo never passes silently.
     */
    public static MirrorConfig fromTree(JsonNode root, Function<String, String> env) {
        if (root == null || root.isNull() || root.isMissingNode()) {
            return defaults();
        }
        if (!root.isObject()) {
            throw new ConfigException("configuration must be a mapping");
        }
        checkKeys(root, "", Set.of("defaultUpstream", "tagTtl", "parallelism", "serveToken", "dockerConfig",
                "upstreams", "rules", "syncQuotaFloor", "sweep", "largeBlobs", "fills"));
        Map<String, UpstreamConfig> ups = new LinkedHashMap<>();
        JsonNode list = root.get("upstreams");
        if (list != null && !list.isNull()) {
            if (!list.isArray()) {
                throw new ConfigException("upstreams must be a list");
            }
            int i = 0;
            for (JsonNode u : list) {
                String where = "upstreams[" + i++ + "]";
                if (!u.isObject()) {
                    throw new ConfigException(where + " must be a mapping");
                }
                checkKeys(u, where + ".", Set.of("name", "endpoint", "insecure", "prefix", "username", "password",
                        "authHosts", "prefetch"));
                String name = string(u, "name", env, where);
                if (name == null || name.isBlank()) {
                    throw new ConfigException(where + ".name is required");
                }
                name = Upstream.canonicalName(name);
                if (!ReferenceGrammar.isRegistry(name)) {
                    throw new ConfigException(where + ".name " + name
                            + " is not a registry: expected host[:port] with a '.' or ':' in it, or localhost");
                }
                String endpoint = string(u, "endpoint", env, where);
                URI uri = null;
                if (endpoint != null) {
                    try {
                        uri = URI.create(endpoint);
                    } catch (IllegalArgumentException e) {
                        throw new ConfigException(where + ".endpoint is not a URL: " + endpoint, e);
                    }
                    if (uri.getScheme() == null || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))
                            || uri.getHost() == null) {
                        throw new ConfigException(where + ".endpoint must be an http(s) URL with a host: " + endpoint);
                    }
                }
                boolean insecure = bool(u, "insecure", false, where);
                if (uri != null && uri.getScheme().equals("http") && !insecure) {
                    throw new ConfigException(where + ".endpoint is plain HTTP; set insecure: true to allow it");
                }
                List<String> authHosts = new ArrayList<>();
                JsonNode ah = u.get("authHosts");
                if (ah != null && ah.isArray()) {
                    ah.forEach(h -> authHosts.add(h.asText()));
                }
                String username = string(u, "username", env, where);
                String password = string(u, "password", env, where);
                if ((username == null) != (password == null)) {
                    throw new ConfigException(where + ": username and password go together");
                }
                if (ups.containsKey(name)) {
                    throw new ConfigException(where + ": upstream " + name + " is configured twice");
                }
                String prefetch = string(u, "prefetch", env, where);
                Prefetch fetch;
                try {
                    fetch = prefetch == null ? Prefetch.DEFAULT : Prefetch.parse(prefetch);
                } catch (IllegalArgumentException e) {
                    throw new ConfigException(where + ".prefetch " + e.getMessage(), e);
                }
                ups.put(name, new UpstreamConfig(name, uri, insecure, string(u, "prefix", env, where), username,
                        password, Set.copyOf(authHosts), fetch));
            }
        }
        if (ups.isEmpty()) {
            // No upstreams listed: Docker Hub, anonymously (or with credentials from config.json).
            ups.put(DOCKER_HUB, dockerHub());
        }
        // Without an explicit default: Docker Hub if it is configured, else the first upstream listed.
        String named = string(root, "defaultUpstream", env, "");
        String dflt = named != null ? Upstream.canonicalName(named)
                : ups.containsKey(DOCKER_HUB) ? DOCKER_HUB : ups.keySet().iterator().next();
        if (!ups.containsKey(dflt)) {
            throw new ConfigException("defaultUpstream " + dflt + " is not one of the configured upstreams " + ups.keySet());
        }
        Map<String, String> prefixes = new LinkedHashMap<>();
        for (UpstreamConfig u : ups.values()) {
            String other = prefixes.put(u.prefix(), u.name());
            if (other != null) {
                throw new ConfigException("prefix " + u.prefix() + " is used by both " + other + " and " + u.name());
            }
            // A prefix that is another upstream's name would route that upstream's own names away from it.
            String prefixAsRegistry = Upstream.canonicalName(u.prefix());
            if (!prefixAsRegistry.equals(u.name()) && ups.containsKey(prefixAsRegistry)) {
                throw new ConfigException("prefix " + u.prefix() + " of " + u.name() + " is the name of upstream "
                        + prefixAsRegistry);
            }
        }
        JsonNode par = root.get("parallelism");
        int parallelism = par == null || par.isNull() ? DEFAULT_PARALLELISM : par.asInt(-1);
        String ttl = string(root, "tagTtl", env, "");
        JsonNode floor = root.get("syncQuotaFloor");
        int quotaFloor = floor == null || floor.isNull() ? DEFAULT_SYNC_QUOTA_FLOOR : floor.asInt(-1);
        MirrorConfig config = new MirrorConfig(ups, dflt, ttl == null ? DEFAULT_TAG_TTL : parseDuration(ttl, "tagTtl"),
                parallelism, string(root, "serveToken", env, ""), bool(root, "dockerConfig", true, ""), List.of(),
                quotaFloor, sweepSection(root, env), largeBlobsSection(root), fillsSection(root, env));
        return config.withRules(rules(root.get("rules"), config));
    }

    /**
     * The {@code rules:} list, each rule read as {@code /v1/rules} reads it, its sources resolved
     * against this configuration's upstreams.
     *
     * @throws InvalidRuleException naming the rule's place and field, e.g. {@code rules[2].tags.semver}
     */
    public static List<Rule> rules(JsonNode list, MirrorConfig config) {
        if (list == null || list.isNull()) {
            return List.of();
        }
        if (!list.isArray()) {
            throw new InvalidRuleException("rules", "must be a list");
        }
        NameRouter names = new NameRouter(config);
        List<Rule> out = new ArrayList<>();
        Set<String> seen = new java.util.HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            Rule r;
            try {
                r = Rule.fromTree(list.get(i), names);
            } catch (InvalidRuleException e) {
                throw e.under("rules[" + i + "]");
            }
            if (!seen.add(r.name())) {
                throw new InvalidRuleException("rules[" + i + "].name", "rule " + r.name() + " is defined twice");
            }
            out.add(r);
        }
        return out;
    }

    /**
     * The {@code largeBlobs:} section: {@code threshold} and {@code partSize} as bytes or with a
     * unit ({@code 64MiB}, {@code 512KiB}, {@code 1GiB}), {@code parallelism} a number,
     * {@code fastStream} a rate ({@code 100MiB/s}, or {@code 0}).
     */
    private static io.imagemirror.upstream.RangedFetch largeBlobsSection(JsonNode root) {
        JsonNode lb = root.get("largeBlobs");
        io.imagemirror.upstream.RangedFetch d = io.imagemirror.upstream.RangedFetch.DEFAULTS;
        if (lb == null || lb.isNull()) {
            return d;
        }
        if (!lb.isObject()) {
            throw new ConfigException("largeBlobs must be a mapping");
        }
        checkKeys(lb, "largeBlobs.", Set.of("threshold", "partSize", "parallelism", "fastStream"));
        long threshold = lb.has("threshold") ? bytes(lb.get("threshold"), "largeBlobs.threshold") : d.threshold();
        long part = lb.has("partSize") ? bytes(lb.get("partSize"), "largeBlobs.partSize") : d.partSize();
        int par = lb.has("parallelism") ? lb.get("parallelism").asInt(-1) : d.parallelism();
        long fast = lb.has("fastStream") ? rate(lb.get("fastStream"), "largeBlobs.fastStream") : d.fastStream();
        if (part > Integer.MAX_VALUE) {
            throw new ConfigException("largeBlobs.partSize is too large: " + part);
        }
        try {
            return new io.imagemirror.upstream.RangedFetch(threshold, (int) part, par, fast);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(e.getMessage());
        }
    }

    /** A size: a number of bytes, or a number with B, KiB, MiB or GiB (KB, MB, GB are read the same). */
    static long bytes(JsonNode n, String field) {
        if (n.isIntegralNumber()) {
            return n.asLong();
        }
        return bytes(n.asText(""), field, "a size such as 64MiB");
    }

    /** A rate in bytes per second: a number, or a size with an optional {@code /s} ({@code 100MiB/s}). */
    static long rate(JsonNode n, String field) {
        if (n.isIntegralNumber()) {
            return n.asLong();
        }
        String text = n.asText("").trim();
        if (text.toLowerCase(Locale.ROOT).endsWith("/s")) {
            text = text.substring(0, text.length() - 2);
        }
        return bytes(text, field, "a rate such as 100MiB/s");
    }

    private static long bytes(String text, String field, String expected) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\s*(\\d+)\\s*([kmg]i?b?|b)?\\s*")
                .matcher(text.toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new ConfigException(field + " must be " + expected + ", got \"" + text + "\"");
        }
        long v = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "b" : m.group(2);
        int shift = switch (unit.charAt(0)) {
            case 'k' -> 10;
            case 'm' -> 20;
            case 'g' -> 30;
            default -> 0;
        };
        if (v > (Long.MAX_VALUE >> shift)) {
            throw new ConfigException(field + " is too large: " + text);
        }
        return v << shift;
    }

    /** The {@code fills:} section: {@code leaseTtl} and {@code leaseWait} (durations). */
    private static io.imagemirror.mirror.FillLeases.Config fillsSection(JsonNode root, Function<String, String> env) {
        JsonNode f = root.get("fills");
        if (f == null || f.isNull()) {
            return io.imagemirror.mirror.FillLeases.Config.DEFAULTS;
        }
        if (!f.isObject()) {
            throw new ConfigException("fills must be a mapping");
        }
        checkKeys(f, "fills.", Set.of("leaseTtl", "leaseWait"));
        io.imagemirror.mirror.FillLeases.Config d = io.imagemirror.mirror.FillLeases.Config.DEFAULTS;
        String ttl = string(f, "leaseTtl", env, "fills");
        String wait = string(f, "leaseWait", env, "fills");
        return new io.imagemirror.mirror.FillLeases.Config(
                ttl == null ? d.ttl() : parseDuration(ttl, "fills.leaseTtl"),
                wait == null ? d.maxWait() : parseDuration(wait, "fills.leaseWait"));
    }

    /** The {@code sweep:} section: {@code grace} (a duration) and {@code schedule} (rate()/cron()). */
    private static io.imagemirror.sweep.SweepConfig sweepSection(JsonNode root, Function<String, String> env) {
        JsonNode sw = root.get("sweep");
        if (sw == null || sw.isNull()) {
            return io.imagemirror.sweep.SweepConfig.DEFAULTS;
        }
        if (!sw.isObject()) {
            throw new ConfigException("sweep must be a mapping");
        }
        checkKeys(sw, "sweep.", Set.of("grace", "schedule", "retention"));
        String grace = string(sw, "grace", env, "sweep.");
        return io.imagemirror.sweep.SweepConfig.of(grace == null ? null : parseDuration(grace, "sweep.grace"),
                string(sw, "schedule", env, "sweep."),
                io.imagemirror.sweep.RetentionPolicy.listFromTree(sw.get("retention")));
    }

    /** Parses {@code 300s}, {@code 5m}, {@code 2h}, {@code 1d}, a plain number of seconds, or ISO-8601 {@code PT5M}. */
    public static Duration parseDuration(String s, String field) {
        String v = s.trim().toLowerCase(Locale.ROOT);
        try {
            if (v.startsWith("p")) {
                return Duration.parse(v.toUpperCase(Locale.ROOT));
            }
            if (v.matches("\\d+")) {
                return Duration.ofSeconds(Long.parseLong(v));
            }
            if (v.matches("\\d+(ms|s|m|h|d)")) {
                long n = Long.parseLong(v.replaceAll("[a-z]+$", ""));
                return switch (v.replaceAll("^\\d+", "")) {
                    case "ms" -> Duration.ofMillis(n);
                    case "s" -> Duration.ofSeconds(n);
                    case "m" -> Duration.ofMinutes(n);
                    case "h" -> Duration.ofHours(n);
                    default -> Duration.ofDays(n);
                };
            }
        } catch (DateTimeParseException | NumberFormatException e) {
            throw new ConfigException(field + ": invalid duration \"" + s + "\"", e);
        }
        throw new ConfigException(field + ": invalid duration \"" + s + "\" (use e.g. 300s, 5m, 2h, PT5M)");
    }

    private static void checkKeys(JsonNode node, String where, Set<String> allowed) {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!allowed.contains(k)) {
                throw new ConfigException("unknown configuration key " + where + k + " (known: " + allowed + ")");
            }
        }
    }

    private static String string(JsonNode n, String field, Function<String, String> env, String where) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isValueNode()) {
            throw new ConfigException((where.isEmpty() ? "" : where + ".") + field + " must be a single value");
        }
        return expand(v.asText(), env, (where.isEmpty() ? "" : where + ".") + field);
    }

    private static boolean bool(JsonNode n, String field, boolean dflt, String where) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isBoolean()) {
            throw new ConfigException((where.isEmpty() ? "" : where + ".") + field + " must be true or false");
        }
        return v.asBoolean();
    }

    static String expand(String s, Function<String, String> env, String field) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < s.length()) {
            int start = s.indexOf("${", i);
            if (start < 0) {
                out.append(s, i, s.length());
                break;
            }
            int end = s.indexOf('}', start);
            if (end < 0) {
                throw new ConfigException(field + ": unterminated ${ in value");
            }
            out.append(s, i, start);
            String name = s.substring(start + 2, end);
            String value = env.apply(name);
            if (value == null) {
                throw new ConfigException(field + ": environment variable " + name + " is not set");
            }
            out.append(value);
            i = end + 1;
        }
        return out.toString();
    }

    @Override
    public String toString() {
        return "MirrorConfig[upstreams=" + upstreams.values() + ", defaultUpstream=" + defaultUpstream + ", tagTtl="
                + tagTtl + ", parallelism=" + parallelism + ", serveToken=" + (serveToken == null ? "none" : "***")
                + ", dockerConfig=" + dockerConfig + ", rules=" + rules.stream().map(Rule::name).toList()
                + ", syncQuotaFloor=" + syncQuotaFloor + "]";
    }
}
