package io.imagemirror.aws.handlers;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import io.imagemirror.api.ApiHandler;
import io.imagemirror.api.MeteredApi;
import io.imagemirror.api.MirrorApi;
import io.imagemirror.aws.AwsWiring;
import io.imagemirror.aws.metrics.EmfMetrics;
import io.imagemirror.cache.NameRouter;
import io.imagemirror.jobs.MirrorJobs;
import io.imagemirror.listing.MirrorViews;
import io.imagemirror.store.Storage;
import io.imagemirror.sweep.Retention;
import io.imagemirror.sweep.SweepConfig;
import io.imagemirror.sweep.SweepService;
import io.imagemirror.sync.SyncRules;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * The {@code /v1} API behind API Gateway ({@code POST /v1/mirror}, {@code GET /v1/jobs/<id>},
 * {@code /v1/rules}): records a job and sends it to the copy queue, manages the sync rules and runs
 * one now ({@code POST /v1/rules/<name>/runs}, copy jobs to the copy queue), and answers the
 * read-only views of what is mirrored ({@code GET /v1/images},
 * {@code /v1/images/<ref>[/history]}, {@code /v1/search}, {@code /v1/df}), each upstream's quota
 * ({@code GET /v1/upstreams}), and {@code GET /v1/sweeps}, {@code POST /v1/prune},
 * {@code DELETE /v1/images/<ref>}: those untag and delete index records only and leave the bytes to
 * the Sweeper function's next run. Who may call it is IAM's decision (the route is IAM-authorized in
 * template.yaml).
 */
public final class MirrorApiHandler implements RequestStreamHandler {

    private final ApiHandler api;
    private final EmfMetrics metrics;

    /** Production wiring, from the environment (see {@link AwsWiring}), primed before a SnapStart snapshot. */
    public MirrorApiHandler() {
        this(EventJson.preparedWhile(SnapStartPriming.httpEvent("GET", "/v1/jobs/" + SnapStartPriming.NO_SUCH_JOB, "", null),
                APIGatewayV2HTTPResponse.class, AwsWiring::shared));
        SnapStartPriming.forMirrorApi(this).register();
    }

    /**
     * Every route over {@code wiring}, as the function serves them: {@code GET /v1/upstreams}, and
     * {@code POST /v1/rules/<name>/runs} running a rule now through the same planner the SyncPlanner
     * function runs ({@link AwsWiring#planner()}), its copy jobs sent to the copy queue. The answer
     * comes after planning (list and HEADs), within API Gateway's 30 s.
     */
    public MirrorApiHandler(AwsWiring wiring) {
        this(routes(wiring.jobs(), wiring.names(), wiring.rules(), wiring.storage(), wiring.config().sweep())
                .withUpstreams(wiring.upstreams(), wiring.config().syncQuotaFloor(), java.time.Clock.systemUTC())
                .withPlanner(wiring.planner()), wiring.metrics());
    }

    /**
     * @param rules the stored sync rules ({@code /v1/rules})
     * @param storage what the read-only views ({@code /v1/images}, {@code /v1/search}, {@code /v1/df}) show
     */
    public MirrorApiHandler(MirrorJobs jobs, NameRouter names, SyncRules rules, Storage storage) {
        this(jobs, names, rules, storage, SweepConfig.DEFAULTS);
    }

    /**
     * @param sweep the configured grace period and retention policies: {@code POST /v1/prune} and
     *     {@code DELETE /v1/images/<ref>} untag and delete index records here, and leave the byte
     *     deletions to the Sweeper function (the only role allowed to delete objects)
     */
    public MirrorApiHandler(MirrorJobs jobs, NameRouter names, SyncRules rules, Storage storage, SweepConfig sweep) {
        this(routes(jobs, names, rules, storage, sweep), (EmfMetrics) null);
    }

    /** @param metrics counts the requests and is flushed after each event */
    public MirrorApiHandler(MirrorJobs jobs, NameRouter names, SyncRules rules, Storage storage, EmfMetrics metrics) {
        this(routes(jobs, names, rules, storage, SweepConfig.DEFAULTS), metrics);
    }

    /** Over given routes (e.g. with {@link MirrorApi#withUpstreams} for {@code GET /v1/upstreams}). */
    public MirrorApiHandler(MirrorApi api) {
        this(api, (EmfMetrics) null);
    }

    /** @param metrics counts the requests and is flushed after each event (null: not measured) */
    public MirrorApiHandler(MirrorApi api, EmfMetrics metrics) {
        this.api = metrics == null ? api : new MeteredApi(api, metrics);
        this.metrics = metrics;
    }

    /** The routes, with prune and rm recording only (the Sweeper function deletes the bytes). */
    private static MirrorApi routes(MirrorJobs jobs, NameRouter names, SyncRules rules, Storage storage,
                                    SweepConfig sweep) {
        java.time.Clock clock = java.time.Clock.systemUTC();
        SweepService sweeps = new SweepService(storage, sweep, Retention.of(sweep.retention(),
                Retention.rules(rules, java.util.List.of())), clock).recordsOnly();
        return new MirrorApi(jobs, names, rules, new MirrorViews(storage, names)).withSweeps(sweeps);
    }

    /**
     * The function's entry point, as Lambda calls it: the event JSON in, the answer's JSON out,
     * read and written with {@link EventJson} rather than the runtime's own serialization.
     */
    @Override
    public void handleRequest(InputStream input, OutputStream output, Context context) throws IOException {
        EventJson.write(handleRequest(EventJson.read(input, APIGatewayV2HTTPEvent.class), context), output);
    }

    /** Handles one event (the typed form of the entry point, for tests and local callers). */
    public APIGatewayV2HTTPResponse handleRequest(APIGatewayV2HTTPEvent event, Context context) {
        return Invocations.run(context, metrics, () -> HttpApiAdapter.serve(api, event, context));
    }
}
