package io.imagemirror.aws.handlers;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import io.imagemirror.aws.AwsFixture;
import io.imagemirror.aws.AwsWithUpstream;
import io.imagemirror.aws.AwsWiring;
import io.imagemirror.mirror.UpstreamRequestCounter;
import io.imagemirror.oci.Digest;
import io.imagemirror.store.ChildManifest;
import io.imagemirror.store.ManifestRecord;
import io.imagemirror.store.ManifestReferences;
import io.imagemirror.store.Storage;
import io.imagemirror.testbed.LocalRegistry;
import io.imagemirror.testbed.TestImage;
import io.imagemirror.testbed.TestIndex;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * Fetch only what is pulled (issue 14) on AWS: the Registry handler over s3proxy + dynoxide +
 * ElasticMQ, a real docker-registry playing Docker Hub, and the copy worker running the recording
 * jobs. A pull of one platform of a two-platform index fetches no blob of the other (counted as the
 * requests leave for the upstream); a later pull of the other is fetched and recorded as stored.
 */
class PrefetchPulledAwsTest {

    static final String REPO = "library/multi";
    static final String KEY = "docker.io/library/multi";

    @TempDir
    Path tmp;
    LocalRegistry upstream;
    AwsFixture aws;
    AwsWiring wiring;
    AwsWithUpstream env;
    RegistryHandler registry;
    CopyWorkerHandler worker;
    TestImage amd;
    TestImage arm;
    TestIndex index;
    /** Counted as they leave for the upstream: docker-registry logs a blob GET only after its body is sent. */
    final UpstreamRequestCounter requests = new UpstreamRequestCounter();

    @BeforeEach
    void start() {
        env = AwsWithUpstream.start(tmp, "prefetch", null, requests);
        upstream = env.upstream();
        aws = env.aws();
        wiring = env.wiring();
        registry = new RegistryHandler(wiring.registryApi());
        worker = new CopyWorkerHandler(wiring.jobs());
        amd = TestImage.builder(601).layer(30_000).layer(3_000).build();
        arm = TestImage.builder(602).platform("linux", "arm64", "v8").layer(31_000).layer(3_100).build();
        index = TestIndex.of(TestImage.Format.DOCKER, List.of(amd, arm), false);
        upstream.pusher().pushIndex(REPO, "1", index);
    }

    @AfterEach
    void stop() {
        env.close();
    }

    APIGatewayV2HTTPResponse get(String what) {
        String json = AwsFixture.eventJson("registry-manifest-get.json")
                .replace("library/alpine/manifests/3.20", REPO + "/" + what);
        return registry.handleRequest(AwsFixture.eventFromJson(json, APIGatewayV2HTTPEvent.class), null);
    }

    /** What a client pulling one platform asks for: the index by tag, its child, the child's blobs. */
    void pull(TestImage platform) {
        assertThat(get("manifests/1").getStatusCode()).isEqualTo(200);
        APIGatewayV2HTTPResponse child = get("manifests/" + platform.digest());
        assertThat(child.getStatusCode()).isEqualTo(200);
        assertThat(child.getHeaders()).containsEntry("Docker-Content-Digest", platform.digest());
        for (TestImage.Blob b : platform.blobs()) {
            assertThat(get("blobs/" + b.digest()).getStatusCode()).as(b.digest()).isIn(200, 307);
        }
    }

    /** Runs every job on the copy queue through the worker, as the SQS event source would. */
    int drainQueue() {
        int ran = 0;
        for (int empty = 0; empty < 2; ) {
            List<Message> got = aws.sqs.receiveMessage(b -> b.queueUrl(aws.queueUrl).maxNumberOfMessages(10)
                    .waitTimeSeconds(1)).messages();
            if (got.isEmpty()) {
                empty++;
                continue;
            }
            empty = 0;
            for (Message m : got) {
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
                ran++;
            }
        }
        return ran;
    }

    long upstreamBlobGets(TestImage image) {
        return image.blobs().stream().mapToLong(b -> requests.count("GET", s -> s.path().endsWith("/blobs/" + b.digest())))
                .sum();
    }

    boolean mirrored(ManifestRecord idx, TestImage image) {
        return idx.children().stream().filter(c -> c.digest().toString().equals(image.digest()))
                .map(ChildManifest::mirrored).findFirst().orElseThrow();
    }

    @Test
    void aPullOfOnePlatformFetchesNothingOfTheOtherAndAPullOfTheOtherIsRecorded() {
        Storage storage = wiring.storage();
        pull(amd);
        assertThat(drainQueue()).as("the index's and the child's recordings").isEqualTo(2);

        ManifestRecord idx = storage.manifestIndex().getManifest(KEY, Digest.parse(index.digest())).orElseThrow();
        assertThat(storage.tagIndex().getTag(KEY, "1").orElseThrow().digest().toString()).isEqualTo(index.digest());
        assertThat(mirrored(idx, amd)).isTrue();
        assertThat(mirrored(idx, arm)).as("listed, not stored").isFalse();
        assertThat(storage.manifestIndex().getManifest(KEY, Digest.parse(arm.digest()))).isEmpty();
        assertThat(storage.manifestIndex().referenceCounts(KEY, Digest.parse(amd.digest())))
                .contains(new ManifestReferences.Counts(0, 0, 1));
        assertThat(upstreamBlobGets(amd)).isPositive();
        assertThat(upstreamBlobGets(arm)).as("no blob of the other platform fetched").isZero();
        for (TestImage.Blob b : arm.blobs()) {
            assertThat(aws.keys("blobs/")).doesNotContain("blobs/sha256/" + b.digest().substring(7));
        }

        pull(arm);
        drainQueue();
        idx = storage.manifestIndex().getManifest(KEY, Digest.parse(index.digest())).orElseThrow();
        assertThat(mirrored(idx, arm)).isTrue();
        assertThat(idx.mirroredChildDigests()).hasSize(2);
        assertThat(storage.manifestIndex().referenceCounts(KEY, Digest.parse(arm.digest())))
                .contains(new ManifestReferences.Counts(0, 0, 1));
        for (TestImage.Blob b : arm.blobs()) {
            assertThat(aws.keys("blobs/")).contains("blobs/sha256/" + b.digest().substring(7));
            assertThat(storage.blobIndex().isReferencedIn(Digest.parse(b.digest()), KEY)).isTrue();
        }
    }
}
