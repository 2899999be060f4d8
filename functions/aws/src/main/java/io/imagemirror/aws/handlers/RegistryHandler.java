package io.imagemirror.aws.handlers;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import io.imagemirror.api.ApiHandler;
import io.imagemirror.api.MeteredApi;
import io.imagemirror.aws.metrics.EmfMetrics;
import io.imagemirror.aws.AwsWiring;

/**
 * The {@code /v2} pull-through registry behind API Gateway: manifests, tags, catalog and referrers
 * are answered by the function; blobs never pass through it (API Gateway's payload limit) but are
 * answered with a 307 to a presigned S3 URL, or, cold and large, to upstream's own location while a
 * mirror job stores them (see {@link AwsWiring#registryApi()}).
 */
public final class RegistryHandler implements RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> {

    private final ApiHandler api;
    private final EmfMetrics metrics;

    /** Production wiring, from the environment (see {@link AwsWiring}), primed before a SnapStart snapshot. */
    public RegistryHandler() {
        this(AwsWiring.shared().registryApi(), AwsWiring.shared().metrics());
        SnapStartPriming.forRegistry(this, AwsWiring.shared().storage()).register();
    }

    public RegistryHandler(ApiHandler api) {
        this(api, null);
    }

    /** @param metrics counts the requests and is flushed after each event (null: not measured) */
    public RegistryHandler(ApiHandler api, EmfMetrics metrics) {
        this.api = metrics == null ? api : new MeteredApi(api, metrics);
        this.metrics = metrics;
    }

    @Override
    public APIGatewayV2HTTPResponse handleRequest(APIGatewayV2HTTPEvent event, Context context) {
        return Invocations.run(context, metrics, () -> HttpApiAdapter.serve(api, event, context));
    }
}
