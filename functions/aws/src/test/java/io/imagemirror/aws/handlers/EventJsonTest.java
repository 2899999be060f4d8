package io.imagemirror.aws.handlers;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import com.amazonaws.services.lambda.runtime.serialization.events.LambdaEventSerializers;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.imagemirror.api.ApiResponse;
import io.imagemirror.aws.AwsFixture;
import io.imagemirror.testbed.TestBed;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The stream handlers read events and write answers with {@link EventJson} instead of the Lambda
 * runtime's serialization: every sample event under {@code events/} reads to the same object, and
 * every answer writes the same JSON (fields that are null left out), as the runtime's own
 * serialization ({@link LambdaEventSerializers}, which the typed handlers went through).
 */
class EventJsonTest {

    private static final ObjectMapper TREES = new ObjectMapper();
    private static final List<String> NOT_HTTP = List.of("copy-worker-sqs.json", "sweeper-schedule.json",
            "sync-planner-scheduled.json");

    static Stream<String> httpApiEvents() throws IOException {
        try (Stream<Path> files = Files.list(TestBed.repoRoot().resolve("events"))) {
            List<String> names = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".json"))
                    .filter(n -> !NOT_HTTP.contains(n)).sorted().toList();
            assertThat(names).as("HTTP API sample events").hasSizeGreaterThan(10);
            return names.stream();
        }
    }

    private static InputStream stream(String json) {
        return new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8));
    }

    private static <T> String runtimeJson(T value, Class<T> type) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        LambdaEventSerializers.serializerFor(type, EventJsonTest.class.getClassLoader()).toJson(value, out);
        return out.toString(StandardCharsets.UTF_8);
    }

    private static String ours(Object value) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        EventJson.write(value, out);
        return out.toString(StandardCharsets.UTF_8);
    }

    /** The JSON tree with every null-valued field removed, at any depth. */
    private static JsonNode withoutNulls(String json) throws IOException {
        JsonNode tree = TREES.readTree(json);
        strip(tree);
        return tree;
    }

    private static void strip(JsonNode node) {
        if (node instanceof ObjectNode o) {
            for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
                if (it.next().getValue().isNull()) {
                    it.remove();
                }
            }
        }
        node.forEach(EventJsonTest::strip);
    }

    @ParameterizedTest
    @MethodSource("httpApiEvents")
    void everyHttpApiSampleEventReadsAsTheRuntimeReadsIt(String file) throws IOException {
        String json = AwsFixture.eventJson(file);
        APIGatewayV2HTTPEvent runtime = AwsFixture.eventFromJson(json, APIGatewayV2HTTPEvent.class);
        APIGatewayV2HTTPEvent ours = EventJson.read(stream(json), APIGatewayV2HTTPEvent.class);
        assertThat(ours).isEqualTo(runtime);
        assertThat(ours.getRequestContext().getHttp().getMethod()).isNotBlank();
        assertThat(ours.getRawPath()).startsWith("/v");
    }

    @Test
    void theSqsSampleEventReadsAsTheRuntimeReadsIt() throws IOException {
        String json = AwsFixture.eventJson("copy-worker-sqs.json");
        SQSEvent runtime = AwsFixture.eventFromJson(json, SQSEvent.class);
        SQSEvent ours = EventJson.read(stream(json), SQSEvent.class);
        assertThat(ours).isEqualTo(runtime);
        SQSEvent.SQSMessage m = ours.getRecords().get(0);
        assertThat(m.getEventSourceArn()).as("eventSourceARN, named in another case").startsWith("arn:aws:sqs:");
        assertThat(m.getAttributes()).containsKey("ApproximateReceiveCount");
        assertThat(m.getMessageAttributes()).isEqualTo(runtime.getRecords().get(0).getMessageAttributes());
    }

    @Test
    void answersWriteAsTheRuntimeWritesThem() throws IOException {
        APIGatewayV2HTTPResponse blob = APIGatewayV2HTTPResponse.builder().withStatusCode(307)
                .withHeaders(new TreeMap<>(Map.of("Location", "https://bucket.s3/x?X-Amz-Signature=1",
                        "Docker-Distribution-API-Version", "registry/2.0")))
                .withBody("").withIsBase64Encoded(false).build();
        APIGatewayV2HTTPResponse binary = APIGatewayV2HTTPResponse.builder().withStatusCode(200)
                .withHeaders(Map.of("Content-Type", "application/vnd.oci.image.manifest.v1+json"))
                .withMultiValueHeaders(Map.of("Link", List.of("<a>; rel=\"next\"", "<b>; rel=\"x\"")))
                .withCookies(List.of("a=b")).withBody("eyJzY2hlbWFWZXJzaW9uIjoyfQ==").withIsBase64Encoded(true)
                .build();
        APIGatewayV2HTTPResponse bare = new APIGatewayV2HTTPResponse();
        for (APIGatewayV2HTTPResponse r : List.of(blob, binary, bare)) {
            assertThat(withoutNulls(ours(r))).isEqualTo(withoutNulls(runtimeJson(r, APIGatewayV2HTTPResponse.class)));
        }
        SQSBatchResponse failures = new SQSBatchResponse(List.of(new SQSBatchResponse.BatchItemFailure("m-1"),
                new SQSBatchResponse.BatchItemFailure("m-2")));
        SQSBatchResponse none = new SQSBatchResponse(List.of());
        for (SQSBatchResponse r : List.of(failures, none)) {
            assertThat(TREES.readTree(ours(r))).isEqualTo(TREES.readTree(runtimeJson(r, SQSBatchResponse.class)));
        }
        assertThat(ours(none)).isEqualTo("{\"batchItemFailures\":[]}");
    }

    @ParameterizedTest
    @MethodSource("httpApiEvents")
    void theStreamEntryPointAnswersAsTheTypedOne(String file) throws IOException {
        // An API that answers with what it was asked: method, path, query, headers and body all reach it.
        RegistryHandler handler = new RegistryHandler(request -> ApiResponse.json(200,
                TREES.writeValueAsString(Map.of("method", request.method(), "path", request.path(),
                        "query", request.query(), "headers", request.headers(),
                        "body", new String(request.body().readAllBytes(), StandardCharsets.UTF_8))))
                .header("X-Seen", "yes"));
        String json = AwsFixture.eventJson(file);
        APIGatewayV2HTTPResponse typed = handler.handleRequest(
                AwsFixture.eventFromJson(json, APIGatewayV2HTTPEvent.class), new FakeContext("typed"));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        handler.handleRequest(stream(json), out, new FakeContext("stream"));
        assertThat(withoutNulls(out.toString(StandardCharsets.UTF_8)))
                .isEqualTo(withoutNulls(runtimeJson(typed, APIGatewayV2HTTPResponse.class)));
        assertThat(typed.getStatusCode()).isEqualTo(200);
        assertThat(typed.getHeaders()).containsEntry("X-Seen", "yes");
    }
}
