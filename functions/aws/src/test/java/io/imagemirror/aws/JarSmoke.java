package io.imagemirror.aws;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import io.imagemirror.aws.handlers.CopyWorkerHandler;
import io.imagemirror.aws.handlers.MirrorApiHandler;
import java.util.List;
import java.util.Map;

/**
 * What the Lambda runtime does, in a JVM whose class path is the deployment jar (plus this class):
 * the handlers' no-arg constructors wire everything from the process environment, then one event
 * each. Uses nothing outside the jar. Prints one line per handler for {@link DeploymentJarIT}.
 */
public final class JarSmoke {
    private JarSmoke() {
    }

    public static void main(String[] args) {
        APIGatewayV2HTTPEvent post = APIGatewayV2HTTPEvent.builder().withRawPath("/v1/mirror").withRawQueryString("")
                .withHeaders(Map.of("content-type", "application/json")).withBody(args[0]).withIsBase64Encoded(false)
                .withRequestContext(APIGatewayV2HTTPEvent.RequestContext.builder().withStage("$default")
                        .withHttp(APIGatewayV2HTTPEvent.RequestContext.Http.builder().withMethod("POST")
                                .withPath("/v1/mirror").build()).build())
                .build();
        APIGatewayV2HTTPResponse posted = new MirrorApiHandler().handleRequest(post, null);
        System.out.println("api " + posted.getStatusCode() + " " + posted.getBody());

        SQSEvent.SQSMessage message = new SQSEvent.SQSMessage();
        message.setMessageId("smoke-1");
        message.setBody("{\"jobId\":\"no-such-job\"}");
        SQSEvent event = new SQSEvent();
        event.setRecords(List.of(message));
        SQSBatchResponse worked = new CopyWorkerHandler().handleRequest(event, null);
        System.out.println("worker failures " + worked.getBatchItemFailures().size());
    }
}
