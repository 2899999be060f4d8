package io.imagemirror.sync;

import io.imagemirror.metrics.Meter;
import io.imagemirror.metrics.Metrics;
import io.imagemirror.jobs.MirrorJobs;
import io.imagemirror.jobs.SyncCopy;
import io.imagemirror.oci.Digest;
import io.imagemirror.reference.ImageReference;
import io.imagemirror.reference.RepositoryName;
import io.imagemirror.store.Job;
import io.imagemirror.store.Page;
import io.imagemirror.store.RuleState;
import io.imagemirror.store.RuleStore;
import io.imagemirror.store.TagIndex;
import io.imagemirror.store.TagRecord;
import io.imagemirror.store.TagUpdate;
import io.imagemirror.upstream.ManifestDescriptor;
import io.imagemirror.upstream.RateLimit;
import io.imagemirror.upstream.RegistryClient;
import io.imagemirror.upstream.Upstreams;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Keeps the tags sync rules select mirrored. One {@link #runDue pass} takes every stored rule that is
 * due, claims it by a compare-and-set on its {@link RuleState} (so two planners, in two processes or
 * two Lambda invocations, never run one rule twice), and runs it: list the source's tags (every
 * page), select, {@code HEAD} each selected tag (eight at a time), and queue one copy job per tag whose upstream digest
 * is not the one mirrored, cause {@code sync rule <name>}. An unchanged tag costs one {@code HEAD},
 * which Docker Hub does not count against the pull quota. Below {@code quotaFloor} of the upstream's
 * {@code ratelimit-remaining}, as the shared {@link io.imagemirror.upstream.QuotaLedger} knows it
 * (until its window resets), no more jobs are queued: the rest of the changed tags are recorded as
 * deferred and, as their digests still differ, the next run picks them up. A mirrored tag the rule
 * selects that the upstream no longer lists is reported, and untagged when the rule says
 * {@code removedUpstream: untag} (its history stays). Every run is recorded ({@link SyncRun}).
 *
 * <p>Thread-safe: passes may run concurrently (the claims serialize each rule).
 */
public final class SyncPlanner {

    /** How long a claim holds: a planner that dies mid-run gives the rule up after this. */
    public static final Duration LEASE = Duration.ofMinutes(15);
    private static final int PAGE = 100;
    /** Tags HEADed at once per rule. */
    static final int HEADS_AT_ONCE = 8;

    private final SyncRules rules;
    private final RuleStore states;
    private final TagIndex tags;
    private final Upstreams upstreams;
    private final MirrorJobs jobs;
    private final int quotaFloor;
    private final Clock clock;
    private final String holder = "planner-" + UUID.randomUUID();
    private final Metrics metrics;

    /**
     * @param quotaFloor no copy job is queued while the upstream says fewer pulls than this remain
     */
    public SyncPlanner(SyncRules rules, RuleStore states, TagIndex tags, Upstreams upstreams, MirrorJobs jobs,
                       int quotaFloor, Clock clock) {
        this(rules, states, tags, upstreams, jobs, quotaFloor, clock, Metrics.NONE);
    }

    /** @param metrics times the runs and counts their tags ({@link Meter#SYNC_RUNS}, {@link Meter#SYNC_TAGS}) */
    public SyncPlanner(SyncRules rules, RuleStore states, TagIndex tags, Upstreams upstreams, MirrorJobs jobs,
                       int quotaFloor, Clock clock, Metrics metrics) {
        this.metrics = metrics;
        this.rules = rules;
        this.states = states;
        this.tags = tags;
        this.upstreams = upstreams;
        this.jobs = jobs;
        this.quotaFloor = quotaFloor;
        this.clock = clock;
    }

    /** Runs every enabled rule that is due now (and that no other planner holds). */
    public List<SyncRun> runDue(SyncListener listener) {
        List<SyncRun> out = new ArrayList<>();
        for (SyncRules.Stored s : rules.list()) {
            if (s.rule().isEmpty()) {
                continue; // unreadable here (e.g. its upstream left the configuration): shown by the API
            }
            Rule rule = s.rule().get();
            if (!rule.enabled()) {
                continue; // paused: kept with its state and runs, not run until enabled again (or named)
            }
            claim(rule, false).ifPresent(claim -> out.add(runClaimed(rule, claim, false, listener)));
        }
        return out;
    }

    /**
     * Runs the named rules now, due or not (unless another planner holds one: that one is skipped).
     *
     * @param dryRun list and {@code HEAD} only: no job, no untag, no state change; recorded as a dry run
     */
    public List<SyncRun> run(List<Rule> named, boolean dryRun, SyncListener listener) {
        List<SyncRun> out = new ArrayList<>();
        for (Rule rule : named) {
            if (dryRun) {
                out.add(execute(rule, true, listener));
                continue;
            }
            claim(rule, true).ifPresent(claim -> out.add(runClaimed(rule, claim, false, listener)));
        }
        return out;
    }

    /** Whether {@code rule} is due at {@code now}: its next run has come and nobody holds it. */
    private Optional<RuleState> claim(Rule rule, boolean evenIfNotDue) {
        Instant now = clock.instant();
        Optional<RuleState> current = states.getRuleState(rule.name());
        RuleState state;
        if (current.isEmpty()) {
            Optional<Instant> first = rule.schedule().firstRun(now);
            if (first.isEmpty() && !evenIfNotDue) {
                return Optional.empty();
            }
            state = new RuleState(rule.name(), first.orElse(now), null, null, 1);
            if (!states.replaceRuleState(state)) {
                return Optional.empty(); // another planner wrote it first: it decides this time
            }
        } else {
            state = current.get();
        }
        boolean held = state.claimedUntil() != null && state.claimedUntil().isAfter(now);
        if (held || (!evenIfNotDue && state.nextRunAt().isAfter(now))) {
            return Optional.empty();
        }
        RuleState claimed = state.next(state.nextRunAt(), now.plus(LEASE), holder);
        return states.replaceRuleState(claimed) ? Optional.of(claimed) : Optional.empty();
    }

    private SyncRun runClaimed(Rule rule, RuleState claim, boolean dryRun, SyncListener listener) {
        SyncRun run;
        try {
            run = execute(rule, dryRun, listener);
        } finally {
            Instant now = clock.instant();
            Instant next = rule.schedule().nextAfter(now).orElse(Instant.MAX.minusSeconds(1));
            // Fails only if our lease ran out and another planner took the rule: it releases it then.
            states.replaceRuleState(claim.next(next.isAfter(claim.nextRunAt()) ? next : claim.nextRunAt(), null, null));
        }
        return run;
    }

    private SyncRun execute(Rule rule, boolean dryRun, SyncListener listener) {
        Instant started = clock.instant();
        String id = String.format("%020d", started.toEpochMilli() * 1000 + started.getNano() / 1000 % 1000)
                + "-" + UUID.randomUUID().toString().substring(0, 8);
        listener.ruleStarted(rule);
        Run r = new Run();
        RepositoryName source = RepositoryName.parse(rule.source());
        String error = null;
        try {
            RegistryClient client = upstreams.client(source.registry());
            List<String> upstreamTags = client.tags(source.path());
            List<String> selected = rule.tags().select(upstreamTags);
            r.listed = upstreamTags.size();
            r.selected = selected.size();
            listener.tagsListed(rule, r.listed, r.selected);
            List<Head> heads = headAll(client, source, selected);
            for (Head h : heads) {
                decide(rule, source, client, h, dryRun, r, listener);
            }
            removed(rule, source, new HashSet<>(upstreamTags), dryRun, r);
        } catch (IOException e) {
            error = "listing tags of " + rule.source() + ": " + e.getMessage();
        }
        SyncRun run = new SyncRun(rule.name(), id, dryRun, started, clock.instant(), error, r.listed, r.selected,
                r.unchanged, r.changed, r.deferred, r.failed, r.removed, r.untagged, r.jobs);
        if (!dryRun) {
            rules.record(run);
            SyncMetrics.record(metrics, run);
        }
        listener.ruleFinished(run);
        return run;
    }

    /** The answer to one tag's HEAD: its descriptor, or why there is none. */
    private record Head(String tag, ManifestDescriptor descriptor, IOException failure) {
    }

    /**
     * HEADs every selected tag, {@value #HEADS_AT_ONCE} at a time (a HEAD is a round trip and costs no
     * Docker Hub quota), in the order given.
     */
    private static List<Head> headAll(RegistryClient client, RepositoryName source, List<String> selected) {
        if (selected.isEmpty()) {
            return List.of();
        }
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(HEADS_AT_ONCE, selected.size()), r -> {
            Thread t = new Thread(r, "sync-head");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<Head>> pending = new ArrayList<>();
            for (String tag : selected) {
                pending.add(pool.submit(() -> {
                    try {
                        return new Head(tag, client.headManifest(source.path(), tag), null);
                    } catch (IOException e) {
                        return new Head(tag, null, e);
                    }
                }));
            }
            List<Head> out = new ArrayList<>();
            for (Future<Head> f : pending) {
                try {
                    out.add(f.get());
                } catch (ExecutionException e) {
                    // not an IOException (those are answers): a bug or a runtime fault, which ends the run
                    throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
                }
            }
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while checking tags", e);
        } finally {
            pool.shutdownNow();
        }
    }

    private void decide(Rule rule, RepositoryName source, RegistryClient client, Head head, boolean dryRun, Run r,
                        SyncListener listener) {
        String tag = head.tag();
        if (head.failure() != null) {
            r.failed.add(new SyncRun.Failure(tag, "HEAD: " + head.failure().getMessage()));
            listener.tagChecked(rule, tag, null, "failed", head.failure().getMessage());
            return;
        }
        ManifestDescriptor upstream = head.descriptor();
        Digest mirrored = tags.getTag(source.toString(), tag).map(TagRecord::digest).orElse(null);
        if (upstream.digest().equals(mirrored)) {
            r.unchanged.add(tag);
            listener.tagChecked(rule, tag, upstream.digest(), "unchanged", null);
            return;
        }
        if (dryRun) {
            r.changed.add(tag);
            listener.tagChecked(rule, tag, upstream.digest(), "changed", "would copy");
            return;
        }
        // The ledger every instance shares, not this client's last answer: pulls through the cache
        // spend the same quota, and take priority over copies.
        Optional<RateLimit> quota = upstreams.quota().quota(client.upstream().name());
        if (quota.isPresent() && quota.get().belowAt(quotaFloor, clock.instant())) {
            r.deferred.add(tag);
            listener.tagChecked(rule, tag, upstream.digest(), "deferred", "pull quota at "
                    + quota.get().remaining() + " (floor " + quotaFloor + ")");
            return;
        }
        try {
            // By tag, not by the digest seen: the job's own HEAD-first copy records where the tag points then.
            ImageReference ref = ImageReference.of(source, tag, null);
            Job job = jobs.submit(new SyncCopy(rule.name(), ref, rule.platforms(), rule.referrers(),
                    upstream.digest()));
            r.changed.add(tag);
            r.jobs.add(job.id());
            listener.tagChecked(rule, tag, upstream.digest(), "changed", "job " + job.id());
        } catch (IOException e) {
            r.failed.add(new SyncRun.Failure(tag, "queueing the copy: " + e.getMessage()));
            listener.tagChecked(rule, tag, upstream.digest(), "failed", e.getMessage());
        }
    }

    /** Mirrored tags the rule selects that the upstream no longer lists: reported, and untagged under {@code untag}. */
    private void removed(Rule rule, RepositoryName source, Set<String> upstreamTags, boolean dryRun, Run r) {
        Map<String, Digest> gone = new HashMap<>();
        String token = null;
        do {
            Page<TagRecord> page = tags.listTags(source.toString(), PAGE, token);
            for (TagRecord t : page.items()) {
                if (!upstreamTags.contains(t.tag()) && !rule.tags().select(List.of(t.tag())).isEmpty()) {
                    gone.put(t.tag(), t.digest());
                }
            }
            token = page.nextToken();
        } while (token != null);
        for (Map.Entry<String, Digest> e : new java.util.TreeMap<>(gone).entrySet()) {
            r.removed.add(e.getKey());
            if (rule.removedUpstream() == Rule.RemovedUpstream.UNTAG && !dryRun) {
                TagUpdate u = tags.deleteTag(source.toString(), e.getKey(), e.getValue(), rule.cause().value());
                if (u == TagUpdate.UPDATED) {
                    r.untagged.add(e.getKey());
                }
            }
        }
    }

    /** The tallies of one run while it is built. */
    private static final class Run {
        int listed;
        int selected;
        final List<String> unchanged = new ArrayList<>();
        final List<String> changed = new ArrayList<>();
        final List<String> deferred = new ArrayList<>();
        final List<SyncRun.Failure> failed = new ArrayList<>();
        final List<String> removed = new ArrayList<>();
        final List<String> untagged = new ArrayList<>();
        final List<String> jobs = new ArrayList<>();
    }
}
