package io.imagemirror.local.cli;

import io.imagemirror.config.ConfigException;
import io.imagemirror.config.MirrorConfig;
import io.imagemirror.listing.HumanUnits;
import io.imagemirror.oci.Digest;
import io.imagemirror.store.ManifestRecord;
import io.imagemirror.store.Storage;
import io.imagemirror.cache.NameRouter;
import io.imagemirror.sweep.PruneFilters;
import io.imagemirror.sweep.Retention;
import io.imagemirror.sync.SyncRules;
import io.imagemirror.sweep.SweepRecords;
import io.imagemirror.sweep.SweepReport;
import io.imagemirror.sweep.Sweeper;
import java.io.PrintWriter;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Predicate;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code image-mirror prune}: runs the sweeper once in the foreground (what {@code serve} runs on its
 * schedule), like {@code docker image prune}: dangling manifests older than the grace period, then
 * the blobs nothing references any more. {@code --dry-run} lists what would go and deletes nothing;
 * {@code --status} shows the recorded sweeps.
 */
@Command(name = "prune", mixinStandardHelpOptions = true,
        description = {"Remove dangling manifests (no tag, no pin, no kept index) older than the grace period, "
                + "and the blobs no manifest references any more.",
            "With --all, also untag what the retention policies or the filters select (docker image prune -a).",
            "Ends with the total reclaimed space, in docker's units."})
final class PruneCommand implements Callable<Integer> {

    @ParentCommand
    ImageMirrorCommand parent;

    @Spec
    CommandSpec spec;

    @Option(names = "--grace", paramLabel = "DURATION",
            description = "Keep manifests dangling, and blobs touched, for less than this (default: the config's "
                    + "sweep.grace, 24h). Accepts 0, 90s, 30m, 24h, 7d, PT1H.")
    String grace;

    @Option(names = "--filter", paramLabel = "KEY=VALUE",
            description = "until=DURATION (only what has been dangling at least that long), label=KEY or "
                    + "label=KEY=VALUE (only manifests with that label). Repeatable.")
    List<String> filters = new ArrayList<>();

    @Option(names = {"-a", "--all"}, description = "Also untag what the retention policies (sweep.retention) or the "
            + "filters select, and remove what that leaves dangling now. Pinned tags, pinned digests and tags a sync "
            + "rule selects stay.")
    boolean all;

    @Option(names = "--dry-run", description = "List what would be removed (repository, digest, size); remove nothing.")
    boolean dryRun;

    @Option(names = "--status", description = "Show the recorded sweeps, newest first, and exit.")
    boolean status;

    @Option(names = "--page-size", paramLabel = "N", defaultValue = "100", hidden = true,
            description = "Index items read per page.")
    int pageSize;

    /** A test hook: after beginning this many blob sweeps, say so and wait to be killed (DataDirectoryIT). */
    @Option(names = "--stall-after-blob-sweeps", paramLabel = "N", hidden = true)
    Integer stallAfter;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        MirrorConfig config = parent.config();
        Duration g = config.sweep().grace();
        if (grace != null) {
            g = duration(grace, "--grace");
        }
        PruneFilters parsed;
        try {
            parsed = PruneFilters.parse(filters, Clock.systemUTC().instant());
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
        g = parsed.grace(g);
        Predicate<ManifestRecord> selected = parsed.manifests();
        if (pageSize < 1) {
            throw usage("--page-size must be at least 1");
        }
        Storage storage = parent.store.open();
        try (storage) {
            SweepRecords records = new SweepRecords(storage.jobs(), Clock.systemUTC());
            if (status) {
                printStatus(out, records.recent(20));
                return 0;
            }
            Sweeper sweeper = new Sweeper(storage, Clock.systemUTC());
            if (all) {
                // docker's prune -a: retention and the filters untag, and what that leaves dangling goes now
                Retention retention = Retention.of(config.sweep().retention(), Retention.rules(
                        new SyncRules(storage.rules(), storage.jobs(), new NameRouter(config)), config.rules()));
                sweeper = sweeper.withRetention(retention.alsoUntagging(parsed.tagFilter()));
            }
            Printer printer = new Printer(out, dryRun, stallAfter);
            SweepReport report = sweeper.run(g, dryRun, pageSize, selected, printer);
            records.record(report);
            if (dryRun) {
                out.println();
                out.println("Would delete " + report.manifestsDeleted() + " manifest(s) and " + report.blobsDeleted()
                        + " blob(s).");
            } else if (printer.any) {
                out.println();
            }
            out.println("Total reclaimed space: " + HumanUnits.size(report.bytesReclaimed()));
            out.flush();
            return 0;
        }
    }

    private CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }

    private Duration duration(String value, String option) {
        try {
            Duration d = MirrorConfig.parseDuration(value, option);
            if (d.isNegative()) {
                throw usage(option + " cannot be negative");
            }
            return d;
        } catch (ConfigException e) {
            throw usage(e.getMessage());
        }
    }

    /** Prints as the sweep goes: docker's {@code deleted:} lines, or a dry run's table. */
    private static final class Printer implements Sweeper.Listener {
        final PrintWriter out;
        final boolean dryRun;
        final Integer stallAfter;
        int begun;
        boolean any;

        Printer(PrintWriter out, boolean dryRun, Integer stallAfter) {
            this.out = out;
            this.dryRun = dryRun;
            this.stallAfter = stallAfter;
            if (dryRun) {
                out.println(String.format("%-50s %-71s %s", "REPOSITORY", "DIGEST", "SIZE"));
            }
        }

        private void header() {
            if (!any && !dryRun) {
                out.println("Deleted Images:");
            }
            any = true;
        }

        @Override
        public void manifestDeleted(String repository, Digest digest, long size) {
            header();
            if (dryRun) {
                out.println(String.format("%-50s %-71s %s", repository, digest, HumanUnits.size(size)));
            } else {
                out.println("deleted: " + repository + "@" + digest);
            }
            out.flush();
        }

        @Override
        public void tagUntagged(String repository, String tag, Digest digest) {
            header();
            if (dryRun) {
                out.println(String.format("%-50s %-71s %s", repository + ":" + tag, "(untag) " + digest, "-"));
            } else {
                out.println("untagged: " + repository + ":" + tag);
            }
            out.flush();
        }

        @Override
        public void blobSweepBegun(Digest digest) {
            if (stallAfter != null && ++begun >= stallAfter) {
                out.println("stalled: blob " + digest + " is being swept");
                out.flush();
                try {
                    new java.util.concurrent.CountDownLatch(1).await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        @Override
        public void blobDeleted(Digest digest, long size) {
            header();
            if (dryRun) {
                out.println(String.format("%-50s %-71s %s", "(blob)", digest, HumanUnits.size(size)));
            } else {
                out.println("deleted: blob " + digest);
            }
            out.flush();
        }
    }

    private static void printStatus(PrintWriter out, List<SweepReport> sweeps) {
        out.println(String.format("%-28s %-10s %-10s %-8s %-12s %s", "STARTED", "DURATION", "MANIFESTS", "BLOBS",
                "RECLAIMED", "PAGES"));
        for (SweepReport r : sweeps) {
            out.println(String.format("%-28s %-10s %-10d %-8d %-12s %d", r.startedAt(),
                    r.duration().toMillis() + "ms", r.manifestsDeleted(), r.blobsDeleted(),
                    HumanUnits.size(r.bytesReclaimed()), r.pages()));
        }
        out.flush();
    }
}
