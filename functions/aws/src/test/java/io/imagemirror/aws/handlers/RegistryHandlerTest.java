package io.imagemirror.aws.handlers;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.imagemirror.aws.AwsFixture;
import io.imagemirror.aws.AwsWithUpstream;
import io.imagemirror.aws.AwsWiring;
import io.imagemirror.mirror.UpstreamRequestCounter;
import io.imagemirror.testbed.LocalRegistry;
import io.imagemirror.testbed.TestImage;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * The Registry handler fed the {@code events/registry-*.json} samples through Lambda's own event
 * deserialization, over s3proxy + dynoxide + ElasticMQ, with a real docker-registry playing Docker Hub.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RegistryHandlerTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** The blob the sample blob event names: sha256 of these bytes. */
    private static final byte[] SAMPLE_BLOB = "image-mirror sample blob\n".getBytes(StandardCharsets.UTF_8);

    @TempDir
    static Path tmp;

    LocalRegistry upstream;
    AwsFixture aws;
    AwsWiring wiring;
    AwsWithUpstream env;
    UpstreamRequestCounter requests;
    RegistryHandler registry;
    CopyWorkerHandler worker;
    TestImage alpine;

    @BeforeAll
    void start() throws Exception {
        requests = new UpstreamRequestCounter();
        env = AwsWithUpstream.start(tmp, "registry", null, requests);
        upstream = env.upstream();
        aws = env.aws();
        wiring = env.wiring();
        registry = new RegistryHandler(wiring.registryApi());
        worker = new CopyWorkerHandler(wiring.jobs());
        alpine = TestImage.builder(77).layer(2000).layer(90_000).build();
        upstream.pusher().pushImage("library/alpine", "3.20", alpine);
        upstream.pusher().pushBlob("library/alpine", SAMPLE_BLOB);
    }

    @AfterAll
    void stop() {
        if (env != null) {
            env.close();
        }
    }

    APIGatewayV2HTTPResponse call(String eventFile) {
        return registry.handleRequest(AwsFixture.event(eventFile, APIGatewayV2HTTPEvent.class), null);
    }

    static byte[] body(APIGatewayV2HTTPResponse r) {
        return r.getIsBase64Encoded() ? Base64.getDecoder().decode(r.getBody())
                : r.getBody().getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void pingAnswersWithTheApiVersion() {
        APIGatewayV2HTTPResponse r = call("registry-ping.json");
        assertThat(r.getStatusCode()).isEqualTo(200);
        assertThat(r.getHeaders()).containsEntry("Docker-Distribution-API-Version", "registry/2.0");
    }

    @Test
    void manifestIsAnsweredByTheFunctionAndRecordedByACopyJob() throws Exception {
        APIGatewayV2HTTPResponse r = call("registry-manifest-get.json");
        assertThat(r.getStatusCode()).isEqualTo(200);
        assertThat(body(r)).isEqualTo(alpine.manifest());
        assertThat(r.getHeaders()).containsEntry("Docker-Content-Digest", alpine.digest())
                .containsEntry("Content-Type", alpine.mediaType());
        // the manifest bytes are stored; recording waits for a copy job on the queue
        assertThat(aws.keys("manifests/")).contains("manifests/sha256/" + alpine.digest().substring(7));
        Message m = receiveOne();
        SQSEvent.SQSMessage sqs = new SQSEvent.SQSMessage();
        sqs.setMessageId(m.messageId());
        sqs.setBody(m.body());
        sqs.setReceiptHandle(m.receiptHandle());
        sqs.setEventSourceArn("arn:aws:sqs:us-east-1:000000000000:copy");
        SQSEvent event = new SQSEvent();
        event.setRecords(List.of(sqs));
        SQSBatchResponse done = worker.handleRequest(event, null);
        assertThat(done.getBatchItemFailures()).isEmpty();
        aws.sqs.deleteMessage(b -> b.queueUrl(aws.queueUrl).receiptHandle(m.receiptHandle()));
        for (TestImage.Blob blob : alpine.blobs()) {
            assertThat(aws.keys("blobs/")).contains("blobs/sha256/" + blob.digest().substring(7));
        }
        // now recorded: the catalog lists it and the tag is served without asking upstream
        JsonNode catalog = JSON.readTree(body(call("registry-catalog.json")));
        assertThat(catalog.get("repositories").toString()).contains("library/alpine");
        requests.reset();
        assertThat(body(call("registry-manifest-get.json"))).isEqualTo(alpine.manifest());
        assertThat(requests.seen).isEmpty();
    }

    @Test
    void blobGetIsA307ToAPresignedUrlThatS3Serves() throws Exception {
        APIGatewayV2HTTPResponse r = call("registry-blob-get.json");
        assertThat(r.getStatusCode()).isEqualTo(307);
        String location = r.getHeaders().get("Location");
        assertThat(location).contains("X-Amz-Signature").contains("blobs/sha256/c83d59ba");
        HttpResponse<byte[]> fromS3 = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(location)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(fromS3.statusCode()).isEqualTo(200);
        assertThat(fromS3.body()).isEqualTo(SAMPLE_BLOB);
        // a second request is answered from the bucket without upstream
        requests.reset();
        assertThat(call("registry-blob-get.json").getStatusCode()).isEqualTo(307);
        assertThat(requests.seen).isEmpty();
    }

    @Test
    void aStoredBlobIsNotServedUnderARepositoryThatDoesNotHaveIt() throws Exception {
        assertThat(call("registry-blob-get.json").getStatusCode()).isEqualTo(307); // stored for library/alpine
        String json = AwsFixture.eventJson("registry-blob-get.json").replace("/v2/library/alpine/", "/v2/library/busybox/");
        APIGatewayV2HTTPResponse r = registry.handleRequest(AwsFixture.eventFromJson(json, APIGatewayV2HTTPEvent.class),
                null);
        // upstream's busybox does not have it, so neither does the mirror's: no presigned URL to it
        assertThat(r.getStatusCode()).isEqualTo(404);
        assertThat(r.getHeaders()).doesNotContainKey("Location");
        assertThat(JSON.readTree(body(r)).get("errors").get(0).get("code").asText()).isEqualTo("BLOB_UNKNOWN");
    }

    private Message receiveOne() {
        for (int i = 0; i < 20; i++) {
            List<Message> got = aws.sqs.receiveMessage(b -> b.queueUrl(aws.queueUrl).maxNumberOfMessages(1)
                    .waitTimeSeconds(1)).messages();
            if (!got.isEmpty()) {
                return got.get(0);
            }
        }
        throw new AssertionError("no message on the copy queue");
    }
}
