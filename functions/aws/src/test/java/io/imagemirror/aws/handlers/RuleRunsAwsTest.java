package io.imagemirror.aws.handlers;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.imagemirror.aws.AwsFixture;
import io.imagemirror.aws.AwsWithUpstream;
import io.imagemirror.aws.AwsWiring;
import io.imagemirror.mirror.UpstreamRequestCounter;
import io.imagemirror.sync.SyncRules;
import io.imagemirror.testbed.LocalRegistry;
import io.imagemirror.testbed.TestImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * {@code POST /v1/rules/<name>/runs} on the MirrorApi function over s3proxy + dynoxide + ElasticMQ:
 * the sample event runs the rule through the wiring's planner, the copy jobs go to the queue, the
 * CopyWorker copies them, and a second run with nothing moved upstream only HEADs.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RuleRunsAwsTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;

    LocalRegistry upstream;
    AwsFixture aws;
    AwsWiring wiring;
    AwsWithUpstream env;
    final UpstreamRequestCounter requests = new UpstreamRequestCounter();

    @BeforeAll
    void start() {
        env = AwsWithUpstream.start(tmp, "rulerun", null, requests);
        upstream = env.upstream();
        aws = env.aws();
        wiring = env.wiring();
    }

    @AfterAll
    void stop() {
        if (env != null) {
            env.close();
        }
    }

    @Test
    void theSampleEventRunsTheRuleAndItsJobsGoToTheQueue() throws Exception {
        TestImage v1 = TestImage.builder(81).layer(2000).build();
        TestImage v2 = TestImage.builder(82).layer(3000).build();
        upstream.pusher().pushImage("library/busybox", "1.36", v1);
        upstream.pusher().pushImage("library/busybox", "1.37", v2);
        SyncRules rules = wiring.rules();
        rules.put(rules.parse(JSON.readTree(
                "{\"name\":\"busybox\",\"source\":\"busybox\",\"schedule\":\"rate(1 hour)\"}")));
        MirrorApiHandler api = new MirrorApiHandler(wiring);

        APIGatewayV2HTTPResponse posted = api.handleRequest(
                AwsFixture.event("rule-run-post.json", APIGatewayV2HTTPEvent.class), null);
        assertThat(posted.getStatusCode()).as(posted.getBody()).isEqualTo(201);
        assertThat(posted.getHeaders()).containsEntry("Location", "/v1/rules/busybox/runs");
        JsonNode run = JSON.readTree(posted.getBody());
        assertThat(run.at("/tags/changed").asInt()).isEqualTo(2);
        List<String> jobs = new ArrayList<>();
        run.get("jobs").forEach(j -> jobs.add(j.asText()));
        assertThat(jobs).hasSize(2);

        CopyWorkerHandler worker = new CopyWorkerHandler(wiring.jobs());
        List<String> received = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            Message m = aws.receiveOne();
            received.add(JSON.readTree(m.body()).get("jobId").asText());
            SQSBatchResponse done = worker.handleRequest(AwsFixture.sqsEvent(m), null);
            assertThat(done.getBatchItemFailures()).isEmpty();
            aws.sqs.deleteMessage(b -> b.queueUrl(aws.queueUrl).receiptHandle(m.receiptHandle()));
        }
        assertThat(received).containsExactlyInAnyOrderElementsOf(jobs);
        for (TestImage img : List.of(v1, v2)) {
            assertThat(aws.keys("manifests/")).contains("manifests/sha256/" + img.digest().substring(7));
        }

        requests.reset();
        APIGatewayV2HTTPResponse again = api.handleRequest(
                AwsFixture.event("rule-run-post.json", APIGatewayV2HTTPEvent.class), null);
        assertThat(again.getStatusCode()).as(again.getBody()).isEqualTo(201);
        JsonNode second = JSON.readTree(again.getBody());
        assertThat(second.at("/tags/unchanged").asInt()).isEqualTo(2);
        assertThat(second.get("jobs")).isEmpty();
        assertThat(requests.count("GET", s -> s.isManifest() || s.isBlob())).isZero();
        assertThat(requests.count("HEAD", s -> s.isManifest())).isEqualTo(2);
        assertThat(rules.runsWithJobs("busybox")).hasSize(2);
        assertThat(rules.runsWithJobs("busybox").get(1).get("jobsFinished").asInt()).isEqualTo(2);
    }


}
