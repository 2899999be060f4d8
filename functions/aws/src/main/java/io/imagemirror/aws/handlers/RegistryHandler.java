package io.imagemirror.aws.handlers;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import io.imagemirror.api.ApiHandler;
import io.imagemirror.api.MeteredApi;
import io.imagemirror.aws.AwsWiring;
import io.imagemirror.aws.metrics.EmfMetrics;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * The {@code /v2} pull-through registry behind API Gateway: manifests, tags, catalog and referrers
 * are answered by the function; blobs never pass through it (API Gateway's payload limit) but are
 * answered with a 307 to a presigned S3 URL, or, cold and large, to upstream's own location while a
 * mirror job stores them (see {@link AwsWiring#registryApi()}).
 */
public final class RegistryHandler implements RequestStreamHandler {

    private final ApiHandler api;
    private final EmfMetrics metrics;

    /** Production wiring, from the environment (see {@link AwsWiring}), primed before a SnapStart snapshot. */
    public RegistryHandler() {
        this(EventJson.preparedWhile(SnapStartPriming.httpEvent("GET", "/v2/", "", null), APIGatewayV2HTTPResponse.class,
                AwsWiring::shared));
    }

    private RegistryHandler(AwsWiring wiring) {
        this(wiring.registryApi(), wiring.metrics());
        SnapStartPriming.forRegistry(this, wiring.storage()).register();
    }

    public RegistryHandler(ApiHandler api) {
        this(api, null);
    }

    /** @param metrics counts the requests and is flushed after each event (null: not measured) */
    public RegistryHandler(ApiHandler api, EmfMetrics metrics) {
        this.api = metrics == null ? api : new MeteredApi(api, metrics);
        this.metrics = metrics;
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
