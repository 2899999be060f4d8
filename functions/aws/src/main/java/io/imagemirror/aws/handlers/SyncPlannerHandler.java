package io.imagemirror.aws.handlers;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import io.imagemirror.aws.AwsWiring;
import io.imagemirror.sync.SyncListener;
import io.imagemirror.sync.SyncPlanner;
import io.imagemirror.sync.SyncRun;
import java.util.List;
import java.util.Map;

/**
 * The SyncPlanner function: on each EventBridge Scheduler invocation (the event's content is not
 * used), one planner pass over the rules stored in the table; copy jobs go to the copy queue, where
 * the CopyWorker runs them. Concurrent or overlapping invocations are safe: each rule is claimed by
 * a conditional write ({@link SyncPlanner}). Answers with a one-line summary.
 */
public final class SyncPlannerHandler implements RequestHandler<Map<String, Object>, String> {

    private final SyncPlanner planner;
    private final io.imagemirror.aws.metrics.EmfMetrics metrics;

    /** Production wiring, from the environment (see {@link AwsWiring}). */
    public SyncPlannerHandler() {
        this(AwsWiring.shared().planner(), AwsWiring.shared().metrics());
    }

    public SyncPlannerHandler(SyncPlanner planner) {
        this(planner, null);
    }

    /** @param metrics flushed after each event (null: not measured) */
    public SyncPlannerHandler(SyncPlanner planner, io.imagemirror.aws.metrics.EmfMetrics metrics) {
        this.planner = planner;
        this.metrics = metrics;
    }

    @Override
    public String handleRequest(Map<String, Object> event, Context context) {
        return Invocations.run(context, metrics, () -> runDue(context));
    }

    private String runDue(Context context) {
        List<SyncRun> runs = planner.runDue(SyncListener.NONE);
        int jobs = 0;
        int failed = 0;
        for (SyncRun run : runs) {
            jobs += run.jobs().size();
            failed += run.failed().size();
            LambdaLog.line(context, "sync rule " + run.rule() + " run " + run.id() + ": " + run.listed() + " listed, "
                    + run.selected() + " selected, " + run.unchanged().size() + " unchanged, " + run.jobs().size()
                    + " queued, " + run.deferred().size() + " deferred, " + run.failed().size() + " failed"
                    + (run.error() == null ? "" : ", error: " + run.error()));
        }
        return runs.size() + " rule(s) run, " + jobs + " copy job(s) queued, " + failed + " tag(s) failed";
    }
}
