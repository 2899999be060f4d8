package io.imagemirror.aws.handlers;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import io.imagemirror.aws.AwsWiring;
import io.imagemirror.upstream.RegistryClient;
import java.time.Clock;

/**
 * A Registry function instance in its own process, for {@link ColdPullAcrossInstancesTest}: wired
 * from its environment like a Lambda, it sends one blob GET event (args: the event JSON) and
 * prints what it got. The test kills it with SIGKILL while it holds the blob's fill lease.
 */
public final class LeaseHolderChild {
    private LeaseHolderChild() {
    }

    public static void main(String[] args) throws Exception {
        AwsWiring wiring = AwsWiring.fromEnvironment(System.getenv(), RegistryClient.defaultHttpClient(),
                Clock.systemUTC());
        System.out.println("holder " + wiring.leases().holder());
        System.out.flush();
        APIGatewayV2HTTPEvent event = io.imagemirror.aws.AwsFixture.eventFromJson(args[0], APIGatewayV2HTTPEvent.class);
        APIGatewayV2HTTPResponse r = new RegistryHandler(wiring.registryApi()).handleRequest(event, null);
        System.out.println("answered " + r.getStatusCode());
        wiring.close();
    }
}
