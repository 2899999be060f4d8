package io.imagemirror.aws.handlers;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.ClientContext;
import com.amazonaws.services.lambda.runtime.CognitoIdentity;
import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.LambdaLogger;
import com.amazonaws.services.lambda.runtime.events.ScheduledEvent;
import io.imagemirror.aws.AwsFixture;
import io.imagemirror.aws.AwsWiring;
import io.imagemirror.oci.Digest;
import io.imagemirror.oci.MediaTypes;
import io.imagemirror.store.BlobRef;
import io.imagemirror.store.ManifestRecord;
import io.imagemirror.store.Storage;
import io.imagemirror.sweep.SweepRecords;
import io.imagemirror.upstream.RegistryClient;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The scheduled Sweeper function over s3proxy + dynoxide: pages, a checkpoint, and resumption. */
class SweeperHandlerTest {

    AwsFixture aws;
    AwsWiring wiring;

    @BeforeEach
    void start() throws Exception {
        aws = new AwsFixture("sweeper");
        wiring = AwsWiring.fromEnvironment(aws.functionEnv("{\"sweep\": {\"grace\": \"0s\"}}"),
                RegistryClient.defaultHttpClient(), Clock.systemUTC());
    }

    @AfterEach
    void stop() {
        wiring.close();
        aws.close();
    }

    /** An invocation that has time for one page only: the handler must stop and checkpoint after it. */
    static final class OnePage implements Context {
        @Override public String getAwsRequestId() { return "test"; }
        @Override public String getLogGroupName() { return "test"; }
        @Override public String getLogStreamName() { return "test"; }
        @Override public String getFunctionName() { return "Sweeper"; }
        @Override public String getFunctionVersion() { return "1"; }
        @Override public String getInvokedFunctionArn() { return "arn:aws:lambda:test"; }
        @Override public CognitoIdentity getIdentity() { return null; }
        @Override public ClientContext getClientContext() { return null; }
        @Override public int getRemainingTimeInMillis() { return (int) SweeperHandler.MARGIN_MILLIS - 1; }
        @Override public int getMemoryLimitInMB() { return 1024; }
        @Override public LambdaLogger getLogger() { return null; }
    }

    private Digest storedBlob(String content) throws Exception {
        byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
        Digest d = Digest.sha256(bytes);
        Storage s = wiring.storage();
        s.blobs().put(d, bytes.length, new ByteArrayInputStream(bytes));
        s.blobIndex().createBlobRecord(d, bytes.length);
        return d;
    }

    private ManifestRecord image(String repo, String name, Digest... blobs) {
        List<BlobRef> refs = new ArrayList<>();
        for (Digest b : blobs) {
            refs.add(new BlobRef(b, 10));
        }
        return new ManifestRecord(repo, Digest.sha256(("manifest " + name).getBytes(StandardCharsets.UTF_8)),
                MediaTypes.OCI_MANIFEST, 100, blobs[0], refs, List.of(), null, null, null, Map.of(),
                Clock.systemUTC().instant(), null, 0);
    }

    @Test
    void aSweepOfPagesOfTwoCompletesAcrossInvocationsFromItsCheckpoint() throws Exception {
        Storage s = wiring.storage();
        String repo = "registry.test/sweep/app";
        Digest shared = storedBlob("shared layer");
        List<Digest> gone = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            Digest own = storedBlob("own layer " + i);
            gone.add(own);
            ManifestRecord m = image(repo, "old " + i, own, shared);
            s.manifestIndex().putManifest(m);
        }
        Digest kept = storedBlob("kept layer");
        ManifestRecord current = image(repo, "current", kept, shared);
        s.manifestIndex().putManifest(current);
        s.tagIndex().setTag(repo, "1", null, current.digest(), "cli");

        SweeperHandler handler = new SweeperHandler(wiring, 2);
        SweepRecords records = new SweepRecords(s.jobs(), Clock.systemUTC());
        List<String> results = new ArrayList<>();
        int lastPages = 0;
        for (int i = 0; i < 50 && (results.isEmpty() || !results.get(results.size() - 1).contains("done")); i++) {
            results.add(handler.handleRequest(AwsFixture.event("sweeper-schedule.json", ScheduledEvent.class), new OnePage()));
            if (!results.get(results.size() - 1).contains("done")) {
                int pages = records.checkpoint().orElseThrow().pages();
                assertThat(pages).as("each invocation resumes from the saved checkpoint").isEqualTo(lastPages + 1);
                lastPages = pages;
            }
        }
        assertThat(results.size()).as("invocations: %s", results).isGreaterThan(3);
        assertThat(results.get(results.size() - 1)).contains("done: 5 manifests, 5 blobs");
        assertThat(records.checkpoint()).isEmpty();
        assertThat(records.recent(1)).singleElement().satisfies(r -> {
            assertThat(r.manifestsDeleted()).isEqualTo(5);
            assertThat(r.pages()).isEqualTo(results.size());
        });
        for (Digest d : gone) {
            assertThat(s.blobs().exists(d)).as("swept " + d).isFalse();
        }
        assertThat(s.blobs().exists(shared)).isTrue();
        assertThat(s.blobs().exists(kept)).isTrue();
        assertThat(s.manifestIndex().getManifest(repo, current.digest())).isPresent();

        // The next scheduled run starts a new sweep and finds nothing.
        assertThat(handler.handleRequest(new ScheduledEvent(), null)).contains("done: 0 manifests, 0 blobs");
    }
}
