package io.imagemirror.sweep;

import io.imagemirror.oci.Digest;
import io.imagemirror.store.ManifestIndex;
import io.imagemirror.store.ManifestRecord;
import io.imagemirror.store.ManifestReferences;
import io.imagemirror.store.Page;
import io.imagemirror.store.TagIndex;
import io.imagemirror.store.TagRecord;
import io.imagemirror.sync.Rule;
import io.imagemirror.sync.SyncRules;
import io.imagemirror.sync.TagSelector;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.semver4j.Semver;

/**
 * What makes a tag go (the first phase of a sweep): the configured {@link RetentionPolicy retention
 * policies}, and for {@code prune --all} also the tags its filters select ({@link #alsoUntagging}).
 * A tag a {@code keep} pattern names, whose manifest is pinned, or that a sync rule of its repository
 * selects is never untagged. Untagging keeps the history (cause {@code retention}); the manifest then
 * dangles and is swept after the grace period, or at once by {@code prune --all} ({@link #immediate()}).
 * Immutable and thread-safe.
 */
public final class Retention {

    /** No policy, no filter: the retention phase is skipped and costs nothing. */
    public static final Retention NONE = new Retention(List.of(), List::of, null, false);

    /** Tags {@code prune --all}'s filters select, with their manifest. */
    public interface TagFilter {
        boolean selects(TagRecord tag, ManifestRecord manifest);
    }

    private final List<RetentionPolicy> policies;
    private final Supplier<List<Rule>> rules;
    private final TagFilter filter;
    private final boolean immediate;

    private Retention(List<RetentionPolicy> policies, Supplier<List<Rule>> rules, TagFilter filter,
                      boolean immediate) {
        this.policies = List.copyOf(policies);
        this.rules = Objects.requireNonNull(rules, "rules");
        this.filter = filter;
        this.immediate = immediate;
    }

    /**
     * The policies of a configuration, protecting what {@code rules} select (read once per page of
     * repositories, so rule changes apply to the next page).
     */
    public static Retention of(List<RetentionPolicy> policies, Supplier<List<Rule>> rules) {
        return new Retention(policies, rules, null, false);
    }

    /**
     * The sync rules a retention pass protects: those stored ({@code /v1/rules}, applied config) and
     * those of the configuration file that may not be applied yet.
     */
    public static Supplier<List<Rule>> rules(SyncRules stored, List<Rule> configured) {
        return () -> {
            Map<String, Rule> all = new LinkedHashMap<>();
            configured.forEach(r -> all.put(r.name(), r));
            stored.list().forEach(s -> s.rule().ifPresent(r -> all.putIfAbsent(r.name(), r)));
            return List.copyOf(all.values());
        };
    }

    /**
     * {@code prune --all}: also untags the tags {@code filter} selects (null: only the policies'), and
     * deletes what the untagging left dangling in the same sweep rather than after the grace period.
     */
    public Retention alsoUntagging(TagFilter filter) {
        return new Retention(policies, rules, filter, true);
    }

    /** Whether a sweep runs a retention phase at all. */
    public boolean active() {
        return !policies.isEmpty() || filter != null;
    }

    /** Whether manifests left dangling by an untag are deleted at once ({@code prune --all}). */
    public boolean immediate() {
        return immediate;
    }

    public List<RetentionPolicy> policies() {
        return policies;
    }

    /**
     * The tags of {@code repository} to untag now, by tag name; reads nothing when no policy covers
     * the repository and there is no filter.
     *
     * @param rulesNow the sync rules, as {@link #currentRules()} read them for this page
     */
    List<TagRecord> select(String repository, TagIndex tags, ManifestIndex manifests, List<Rule> rulesNow,
                           Instant now) {
        RetentionPolicy policy = policies.stream().filter(p -> p.covers(repository)).findFirst().orElse(null);
        if (policy == null && filter == null) {
            return List.of();
        }
        List<TagRecord> all = new ArrayList<>();
        String token = null;
        do {
            Page<TagRecord> p = tags.listTags(repository, Page.MAX_LIMIT, token);
            all.addAll(p.items());
            token = p.nextToken();
        } while (token != null);
        if (all.isEmpty()) {
            return List.of();
        }
        List<String> names = all.stream().map(TagRecord::tag).toList();
        Set<String> ruleSelected = new HashSet<>();
        for (Rule r : rulesNow) {
            if (r.source().equals(repository)) {
                ruleSelected.addAll(r.tags().select(names));
            }
        }
        List<TagRecord> open = all.stream()
                .filter(t -> !ruleSelected.contains(t.tag()) && (policy == null || !policy.keeps(t.tag()))).toList();
        Set<String> chosen = new HashSet<>();
        if (policy != null) {
            if (policy.unpulledFor() != null) {
                Instant usedSince = now.minus(policy.unpulledFor());
                open.stream().filter(t -> t.lastUsed().isBefore(usedSince)).forEach(t -> chosen.add(t.tag()));
            }
            if (policy.keepLatest() != null) {
                List<TagRecord> ranked = ranked(open, policy.order());
                ranked.subList(Math.min(policy.keepLatest(), ranked.size()), ranked.size())
                        .forEach(t -> chosen.add(t.tag()));
            }
        }
        Map<Digest, Optional<ManifestRecord>> records = new HashMap<>();
        if (filter != null) {
            for (TagRecord t : open) {
                ManifestRecord m = records.computeIfAbsent(t.digest(), d -> manifests.getManifest(repository, d))
                        .orElse(null);
                if (m != null && filter.selects(t, m)) {
                    chosen.add(t.tag());
                }
            }
        }
        Map<Digest, Boolean> pinned = new HashMap<>();
        List<TagRecord> out = new ArrayList<>();
        for (TagRecord t : open) {
            if (chosen.contains(t.tag()) && !pinned.computeIfAbsent(t.digest(), d -> manifests.referenceCounts(
                    repository, d).map(ManifestReferences.Counts::pins).orElse(0L) > 0)) {
                out.add(t);
            }
        }
        return out;
    }

    /** The rules to protect, read now. */
    List<Rule> currentRules() {
        return active() ? rules.get() : List.of();
    }

    /** Newest first: by when set, or by version (tags that are no version are not ranked). */
    private static List<TagRecord> ranked(List<TagRecord> tags, RetentionPolicy.Order order) {
        if (order == RetentionPolicy.Order.MIRRORED) {
            return tags.stream().sorted(Comparator.comparing(TagRecord::updatedAt).reversed()
                    .thenComparing(TagRecord::tag)).toList();
        }
        Map<String, Semver> versions = new HashMap<>();
        tags.forEach(t -> {
            Semver v = TagSelector.version(t.tag());
            if (v != null) {
                versions.put(t.tag(), v);
            }
        });
        return tags.stream().filter(t -> versions.containsKey(t.tag()))
                .sorted(Comparator.comparing((TagRecord t) -> versions.get(t.tag())).reversed()
                        .thenComparing(TagRecord::tag)).toList();
    }
}
