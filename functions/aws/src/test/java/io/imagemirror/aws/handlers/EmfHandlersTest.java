package io.imagemirror.aws.handlers;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.imagemirror.aws.AwsFixture;
import io.imagemirror.aws.AwsWiring;
import io.imagemirror.aws.metrics.EmfMetrics;
import io.imagemirror.aws.metrics.CapturedEmf;
import io.imagemirror.testbed.LocalRegistry;
import io.imagemirror.testbed.TestImage;
import io.imagemirror.upstream.RegistryClient;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Registry function's EMF lines after a cold then a warm manifest pull (the sample event) over
 * s3proxy + dynoxide + ElasticMQ with docker-registry as Docker Hub: one line set per invocation,
 * each with its request id, counting the miss, the hit, the requests and the upstream's GETs.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EmfHandlersTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;

    LocalRegistry upstream;
    AwsFixture aws;
    AwsWiring wiring;
    CapturedEmf emf = new CapturedEmf();
    RegistryHandler registry;

    @BeforeAll
    void start() throws Exception {
        upstream = LocalRegistry.start(tmp);
        aws = new AwsFixture("emf");
        String config = "{\"upstreams\": [{\"name\": \"docker.io\", \"endpoint\": \"" + upstream.url()
                + "\", \"insecure\": true}]}";
        wiring = AwsWiring.fromEnvironment(aws.functionEnv(config), RegistryClient.defaultHttpClient(),
                Clock.systemUTC(), new EmfMetrics(() -> emf));
        registry = new RegistryHandler(wiring.registryApi(), wiring.metrics());
        upstream.pusher().pushImage("library/alpine", "3.20", TestImage.builder(78).layer(3000).build());
    }

    @AfterAll
    void stop() {
        if (wiring != null) {
            wiring.close();
        }
        if (aws != null) {
            aws.close();
        }
        if (upstream != null) {
            upstream.close();
        }
    }

    List<JsonNode> invoke(String requestId) throws Exception {
        emf.lines.clear();
        var r = registry.handleRequest(AwsFixture.event("registry-manifest-get.json", APIGatewayV2HTTPEvent.class),
                new FakeContext(requestId));
        assertThat(r.getStatusCode()).isEqualTo(200);
        List<JsonNode> out = new ArrayList<>();
        for (String line : emf.lines) {
            JsonNode n = JSON.readTree(line);
            assertThat(n.path("requestId").asText()).isEqualTo(requestId);
            out.add(n);
        }
        return out;
    }

    static double value(List<JsonNode> lines, String metric, String... dims) {
        double sum = 0;
        for (JsonNode n : lines) {
            boolean match = n.has(metric);
            for (int i = 0; i < dims.length; i += 2) {
                match &= dims[i + 1].equals(n.path(dims[i]).asText());
            }
            if (match) {
                JsonNode v = n.path(metric);
                // A timer's line holds its values (one is written as a number, more as an array): count them.
                sum += metric.equals("http.requests") || metric.equals("upstream.requests")
                        ? (v.isArray() ? v.size() : 1) : v.asDouble();
            }
        }
        return sum;
    }

    @Test
    void coldThenWarmManifestPull() throws Exception {
        List<JsonNode> cold = invoke("req-cold");
        assertThat(value(cold, "cache.lookups", "kind", "manifest", "result", "miss")).isEqualTo(1);
        assertThat(value(cold, "http.requests", "route", "v2.manifests", "method", "GET", "status", "200")).isEqualTo(1);
        assertThat(value(cold, "upstream.requests", "registry", "docker.io", "method", "GET", "status", "200"))
                .isGreaterThanOrEqualTo(1);

        List<JsonNode> warm = invoke("req-warm");
        assertThat(value(warm, "cache.lookups", "kind", "manifest", "result", "hit")).isEqualTo(1);
        assertThat(value(warm, "cache.lookups", "kind", "manifest", "result", "miss")).isZero();
        assertThat(value(warm, "http.requests", "route", "v2.manifests", "method", "GET", "status", "200")).isEqualTo(1);
    }
}
