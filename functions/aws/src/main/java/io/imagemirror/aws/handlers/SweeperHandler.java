package io.imagemirror.aws.handlers;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.ScheduledEvent;
import io.imagemirror.aws.AwsWiring;
import io.imagemirror.sweep.Retention;
import io.imagemirror.sweep.SweepRecords;
import io.imagemirror.sweep.SweepReport;
import io.imagemirror.sweep.Sweeper;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;

/**
 * The scheduled sweeper (EventBridge Scheduler): continues the sweep its checkpoint names, or
 * starts one, and runs it page by page while the invocation has time left, saving the
 * checkpoint (a job item in the table) after every page. A sweep larger than one invocation
 * continues on the next scheduled run from where this one stopped; every delete being
 * conditional and idempotent, a page run twice (a retried or overlapping invocation) deletes
 * nothing twice. Only this function's role may delete objects and index items.
 */
public final class SweeperHandler implements RequestHandler<ScheduledEvent, String> {

    /** Time kept for saving the checkpoint after the last page. */
    static final long MARGIN_MILLIS = 60_000;

    private final Sweeper sweeper;
    private final SweepRecords records;
    private final Duration grace;
    private final int pageSize;
    private final Clock clock;
    private final io.imagemirror.aws.metrics.EmfMetrics metrics;

    /** Production wiring, from the environment (see {@link AwsWiring}). */
    public SweeperHandler() {
        this(AwsWiring.shared(), Sweeper.DEFAULT_PAGE_SIZE);
    }

    public SweeperHandler(AwsWiring wiring, int pageSize) {
        this.clock = Clock.systemUTC();
        this.metrics = wiring.metrics();
        // Retention first (sweep.retention of the configuration), protecting what sync rules select.
        this.sweeper = new Sweeper(wiring.storage(), clock, Retention.of(wiring.config().sweep().retention(),
                Retention.rules(wiring.rules(), wiring.config().rules())));
        this.records = new SweepRecords(wiring.storage().jobs(), clock);
        this.grace = wiring.config().sweep().grace();
        this.pageSize = pageSize;
    }

    @Override
    public String handleRequest(ScheduledEvent event, Context context) {
        return Invocations.run(context, metrics, () -> sweep(context));
    }

    private String sweep(Context context) {
        long start = System.nanoTime();
        Optional<Sweeper.Checkpoint> saved = records.checkpoint();
        Sweeper.Checkpoint c;
        try {
            c = saved.orElseGet(() -> sweeper.start(grace));
        } catch (RuntimeException e) {
            metrics.since(io.imagemirror.metrics.Meter.SWEEPS, start, "failed");
            throw e;
        }
        SweepReport before = sweeper.report(c);
        try {
            return sweepFrom(c, context, before, start);
        } catch (RuntimeException e) {
            metrics.since(io.imagemirror.metrics.Meter.SWEEPS, start, "failed");
            throw e;
        }
    }

    private String sweepFrom(Sweeper.Checkpoint c, Context context, SweepReport before, long start) {
        int pages = 0;
        do {
            c = sweeper.step(c, pageSize, Sweeper.Listener.NONE);
            pages++;
            records.saveCheckpoint(c);
        } while (!c.done() && (context == null || context.getRemainingTimeInMillis() > MARGIN_MILLIS));
        if (!c.done()) {
            String at = "sweep of " + c.startedAt() + " paused in " + c.phase() + " after " + pages
                    + " page(s) (" + c.manifestsDeleted() + " manifests, " + c.blobsDeleted()
                    + " blobs so far); the next run continues it";
            LambdaLog.line(context, at);
            sweeper.report(c).since(before).recordTo(metrics, "paused", start);
            return at;
        }
        SweepReport r = sweeper.report(c);
        records.record(r);
        records.clearCheckpoint();
        r.since(before).recordTo(metrics, "finished", start);
        String done = "sweep of " + r.startedAt() + " done: " + r.manifestsDeleted() + " manifests, "
                + r.blobsDeleted() + " blobs, " + r.bytesReclaimed() + " bytes reclaimed in " + r.pages() + " pages";
        LambdaLog.line(context, done);
        return done;
    }
}
