package io.imagemirror.sync;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.imagemirror.cache.NameRouter;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.imagemirror.store.Job;
import io.imagemirror.store.JobStatus;
import io.imagemirror.store.JobStore;
import io.imagemirror.store.Page;
import io.imagemirror.store.RuleStore;
import io.imagemirror.store.SyncRule;
import io.imagemirror.store.SyncRunRecord;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The stored sync rules, as {@code /v1/rules}, {@code image-mirror rules} and the planner see them:
 * a rule is validated ({@link Rule#fromTree}) before anything is stored, and stored as its
 * canonical tree ({@link Rule#toTree}), so putting the same rule twice changes nothing. Thread-safe
 * as the store is; two concurrent puts of one name leave one of them.
 */
public final class SyncRules {

    /** What a put, a delete or an apply did to one rule. */
    public enum Change {
        CREATED, UPDATED, UNCHANGED, DELETED;

        /** As {@code rules apply} prints it. */
        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** A stored rule, or why it cannot be read any more (e.g. its upstream left the configuration). */
    public record Stored(String name, Optional<Rule> rule, JsonNode tree, String fault) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int PAGE = 100;

    private final RuleStore store;
    private final JobStore jobs;
    private final NameRouter names;

    /** @param jobs where the copy jobs of runs are, for what they copied */
    public SyncRules(RuleStore store, JobStore jobs, NameRouter names) {
        this.store = store;
        this.jobs = jobs;
        this.names = names;
    }

    /**
     * Reads a rule from its tree, as the API and files give it.
     *
     * @throws InvalidRuleException naming the field
     */
    public Rule parse(JsonNode tree) {
        return Rule.fromTree(tree, names);
    }

    /** Stores {@code rule} unless the same rule is stored already. */
    public Change put(Rule rule) {
        String config = rule.toTree().toString();
        Optional<SyncRule> old = store.getSyncRule(rule.name());
        if (old.isPresent() && old.get().config().equals(config) && old.get().enabled()) {
            return Change.UNCHANGED;
        }
        store.putSyncRule(new SyncRule(rule.name(), config, true));
        return old.isPresent() ? Change.UPDATED : Change.CREATED;
    }

    /**
     * The stored rule {@code name}.
     *
     * @throws InvalidRuleException when it is stored but no longer valid here
     */
    public Optional<Rule> get(String name) {
        return store.getSyncRule(name).map(this::read).map(s -> s.rule().orElseThrow(
                () -> new InvalidRuleException("rule", name + ": " + s.fault())));
    }

    /** @return whether a rule was deleted */
    public boolean delete(String name) {
        return store.deleteSyncRule(name);
    }

    /** Every stored rule in name order, each read on its own so one broken rule hides no other. */
    public List<Stored> list() {
        List<Stored> out = new ArrayList<>();
        String token = null;
        do {
            Page<SyncRule> page = store.listSyncRules(PAGE, token);
            page.items().forEach(r -> out.add(read(r)));
            token = page.nextToken();
        } while (token != null);
        return out;
    }

    /**
     * Makes the stored rules equal to {@code rules} ({@code prune}: also deletes stored rules not in
     * {@code rules}), like {@code kubectl apply}: idempotent, and a rule that is already stored as given
     * is not written.
     *
     * @return what happened to each rule, in the order given, then the deleted ones
     */
    public Map<String, Change> apply(List<Rule> rules, boolean prune) {
        Map<String, Change> out = new LinkedHashMap<>();
        for (Rule r : rules) {
            out.put(r.name(), put(r));
        }
        if (prune) {
            Set<String> keep = rules.stream().map(Rule::name).collect(Collectors.toSet());
            for (Stored s : list()) {
                if (!keep.contains(s.name()) && delete(s.name())) {
                    out.put(s.name(), Change.DELETED);
                }
            }
        }
        return out;
    }

    /**
     * Records a run (again: a run is written when it starts and when it ends), keeping the last
     * {@link SyncRun#KEPT} runs of its rule, each for at most {@link SyncRun#RETENTION}.
     */
    public void record(SyncRun run) {
        store.putSyncRun(new SyncRunRecord(run.rule(), run.id(), run.toTree().toString(),
                run.started().plus(SyncRun.RETENTION)));
        List<SyncRunRecord> older = new ArrayList<>();
        String token = null;
        int seen = 0;
        do {
            Page<SyncRunRecord> page = store.listSyncRuns(run.rule(), PAGE, token);
            for (SyncRunRecord r : page.items()) {
                if (++seen > SyncRun.KEPT) {
                    older.add(r);
                }
            }
            token = page.nextToken();
        } while (token != null);
        older.forEach(r -> store.deleteSyncRun(r.rule(), r.id()));
    }

    /** The recorded runs of rule {@code name}, newest first. */
    public List<SyncRun> runs(String name, int limit) {
        List<SyncRun> out = new ArrayList<>();
        for (SyncRunRecord r : store.listSyncRuns(name, limit, null).items()) {
            try {
                out.add(SyncRun.fromTree(JSON.readTree(r.run())));
            } catch (JsonProcessingException | RuntimeException e) {
                // a record this release cannot read is left out of the view, not fatal to it
            }
        }
        return out;
    }

    /**
     * The runs of rule {@code name} as the API shows them: each with what its jobs have done so far
     * ({@code jobsFinished}, {@code jobsFailed}, {@code bytesCopied} from the jobs' results).
     */
    public List<ObjectNode> runsWithJobs(String name) {
        List<ObjectNode> out = new ArrayList<>();
        for (SyncRun run : runs(name, SyncRun.KEPT)) {
            out.add(withJobs(run));
        }
        return out;
    }

    /**
     * One run as the API shows it ({@link #runsWithJobs}): its tree with {@code jobsFinished},
     * {@code jobsFailed} and {@code bytesCopied} as its jobs' records say now.
     */
    public ObjectNode withJobs(SyncRun run) {
        ObjectNode o = run.toTree();
        long bytes = 0;
        int finished = 0;
        int failedJobs = 0;
        for (String id : run.jobs()) {
            Optional<Job> job = jobs.getJob(id);
            if (job.isEmpty()) {
                continue;
            }
            if (job.get().status() == JobStatus.SUCCEEDED) {
                finished++;
                bytes += bytesCopied(job.get());
            } else if (job.get().status() == JobStatus.FAILED) {
                failedJobs++;
            }
        }
        o.put("jobsFinished", finished);
        o.put("jobsFailed", failedJobs);
        o.put("bytesCopied", bytes);
        return o;
    }

    private static long bytesCopied(Job job) {
        if (job.result() == null) {
            return 0;
        }
        try {
            return JSON.readTree(job.result()).path("bytesCopied").asLong(0);
        } catch (JsonProcessingException e) {
            return 0;
        }
    }

    private Stored read(SyncRule r) {
        JsonNode tree;
        try {
            tree = JSON.readTree(r.config());
        } catch (JsonProcessingException e) {
            return new Stored(r.name(), Optional.empty(), JSON.getNodeFactory().textNode(r.config()),
                    "stored rule is not JSON: " + e.getOriginalMessage());
        }
        try {
            return new Stored(r.name(), Optional.of(Rule.fromTree(tree, names)), tree, null);
        } catch (InvalidRuleException e) {
            return new Stored(r.name(), Optional.empty(), tree, e.getMessage());
        }
    }
}
