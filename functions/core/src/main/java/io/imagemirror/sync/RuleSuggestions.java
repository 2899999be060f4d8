package io.imagemirror.sync;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.imagemirror.cache.NameRouter;
import io.imagemirror.store.ManifestIndex;
import io.imagemirror.store.ManifestRecord;
import io.imagemirror.store.Page;
import io.imagemirror.store.TagIndex;
import io.imagemirror.store.TagRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * {@code rules suggest}: the repositories pulled through the cache often enough, lately enough,
 * that no rule covers yet, each as a ready rule. The index keeps a pull count and the last pull
 * per manifest, not a count per day, so "pulled at least N times in D days" is read as: the
 * repository's manifests that were pulled within the last D days were pulled at least N times in all.
 * A suggested rule keeps the tags the repository has now (an anchored list), hourly.
 */
public final class RuleSuggestions {

    private static final int PAGE = 100;

    /** One suggestion: the repository, its pulls, and the rule to apply. */
    public record Suggestion(String repository, long pulls, Instant lastPulled, Rule rule) {
    }

    private final ManifestIndex manifests;
    private final TagIndex tags;
    private final SyncRules rules;
    private final NameRouter names;

    public RuleSuggestions(ManifestIndex manifests, TagIndex tags, SyncRules rules, NameRouter names) {
        this.manifests = manifests;
        this.tags = tags;
        this.rules = rules;
        this.names = names;
    }

    /** Suggestions in descending pulls, for repositories of configured upstreams only. */
    public List<Suggestion> suggest(int minPulls, Duration window, Instant now) {
        Instant since = now.minus(window);
        Set<String> covered = rules.list().stream().flatMap(s -> s.rule().stream()).map(Rule::source)
                .collect(Collectors.toSet());
        Set<String> taken = rules.list().stream().map(SyncRules.Stored::name).collect(Collectors.toCollection(HashSet::new));
        List<Suggestion> out = new ArrayList<>();
        for (String repo : all((n, t) -> manifests.listRepositories(n, t))) {
            if (covered.contains(repo)) {
                continue;
            }
            long pulls = 0;
            Instant last = null;
            for (ManifestRecord m : all((n, t) -> manifests.listManifests(repo, n, t))) {
                if (m.lastPulled() != null && !m.lastPulled().isBefore(since)) {
                    pulls += m.pullCount();
                    last = last == null || m.lastPulled().isAfter(last) ? m.lastPulled() : last;
                }
            }
            if (pulls < minPulls || pulls == 0) {
                continue;
            }
            List<String> tagNames = all((n, t) -> tags.listTags(repo, n, t)).stream().map(TagRecord::tag).toList();
            ObjectNode tree = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
            tree.put("name", name(repo, taken));
            tree.put("source", repo);
            if (!tagNames.isEmpty()) {
                tree.putObject("tags").putArray("include").add("^(" + tagNames.stream()
                        .map(t -> t.replace(".", "\\.")).collect(Collectors.joining("|")) + ")$");
            }
            tree.put("schedule", "rate(1 hour)");
            Rule rule;
            try {
                rule = Rule.fromTree(tree, names);
            } catch (InvalidRuleException e) {
                continue; // e.g. its upstream left the configuration: nothing to suggest for it
            }
            taken.add(rule.name());
            out.add(new Suggestion(repo, pulls, last, rule));
        }
        out.sort((a, b) -> Long.compare(b.pulls(), a.pulls()));
        return out;
    }

    /** A rule name from the repository's last path component, unique among {@code taken}. */
    private static String name(String repo, Set<String> taken) {
        String last = repo.substring(repo.lastIndexOf('/') + 1).toLowerCase(Locale.ROOT)
                .replaceAll("[^a-z0-9-]+", "-").replaceAll("^-+|-+$", "");
        String base = last.isEmpty() ? "repo" : last.substring(0, Math.min(last.length(), 56));
        String name = base;
        for (int i = 2; taken.contains(name); i++) {
            name = base + "-" + i;
        }
        return name;
    }

    private interface Lister<T> {
        Page<T> page(int limit, String token);
    }

    private static <T> List<T> all(Lister<T> lister) {
        List<T> out = new ArrayList<>();
        String token = null;
        do {
            Page<T> p = lister.page(PAGE, token);
            out.addAll(p.items());
            token = p.nextToken();
        } while (token != null);
        return out;
    }
}
