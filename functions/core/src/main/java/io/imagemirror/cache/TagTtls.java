package io.imagemirror.cache;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.imagemirror.config.MirrorConfig;
import io.imagemirror.store.Page;
import io.imagemirror.store.RuleStore;
import io.imagemirror.store.StoreException;
import io.imagemirror.store.SyncRule;
import io.imagemirror.upstream.Prefetch;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * How long a tag of each repository is served before it is re-validated: the global
 * {@code tagTtl}, unless a sync rule for that repository sets its own ({@code tagTtl:} in the rule;
 * the shortest wins when several rules name one repository). Likewise what a pull of an index of the
 * repository prefetches ({@code prefetch:} in a rule; {@code all} wins when rules disagree), else
 * the upstream's setting. The rules are read from the store at
 * most every {@link #REFRESH}, so a rule put over {@code /v1/rules} or by another instance takes
 * effect within that time; a store that cannot be read keeps the last answer. Thread-safe.
 */
final class TagTtls {
    static final Duration REFRESH = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();

    private record Snapshot(Map<String, Duration> byRepository, Map<String, Prefetch> prefetch, Instant readAt) {
    }

    private final RuleStore rules;
    private final Duration global;
    private final Clock clock;
    private final Consumer<String> log;
    private volatile Snapshot snapshot;

    TagTtls(RuleStore rules, Duration global, Clock clock, Consumer<String> log) {
        this.rules = rules;
        this.global = global;
        this.clock = clock;
        this.log = log;
    }

    /** The TTL of the tags of {@code repositoryKey}. */
    Duration of(String repositoryKey) {
        return current().byRepository().getOrDefault(repositoryKey, global);
    }

    /** What a sync rule for {@code repositoryKey} says a pull of an index prefetches, if one says. */
    Optional<Prefetch> prefetch(String repositoryKey) {
        return Optional.ofNullable(current().prefetch().get(repositoryKey));
    }

    private Snapshot current() {
        Snapshot s = snapshot;
        Instant now = clock.instant();
        if (s == null || !now.isBefore(s.readAt().plus(REFRESH))) {
            s = read(now, s);
        }
        return s;
    }

    private synchronized Snapshot read(Instant now, Snapshot seen) {
        if (snapshot != seen) {
            return snapshot; // another request read them meanwhile
        }
        Map<String, Duration> out = new HashMap<>();
        Map<String, Prefetch> prefetch = new HashMap<>();
        try {
            String token = null;
            do {
                Page<SyncRule> page = rules.listSyncRules(Page.MAX_LIMIT, token);
                for (SyncRule r : page.items()) {
                    note(r, out, prefetch);
                }
                token = page.nextToken();
            } while (token != null);
        } catch (StoreException e) {
            // Serving must not fail because the rules cannot be read: keep what was known.
            log.accept("reading sync rules for tag TTLs failed, keeping the last ones: " + e.getMessage());
            if (seen != null) {
                out = seen.byRepository();
                prefetch = seen.prefetch();
            }
        }
        snapshot = new Snapshot(Map.copyOf(out), Map.copyOf(prefetch), now);
        return snapshot;
    }

    /**
     * A stored rule's source, tagTtl and prefetch (validated when it was stored); a rule without them
     * changes nothing.
     */
    private void note(SyncRule r, Map<String, Duration> out, Map<String, Prefetch> prefetch) {
        try {
            JsonNode tree = JSON.readTree(r.config());
            JsonNode source = tree.get("source");
            if (source == null || !source.isTextual()) {
                return;
            }
            JsonNode fetch = tree.get("prefetch");
            if (fetch != null && fetch.isTextual()) {
                prefetch.merge(source.asText(), Prefetch.parse(fetch.asText()),
                        (a, b) -> a == Prefetch.ALL ? a : b);
            }
            JsonNode ttl = tree.get("tagTtl");
            if (ttl == null || !ttl.isTextual()) {
                return;
            }
            Duration d = MirrorConfig.parseDuration(ttl.asText(), "tagTtl");
            out.merge(source.asText(), d, (a, b) -> a.compareTo(b) <= 0 ? a : b);
        } catch (IOException | IllegalArgumentException e) { // a ConfigException too
            log.accept("sync rule " + r.name() + " has an unreadable tagTtl or prefetch, ignored: " + e.getMessage());
        }
    }
}
