package io.imagemirror.aws.handlers;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.imagemirror.aws.AwsFixture;
import io.imagemirror.aws.AwsWithUpstream;
import io.imagemirror.aws.AwsWiring;
import io.imagemirror.aws.queue.SqsJobQueue;
import io.imagemirror.jobs.JobJson;
import io.imagemirror.jobs.MirrorImage;
import io.imagemirror.mirror.MirrorRequest;
import io.imagemirror.mirror.UpstreamRequestCounter;
import io.imagemirror.reference.ImageReference;
import io.imagemirror.store.Cause;
import io.imagemirror.store.Job;
import io.imagemirror.store.JobStatus;
import io.imagemirror.store.TagEvent;
import io.imagemirror.testbed.LocalRegistry;
import io.imagemirror.testbed.TestImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

/**
 * The MirrorApi and CopyWorker handlers, fed the files in {@code events/} through Lambda's own
 * event deserialization, over s3proxy + dynoxide + ElasticMQ, with a real docker-registry playing
 * Docker Hub (the config points {@code docker.io} at it, so the sample events run unchanged).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MirrorHandlersTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** The job id the sample job-get and SQS events name. */
    private static final String SAMPLE_JOB = "7f3c2a1e-5b6d-4e8f-9a0b-1c2d3e4f5a6b";

    @TempDir
    static Path tmp;

    LocalRegistry upstream;
    AwsFixture aws;
    AwsWiring wiring;
    AwsWithUpstream env;
    UpstreamRequestCounter requests;
    MirrorApiHandler api;
    CopyWorkerHandler worker;
    TestImage alpine;

    @BeforeAll
    void start() {
        requests = new UpstreamRequestCounter();
        env = AwsWithUpstream.start(tmp, "handlers", "\"parallelism\": 2", requests);
        upstream = env.upstream();
        aws = env.aws();
        wiring = env.wiring();
        api = new MirrorApiHandler(wiring.jobs(), wiring.names(), wiring.rules(), wiring.storage());
        worker = new CopyWorkerHandler(wiring.jobs());
        alpine = TestImage.builder(42).layer(3000).layer(70_000).build();
        upstream.pusher().pushImage("library/alpine", "3.20", alpine);
    }

    @AfterAll
    void stop() {
        if (env != null) {
            env.close();
        }
    }

    @BeforeEach
    void resetCounter() {
        requests.reset();
    }

    @Test
    void httpTriggerQueuesAJobThatTheWorkerCopiesIntoBucketAndTable() throws Exception {
        // HTTP trigger: 202 with the job, a QUEUED row in the table, one message on the queue.
        APIGatewayV2HTTPResponse posted = api.handleRequest(
                AwsFixture.event("mirror-post.json", APIGatewayV2HTTPEvent.class), null);
        assertThat(posted.getStatusCode()).isEqualTo(202);
        assertThat(posted.getIsBase64Encoded()).isFalse();
        assertThat(posted.getHeaders()).containsEntry("Content-Type", "application/json");
        String jobId = JSON.readTree(posted.getBody()).get("jobId").asText();
        assertThat(posted.getHeaders()).containsEntry("Location", "/v1/jobs/" + jobId);
        Map<String, AttributeValue> row = aws.dynamo.getItem(b -> b.tableName(aws.table).consistentRead(true)
                .key(Map.of("pk", s("JOB#" + jobId), "sk", s("JOB")))).item();
        assertThat(row).isNotEmpty();
        assertThat(row.toString()).containsIgnoringCase("queued");
        assertThat(requests.seen).as("submitting contacts no upstream").isEmpty();

        Message message = aws.receiveOne(aws.queueUrl);
        assertThat(JSON.readTree(message.body()).get("jobId").asText()).isEqualTo(jobId);

        // The worker, on the SQS event Lambda would build from that message.
        SQSBatchResponse done = worker.handleRequest(AwsFixture.sqsEvent(message), null);
        assertThat(done.getBatchItemFailures()).isEmpty();
        aws.sqs.deleteMessage(b -> b.queueUrl(aws.queueUrl).receiptHandle(message.receiptHandle()));

        for (TestImage.Blob blob : alpine.blobs()) {
            assertThat(aws.keys("blobs/")).contains("blobs/sha256/" + hex(blob.digest()));
        }
        assertThat(aws.keys("manifests/")).containsExactly("manifests/sha256/" + hex(alpine.digest()));
        byte[] stored = aws.s3.getObjectAsBytes(b -> b.bucket(aws.bucket).key("manifests/sha256/" + hex(alpine.digest())))
                .asByteArray();
        assertThat(stored).isEqualTo(alpine.manifest());
        Map<String, AttributeValue> tag = aws.dynamo.getItem(b -> b.tableName(aws.table).consistentRead(true)
                .key(Map.of("pk", s("REPO#docker.io/library/alpine"), "sk", s("TAG#3.20")))).item();
        assertThat(tag.toString()).contains(alpine.digest());
        Map<String, AttributeValue> manifest = aws.dynamo.getItem(b -> b.tableName(aws.table).consistentRead(true)
                .key(Map.of("pk", s("REPO#docker.io/library/alpine"), "sk", s("MANIFEST#" + alpine.digest())))).item();
        assertThat(manifest).isNotEmpty();

        JsonNode job = getJob(jobId);
        assertThat(job.get("state").asText()).isEqualTo("succeeded");
        assertThat(job.at("/result/images/0/digest").asText()).isEqualTo(alpine.digest());
        assertThat(job.at("/request/cause").asText()).isEqualTo("api");

        // A duplicate delivery of the same message is acknowledged and reaches no upstream.
        requests.reset();
        SQSBatchResponse again = worker.handleRequest(AwsFixture.sqsEvent(message), null);
        assertThat(again.getBatchItemFailures()).isEmpty();
        assertThat(requests.seen).isEmpty();
        assertThat(getJob(jobId).get("updated").asText()).isEqualTo(job.get("updated").asText());
    }

    @Test
    void sampleJobEventsShowAndRunARecordedJob() throws Exception {
        // The sample events name a fixed job id; record a job under it as MirrorApi would have.
        Instant now = Instant.now();
        MirrorImage request = MirrorImage.of(MirrorRequest.of(ImageReference.parse("docker.io/library/alpine:3.20"), Cause.API));
        wiring.storage().jobs().createJob(Job.queued(SAMPLE_JOB, request.kind(), JobJson.payload(request),
                now, now.plusSeconds(3600)));

        APIGatewayV2HTTPResponse queued = api.handleRequest(
                AwsFixture.event("job-get.json", APIGatewayV2HTTPEvent.class), null);
        assertThat(queued.getStatusCode()).isEqualTo(200);
        assertThat(JSON.readTree(queued.getBody()).get("state").asText()).isEqualTo("queued");
        assertThat(JSON.readTree(queued.getBody()).get("id").asText()).isEqualTo(SAMPLE_JOB);

        SQSBatchResponse ran = worker.handleRequest(AwsFixture.event("copy-worker-sqs.json", SQSEvent.class), null);
        assertThat(ran.getBatchItemFailures()).isEmpty();
        assertThat(wiring.jobs().get(SAMPLE_JOB)).hasValueSatisfying(
                j -> assertThat(j.status()).isEqualTo(JobStatus.SUCCEEDED));
        assertThat(aws.keys("manifests/")).contains("manifests/sha256/" + hex(alpine.digest()));
        assertThat(getJob(SAMPLE_JOB).get("state").asText()).isEqualTo("succeeded");
    }

    @Test
    void aDeliveryWhileAnotherWorkerRunsTheJobCopiesNothingAndKeepsTheMessage() throws Exception {
        APIGatewayV2HTTPResponse posted = api.handleRequest(
                AwsFixture.event("mirror-post.json", APIGatewayV2HTTPEvent.class), null);
        String jobId = JSON.readTree(posted.getBody()).get("jobId").asText();
        Message message = aws.receiveOne(aws.queueUrl);
        Job queuedJob = wiring.jobs().get(jobId).orElseThrow();
        Job running = queuedJob.withStatus(JobStatus.RUNNING, Instant.now());
        assertThat(wiring.storage().jobs().updateJob(running, JobStatus.QUEUED)).isTrue();
        requests.reset();

        SQSBatchResponse whileRunning = worker.handleRequest(AwsFixture.sqsEvent(message), null);
        assertThat(whileRunning.getBatchItemFailures()).extracting(SQSBatchResponse.BatchItemFailure::getItemIdentifier)
                .containsExactly(message.messageId());
        assertThat(requests.seen).isEmpty();
        assertThat(wiring.jobs().get(jobId).orElseThrow().status()).isEqualTo(JobStatus.RUNNING);

        // The other worker finishes; the message, back after its visibility timeout, is then acknowledged.
        assertThat(wiring.storage().jobs().updateJob(running.succeeded("{}", Instant.now()), JobStatus.RUNNING))
                .isTrue();
        assertThat(worker.handleRequest(AwsFixture.sqsEvent(message), null).getBatchItemFailures()).isEmpty();
        assertThat(requests.seen).isEmpty();
        aws.sqs.deleteMessage(b -> b.queueUrl(aws.queueUrl).receiptHandle(message.receiptHandle()));
    }

    @Test
    void aJobThatFailsIsABatchItemFailureThenDeadLettered() throws Exception {
        ObjectNode event = (ObjectNode) JSON.readTree(AwsFixture.eventJson("mirror-post.json"));
        event.put("body", "{\"image\": \"docker.io/library/absent:1\"}");
        APIGatewayV2HTTPResponse posted = api.handleRequest(
                AwsFixture.eventFromJson(event.toString(), APIGatewayV2HTTPEvent.class), null);
        assertThat(posted.getStatusCode()).isEqualTo(202);
        String jobId = JSON.readTree(posted.getBody()).get("jobId").asText();

        for (int delivery = 1; delivery <= AwsFixture.MAX_RECEIVE_COUNT; delivery++) {
            Message message = aws.receiveOne(aws.queueUrl);
            assertThat(message.attributes().get(MessageSystemAttributeName.APPROXIMATE_RECEIVE_COUNT))
                    .isEqualTo(Integer.toString(delivery));
            SQSBatchResponse response = worker.handleRequest(AwsFixture.sqsEvent(message), null);
            assertThat(response.getBatchItemFailures()).extracting(SQSBatchResponse.BatchItemFailure::getItemIdentifier)
                    .containsExactly(message.messageId());
            JsonNode job = getJob(jobId);
            assertThat(job.get("state").asText()).isEqualTo("failed");
            assertThat(job.get("error").asText()).contains("library/absent:1");
            // What Lambda does with a reported failure: the message becomes visible again.
            aws.sqs.changeMessageVisibility(b -> b.queueUrl(aws.queueUrl).receiptHandle(message.receiptHandle())
                    .visibilityTimeout(0));
        }
        // Past maxReceiveCount the queue moves the message to the dead-letter queue.
        assertThat(aws.sqs.receiveMessage(b -> b.queueUrl(aws.queueUrl).waitTimeSeconds(1)).messages()).isEmpty();
        Message dead = aws.receiveOne(aws.dlqUrl);
        assertThat(JSON.readTree(dead.body()).get("jobId").asText()).isEqualTo(jobId);
    }

    @Test
    void aBase64BodyIsDecodedAndABadMessageIsAFailure() throws Exception {
        ObjectNode event = (ObjectNode) JSON.readTree(AwsFixture.eventJson("mirror-post.json"));
        event.put("body", Base64.getEncoder().encodeToString(
                "{\"image\": \"evil.example.com/x:1\"}".getBytes(StandardCharsets.UTF_8)));
        event.put("isBase64Encoded", true);
        APIGatewayV2HTTPResponse denied = api.handleRequest(
                AwsFixture.eventFromJson(event.toString(), APIGatewayV2HTTPEvent.class), null);
        assertThat(denied.getStatusCode()).isEqualTo(403);
        assertThat(JSON.readTree(denied.getBody()).at("/errors/0/code").asText()).isEqualTo("DENIED");

        ObjectNode sqs = (ObjectNode) JSON.readTree(AwsFixture.eventJson("copy-worker-sqs.json"));
        ((ObjectNode) sqs.get("Records").get(0)).put("body", "not a job");
        SQSBatchResponse bad = worker.handleRequest(AwsFixture.eventFromJson(sqs.toString(), SQSEvent.class), null);
        assertThat(bad.getBatchItemFailures()).extracting(SQSBatchResponse.BatchItemFailure::getItemIdentifier)
                .containsExactly("2e1424d4-f796-459a-8184-9c92662be6da");
    }

    @Test
    void eachEntryPointSaysWhyInTheTagHistoryThroughTheQueue() throws Exception {
        TestImage posted = TestImage.builder(43).build();
        TestImage pulled = TestImage.builder(44).build();
        upstream.pusher().pushImage("library/posted", "1", posted);
        upstream.pusher().pushImage("library/pulled", "1", pulled);

        // POST /v1/mirror → queue → CopyWorker: "api".
        ObjectNode post = (ObjectNode) JSON.readTree(AwsFixture.eventJson("mirror-post.json"));
        post.put("body", "{\"image\": \"posted:1\"}");
        assertThat(api.handleRequest(AwsFixture.eventFromJson(post.toString(), APIGatewayV2HTTPEvent.class), null)
                .getStatusCode()).isEqualTo(202);
        runOneMessage();

        // A pull through the Registry function → a pull-through job on the queue → CopyWorker: "pull-through".
        RegistryHandler registry = new RegistryHandler(wiring.registryApi());
        ObjectNode get = (ObjectNode) JSON.readTree(AwsFixture.eventJson("registry-manifest-get.json"));
        get.put("rawPath", "/v2/library/pulled/manifests/1");
        ((ObjectNode) get.at("/requestContext/http")).put("path", "/v2/library/pulled/manifests/1");
        APIGatewayV2HTTPResponse served = registry.handleRequest(
                AwsFixture.eventFromJson(get.toString(), APIGatewayV2HTTPEvent.class), null);
        assertThat(served.getStatusCode()).isEqualTo(200);
        String pullJob = runOneMessage();
        assertThat(wiring.jobs().get(pullJob).orElseThrow().kind()).isEqualTo("pull-through");

        assertThat(history("docker.io/library/posted", "1")).containsExactly("api");
        assertThat(history("docker.io/library/pulled", "1")).containsExactly("pull-through");
        // What DynamoDB holds, read without our adapter: the history item names the cause.
        List<Map<String, AttributeValue>> items = aws.dynamo.query(b -> b.tableName(aws.table).consistentRead(true)
                .keyConditionExpression("pk = :pk AND begins_with(sk, :sk)")
                .expressionAttributeValues(Map.of(":pk", s("REPO#docker.io/library/pulled"), ":sk", s("TAGLOG#1"))))
                .items();
        assertThat(items).singleElement().satisfies(i -> assertThat(i.toString()).contains("pull-through"));
    }

    @Test
    void jobsOfAnUnknownKindOrWithAMalformedPayloadFailWithTheirReasonAndAreNotRedelivered() throws Exception {
        Instant now = Instant.now();
        Map<String, String> jobs = Map.of(
                "future-" + UUID.randomUUID(), "sweep-v9",
                "garbage-" + UUID.randomUUID(), "mirror");
        for (Map.Entry<String, String> j : jobs.entrySet()) {
            wiring.storage().jobs().createJob(Job.queued(j.getKey(), j.getValue(), "{\"image\": 42}", now,
                    now.plusSeconds(3600)));
            new SqsJobQueue(aws.sqs, aws.queueUrl).send(j.getKey());
            Message message = aws.receiveOne(aws.queueUrl);
            SQSBatchResponse response = worker.handleRequest(AwsFixture.sqsEvent(message), null);
            assertThat(response.getBatchItemFailures()).as("acknowledged, so SQS deletes it").isEmpty();
            aws.sqs.deleteMessage(b -> b.queueUrl(aws.queueUrl).receiptHandle(message.receiptHandle()));
            JsonNode job = getJob(j.getKey());
            assertThat(job.get("state").asText()).isEqualTo("failed");
            assertThat(job.get("error").asText()).startsWith(j.getValue().equals("mirror")
                    ? "malformed payload of mirror job" : "unknown job kind \"sweep-v9\"");
        }
        assertThat(requests.seen).isEmpty();
    }

    /** Receives one message from the copy queue, runs it through the CopyWorker, deletes it; returns its job id. */
    private String runOneMessage() throws Exception {
        Message message = aws.receiveOne(aws.queueUrl);
        SQSBatchResponse done = worker.handleRequest(AwsFixture.sqsEvent(message), null);
        assertThat(done.getBatchItemFailures()).isEmpty();
        aws.sqs.deleteMessage(b -> b.queueUrl(aws.queueUrl).receiptHandle(message.receiptHandle()));
        return SqsJobQueue.jobIdOf(message.body());
    }

    private List<String> history(String repository, String tag) {
        return wiring.storage().tagIndex().tagHistory(repository, tag, 10, null).items().stream()
                .map(TagEvent::cause).toList();
    }

    private JsonNode getJob(String jobId) throws Exception {
        ObjectNode event = (ObjectNode) JSON.readTree(AwsFixture.eventJson("job-get.json"));
        event.put("rawPath", "/v1/jobs/" + jobId);
        APIGatewayV2HTTPResponse r = api.handleRequest(
                AwsFixture.eventFromJson(event.toString(), APIGatewayV2HTTPEvent.class), null);
        assertThat(r.getStatusCode()).isEqualTo(200);
        return JSON.readTree(r.getBody());
    }



    private static AttributeValue s(String v) {
        return AttributeValue.fromS(v);
    }

    private static String hex(String digest) {
        return digest.substring("sha256:".length());
    }
}
