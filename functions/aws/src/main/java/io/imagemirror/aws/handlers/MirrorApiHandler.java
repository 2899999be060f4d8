package io.imagemirror.aws.handlers;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import io.imagemirror.api.ApiHandler;
import io.imagemirror.api.MeteredApi;
import io.imagemirror.api.MirrorApi;
import io.imagemirror.aws.metrics.EmfMetrics;
import io.imagemirror.aws.AwsWiring;
import io.imagemirror.cache.NameRouter;
import io.imagemirror.jobs.MirrorJobs;
import io.imagemirror.listing.MirrorViews;
import io.imagemirror.store.Storage;
import io.imagemirror.sync.SyncRules;

/**
 * The {@code /v1} API behind API Gateway ({@code POST /v1/mirror}, {@code GET /v1/jobs/<id>},
 * {@code /v1/rules}): records a job and sends it to the copy queue, manages the sync rules, and
 * answers the read-only views of what is mirrored ({@code GET /v1/images},
 * {@code /v1/images/<ref>[/history]}, {@code /v1/search}, {@code /v1/df}). Who may call it is IAM's decision (the route is
 * IAM-authorized in template.yaml).
 */
public final class MirrorApiHandler implements RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> {

    private final ApiHandler api;
    private final EmfMetrics metrics;

    /** Production wiring, from the environment (see {@link AwsWiring}), primed before a SnapStart snapshot. */
    public MirrorApiHandler() {
        this(AwsWiring.shared().jobs(), AwsWiring.shared().names(), AwsWiring.shared().rules(),
                AwsWiring.shared().storage(), AwsWiring.shared().metrics());
        SnapStartPriming.forMirrorApi(this).register();
    }

    /**
     * @param rules the stored sync rules ({@code /v1/rules})
     * @param storage what the read-only views ({@code /v1/images}, {@code /v1/search}, {@code /v1/df}) show
     */
    public MirrorApiHandler(MirrorJobs jobs, NameRouter names, SyncRules rules, Storage storage) {
        this(jobs, names, rules, storage, null);
    }

    /** @param metrics counts the requests and is flushed after each event (null: not measured) */
    public MirrorApiHandler(MirrorJobs jobs, NameRouter names, SyncRules rules, Storage storage, EmfMetrics metrics) {
        MirrorApi mirrorApi = new MirrorApi(jobs, names, rules, new MirrorViews(storage, names));
        this.api = metrics == null ? mirrorApi : new MeteredApi(mirrorApi, metrics);
        this.metrics = metrics;
    }

    @Override
    public APIGatewayV2HTTPResponse handleRequest(APIGatewayV2HTTPEvent event, Context context) {
        return Invocations.run(context, metrics, () -> HttpApiAdapter.serve(api, event, context));
    }
}
