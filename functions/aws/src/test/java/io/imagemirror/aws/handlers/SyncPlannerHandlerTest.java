package io.imagemirror.aws.handlers;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.imagemirror.aws.AwsFixture;
import io.imagemirror.aws.AwsWithUpstream;
import io.imagemirror.aws.AwsWiring;
import io.imagemirror.mirror.UpstreamRequestCounter;
import io.imagemirror.sync.SyncRules;
import io.imagemirror.sync.SyncRun;
import io.imagemirror.testbed.LocalRegistry;
import io.imagemirror.testbed.TestImage;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * The AWS path of a sync rule over s3proxy + dynoxide + ElasticMQ: the sample scheduled event →
 * SyncPlanner → copy queue → CopyWorker → objects in the bucket, and the run recorded in the table.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SyncPlannerHandlerTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;

    LocalRegistry upstream;
    AwsFixture aws;
    AwsWiring wiring;
    AwsWithUpstream env;
    UpstreamRequestCounter requests = new UpstreamRequestCounter();

    @BeforeAll
    void start() {
        env = AwsWithUpstream.start(tmp, "syncplan", null, requests);
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
    void scheduledEventRunsTheDueRuleAndTheWorkerCopiesItsTags() throws Exception {
        TestImage v1 = TestImage.builder(61).layer(2000).build();
        TestImage v2 = TestImage.builder(62).layer(3000).build();
        upstream.pusher().pushImage("library/busybox", "1.36", v1);
        upstream.pusher().pushImage("library/busybox", "1.37", v2);
        upstream.pusher().pushImage("library/busybox", "musl", TestImage.builder(63).build());
        SyncRules rules = wiring.rules();
        rules.put(rules.parse(JSON.readTree(
                "{\"name\":\"busybox\",\"source\":\"busybox\",\"schedule\":\"rate(1 hour)\",\"tags\":{\"semver\":\">=1\"}}")));

        SyncPlannerHandler planner = new SyncPlannerHandler(wiring.planner());
        @SuppressWarnings("unchecked")
        Map<String, Object> event = JSON.readValue(AwsFixture.eventJson("sync-planner-scheduled.json"), Map.class);
        String summary = planner.handleRequest(event, null);
        assertThat(summary).isEqualTo("1 rule(s) run, 2 copy job(s) queued, 0 tag(s) failed");

        CopyWorkerHandler worker = new CopyWorkerHandler(wiring.jobs());
        for (int i = 0; i < 2; i++) {
            Message m = aws.receiveOne();
            SQSBatchResponse done = worker.handleRequest(AwsFixture.sqsEvent(m), null);
            assertThat(done.getBatchItemFailures()).isEmpty();
            aws.sqs.deleteMessage(b -> b.queueUrl(aws.queueUrl).receiptHandle(m.receiptHandle()));
        }
        for (TestImage img : List.of(v1, v2)) {
            assertThat(aws.keys("manifests/")).contains("manifests/sha256/" + img.digest().substring(7));
            for (TestImage.Blob blob : img.blobs()) {
                assertThat(aws.keys("blobs/")).contains("blobs/sha256/" + blob.digest().substring(7));
            }
        }
        List<SyncRun> runs = rules.runs("busybox", 10);
        assertThat(runs).hasSize(1);
        assertThat(runs.get(0).changed()).containsExactlyInAnyOrder("1.36", "1.37");
        assertThat(rules.runsWithJobs("busybox").get(0).get("jobsFinished").asInt()).isEqualTo(2);
        assertThat(rules.runsWithJobs("busybox").get(0).get("bytesCopied").asLong()).isPositive();

        // Not due again within the hour: a second tick runs nothing and contacts no upstream.
        requests.reset();
        assertThat(planner.handleRequest(event, null)).startsWith("0 rule(s) run");
        assertThat(requests.seen).isEmpty();
    }


}
