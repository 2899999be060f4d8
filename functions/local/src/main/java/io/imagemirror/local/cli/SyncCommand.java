package io.imagemirror.local.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.imagemirror.config.MirrorConfig;
import io.imagemirror.jobs.MirrorJobs;
import io.imagemirror.local.LocalRuntime;
import io.imagemirror.mirror.MirrorException;
import io.imagemirror.oci.Digest;
import io.imagemirror.oci.EchoedInput;
import io.imagemirror.store.Job;
import io.imagemirror.store.JobStatus;
import io.imagemirror.sync.InvalidRuleException;
import io.imagemirror.sync.Rule;
import io.imagemirror.sync.SyncListener;
import io.imagemirror.sync.SyncPlanner;
import io.imagemirror.sync.SyncRules;
import io.imagemirror.sync.SyncRun;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code image-mirror sync [RULE...] [--dry-run] [--status [RULE]]}: runs the due (or the named) sync
 * rules once, in the foreground, copying what changed in this process; exit 1 if any tag failed.
 */
@Command(name = "sync", mixinStandardHelpOptions = true,
        description = {"Run the sync rules that are due (or the named ones, due or not) once, in the foreground: "
                + "list tags, HEAD each selected tag, copy those whose digest changed.",
            "The configuration's rules: are stored first. Exit status 1 if any tag failed."})
final class SyncCommand implements Callable<Integer> {

    @ParentCommand
    ImageMirrorCommand parent;

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "RULE", arity = "0..*", description = "Rules to run now (default: every due rule).")
    List<String> names = new ArrayList<>();

    @Option(names = "--dry-run", description = "Only list tags and HEAD them: show what would be copied, "
            + "copy nothing, record nothing (every rule, or the named ones).")
    boolean dryRun;

    @Option(names = "--status", arity = "0..1", paramLabel = "RULE", fallbackValue = "",
            description = "Show the last runs (of RULE, or of every rule) instead of running.")
    String status;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        MirrorConfig config = parent.config();
        try (LocalRuntime rt = parent.runtime(config, false)) {
            rt.applyConfigRules();
            SyncRules rules = rt.syncRules();
            if (status != null) {
                return status(out, rt, rules);
            }
            List<Rule> named = new ArrayList<>();
            for (String n : names) {
                Optional<Rule> r;
                try {
                    r = rules.get(n);
                } catch (InvalidRuleException e) {
                    throw new CommandLine.ParameterException(spec.commandLine(), "rule " + n + " " + e.getMessage());
                }
                named.add(r.orElseThrow(() -> new CommandLine.ParameterException(spec.commandLine(),
                        "no sync rule " + EchoedInput.of(n) + " (see 'image-mirror rules ls')")));
            }
            if (dryRun && named.isEmpty()) {
                rules.list().forEach(s -> s.rule().filter(Rule::enabled).ifPresent(named::add));
            }
            List<String> queued = new CopyOnWriteArrayList<>();
            MirrorJobs foreground = new MirrorJobs(rt.mirror(), rt.upstreams(), rt.storage().jobs(), queued::add,
                    Clock.systemUTC());
            SyncPlanner planner = rt.planner(foreground);
            Printer printer = new Printer(out);
            List<SyncRun> runs = named.isEmpty() ? planner.runDue(printer) : planner.run(named, dryRun, printer);
            boolean failed = runs.stream().anyMatch(SyncRun::hasFailures);
            Copies copies = new Copies();
            for (String id : queued) {
                failed |= !copy(out, foreground, id, copies);
            }
            for (SyncRun run : runs) {
                out.printf("%s: %d listed, %d selected, %d unchanged, %d %s, %d deferred, %d failed, %d removed upstream%s"
                        + " in %.2fs%n",
                        run.rule(), run.listed(), run.selected(), run.unchanged().size(), run.changed().size(),
                        run.dryRun() ? "to copy" : "copied", run.deferred().size(), run.failed().size(),
                        run.removedUpstream().size(), run.untagged().isEmpty() ? "" : " (" + run.untagged().size()
                                + " untagged)", java.time.Duration.between(run.started(), run.finished()).toMillis() / 1000.0);
            }
            if (runs.isEmpty()) {
                out.println("no rule is due (name rules to run them now; --status shows the last runs)");
            } else if (!dryRun) {
                int tagsFailed = runs.stream().mapToInt(run -> run.failed().size()).sum() + copies.failed;
                out.printf("Summary: %d rule(s), %d tag(s) checked, %d up to date, %d copied (%s copied, %s reused), "
                        + "%d deferred, %d failed%n", runs.size(), runs.stream().mapToInt(SyncRun::selected).sum(),
                        runs.stream().mapToInt(run -> run.unchanged().size()).sum(), copies.succeeded,
                        PlainProgress.human(copies.bytesCopied), PlainProgress.human(copies.bytesReused),
                        runs.stream().mapToInt(run -> run.deferred().size()).sum(), tagsFailed);
            }
            out.flush();
            return failed ? 1 : 0;
        }
    }

    /** What the copies of one invocation came to, for the summary line. */
    private static final class Copies {
        int succeeded;
        int failed;
        long bytesCopied;
        long bytesReused;
    }

    /**
     * Runs one copy job here, showing its layers as {@code mirror} does (bars on a terminal, lines
     * otherwise) between docker pull's first and last lines.
     */
    private static boolean copy(PrintWriter out, MirrorJobs jobs, String id, Copies copies) {
        Job job = jobs.get(id).orElseThrow();
        String image = requestedImage(job);
        out.println(image + ": Pulling");
        out.flush();
        ProgressDisplay display = ProgressDisplay.forOutput(out);
        try {
            jobs.run(id, display);
        } catch (MirrorException e) {
            display.finish();
            out.println(image + ": error: " + e.getMessage());
            out.flush();
            copies.failed++;
            return false;
        }
        display.finish();
        Job done = jobs.get(id).orElseThrow();
        if (done.status() != JobStatus.SUCCEEDED) {
            out.println(image + ": error: " + done.error());
            out.flush();
            copies.failed++;
            return false;
        }
        long copied = 0;
        long reused = 0;
        try {
            JsonNode r = new ObjectMapper().readTree(done.result());
            copied = r.path("bytesCopied").asLong();
            reused = r.path("bytesReused").asLong();
        } catch (IOException e) {
            // the summary line only; the job itself succeeded
        }
        copies.succeeded++;
        copies.bytesCopied += copied;
        copies.bytesReused += reused;
        out.println(image + ": Pull complete (" + PlainProgress.human(copied) + " copied, "
                + PlainProgress.human(reused) + " reused)");
        out.flush();
        return true;
    }

    private static String requestedImage(Job job) {
        try {
            return new ObjectMapper().readTree(job.request()).path("image").asText(job.id());
        } catch (IOException e) {
            return job.id();
        }
    }

    private int status(PrintWriter out, LocalRuntime rt, SyncRules rules) {
        List<String> which = new ArrayList<>();
        if (status.isEmpty()) {
            rules.list().forEach(s -> which.add(s.name()));
        } else {
            which.add(status);
        }
        out.printf("%-24s %-20s %-9s %6s %8s %9s %7s %8s %6s %10s%n", "RULE", "STARTED", "RESULT", "LISTED",
                "SELECTED", "UNCHANGED", "CHANGED", "DEFERRED", "FAILED", "COPIED");
        for (String name : which) {
            for (JsonNode run : rules.runsWithJobs(name)) {
                JsonNode t = run.path("tags");
                String result = run.path("error").isTextual() || t.path("failed").asInt() > 0 ? "failed"
                        : run.path("finished").isTextual() ? "ok" : "running";
                out.printf("%-24s %-20s %-9s %6d %8d %9d %7d %8d %6d %10s%n", name,
                        run.path("started").asText().replaceFirst("\\.\\d+Z$", "Z"), result, t.path("listed").asInt(),
                        t.path("selected").asInt(), t.path("unchanged").asInt(), t.path("changed").asInt(),
                        t.path("deferred").asInt(), t.path("failed").asInt(),
                        PlainProgress.human(run.path("bytesCopied").asLong()));
                run.path("failed").forEach(f -> out.println("  failed " + f.path("tag").asText() + ": "
                        + f.path("reason").asText()));
                if (run.path("error").isTextual()) {
                    out.println("  error: " + run.path("error").asText());
                }
            }
        }
        out.flush();
        return 0;
    }

    /** Tag lines as the planner checks them, in docker pull's voice. */
    private static final class Printer implements SyncListener {
        private final PrintWriter out;

        Printer(PrintWriter out) {
            this.out = out;
        }

        @Override
        public synchronized void ruleStarted(Rule rule) {
            out.println("rule " + rule.name() + ": " + rule.source());
            out.flush();
        }

        @Override
        public synchronized void tagsListed(Rule rule, int listed, int selected) {
            out.println("  " + listed + " tags listed, " + selected + " selected");
            out.flush();
        }

        @Override
        public synchronized void tagChecked(Rule rule, String tag, Digest upstream, String outcome, String detail) {
            String what = switch (outcome) {
                case "unchanged" -> "Image is up to date";
                case "changed" -> detail != null && detail.startsWith("would") ? "Would copy" : "Queued for copy";
                case "deferred" -> "Deferred: " + detail;
                default -> "Failed: " + detail;
            };
            out.println("  " + tag + ": " + what + (upstream == null ? "" : " (" + upstream.shortHex() + ")"));
            out.flush();
        }
    }
}
