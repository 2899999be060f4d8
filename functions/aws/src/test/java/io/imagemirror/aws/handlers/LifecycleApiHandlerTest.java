package io.imagemirror.aws.handlers;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import com.amazonaws.services.lambda.runtime.events.ScheduledEvent;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.imagemirror.aws.AwsFixture;
import io.imagemirror.aws.AwsWiring;
import io.imagemirror.oci.Digest;
import io.imagemirror.oci.MediaTypes;
import io.imagemirror.store.BlobRef;
import io.imagemirror.store.ManifestRecord;
import io.imagemirror.store.Storage;
import io.imagemirror.store.TagEvent;
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

/**
 * {@code POST /v1/prune} and {@code DELETE /v1/images/<ref>} on the MirrorApi function over s3proxy +
 * dynoxide, fed the sample events: they untag and delete records only (the function may not delete
 * objects); the Sweeper function's next run deletes the bytes, manifest bytes included.
 */
class LifecycleApiHandlerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String REPO = "docker.io/library/golftrack";

    AwsFixture aws;
    AwsWiring wiring;
    MirrorApiHandler api;

    @BeforeEach
    void start() throws Exception {
        aws = new AwsFixture("lifecycle");
        wiring = AwsWiring.fromEnvironment(aws.functionEnv("""
                {"sweep": {"grace": "0s", "retention": [
                  {"repositories": "docker.io/library/golftrack", "keepLatest": 1, "order": "semver"}]}}"""),
                RegistryClient.defaultHttpClient(), Clock.systemUTC());
        api = new MirrorApiHandler(wiring.jobs(), wiring.names(), wiring.rules(), wiring.storage(),
                wiring.config().sweep());
    }

    @AfterEach
    void stop() {
        wiring.close();
        aws.close();
    }

    /** Stored and recorded as a mirror leaves it: blob bytes and records, manifest bytes and record. */
    private ManifestRecord image(String name) throws Exception {
        Storage s = wiring.storage();
        List<BlobRef> refs = new ArrayList<>();
        for (String b : List.of("config " + name, "layer " + name)) {
            byte[] bytes = b.getBytes(StandardCharsets.UTF_8);
            Digest d = Digest.sha256(bytes);
            s.blobIndex().createBlobRecord(d, bytes.length);
            s.blobs().put(d, bytes.length, new ByteArrayInputStream(bytes));
            refs.add(new BlobRef(d, bytes.length));
        }
        byte[] raw = ("{\"manifest\": \"" + name + "\"}").getBytes(StandardCharsets.UTF_8);
        Digest m = Digest.sha256(raw);
        s.blobIndex().createBlobRecord(m, raw.length);
        s.manifests().put(m, raw.length, new ByteArrayInputStream(raw));
        ManifestRecord r = new ManifestRecord(REPO, m, MediaTypes.OCI_MANIFEST, raw.length, refs.get(0).digest(), refs,
                List.of(), null, null, null, Map.of(), Clock.systemUTC().instant(), null, 0);
        s.manifestIndex().putManifest(r);
        return r;
    }

    private boolean bytesStored(ManifestRecord r) {
        Storage s = wiring.storage();
        return s.manifests().exists(r.digest()) && r.blobDigests().stream().allMatch(s.blobs()::exists);
    }

    private boolean bytesGone(ManifestRecord r) {
        Storage s = wiring.storage();
        return !s.manifests().exists(r.digest()) && r.blobDigests().stream().noneMatch(s.blobs()::exists);
    }

    private JsonNode call(String file, String body) throws Exception {
        ObjectNode e = (ObjectNode) JSON.readTree(AwsFixture.eventJson(file));
        if (body != null) {
            e.put("body", body);
            ((ObjectNode) e.get("headers")).put("content-length", String.valueOf(body.length()));
        }
        APIGatewayV2HTTPResponse r = api.handleRequest(AwsFixture.eventFromJson(e.toString(),
                APIGatewayV2HTTPEvent.class), null);
        assertThat(r.getStatusCode()).as(r.getBody()).isEqualTo(200);
        return JSON.readTree(r.getBody());
    }

    private static List<String> listed(JsonNode answer, String kind) {
        List<String> out = new ArrayList<>();
        answer.get("deleted").forEach(d -> {
            if (d.get("kind").asText().equals(kind)) {
                out.add(kind.equals("tag") ? d.get("tag").asText() : d.get("digest").asText());
            }
        });
        return out;
    }

    @Test
    void pruneAndRmOnTheApiDeleteRecordsOnlyAndTheSweeperTakesTheBytes() throws Exception {
        Storage s = wiring.storage();
        ManifestRecord dangling = image("dangling");
        ManifestRecord v13 = image("1.3");
        ManifestRecord v14 = image("1.4");
        ManifestRecord v15 = image("1.5");
        s.tagIndex().setTag(REPO, "1.3", null, v13.digest(), "api");
        s.tagIndex().setTag(REPO, "1.4", null, v14.digest(), "api");
        s.tagIndex().setTag(REPO, "1.5", null, v15.digest(), "api");

        // the sample event: dangling manifests now (grace 0s); records only, bytes left
        JsonNode pruned = call("prune-post.json", null);
        assertThat(listed(pruned, "manifest")).containsExactly(dangling.digest().toString());
        assertThat(listed(pruned, "tag")).as("retention only with all (or on the schedule)").isEmpty();
        assertThat(listed(pruned, "blob")).isEmpty();
        assertThat(pruned.get("blobs").asText()).contains("Sweeper");
        assertThat(s.manifestIndex().getManifest(REPO, dangling.digest())).isEmpty();
        assertThat(bytesStored(dangling)).isTrue();

        // --all: retention (keepLatest 1 by semver) untags 1.3 and 1.4, their records go at once
        JsonNode all = call("prune-post.json", "{\"all\": true, \"grace\": \"0s\"}");
        assertThat(listed(all, "tag")).containsExactlyInAnyOrder("1.3", "1.4");
        assertThat(listed(all, "manifest")).containsExactlyInAnyOrder(v13.digest().toString(),
                v14.digest().toString());
        assertThat(s.tagIndex().tagHistory(REPO, "1.3", 10, null).items()).first().extracting(TagEvent::cause)
                .isEqualTo("retention");
        assertThat(bytesStored(v13)).isTrue();
        assertThat(bytesStored(v14)).isTrue();

        // the sample DELETE untags golftrack:1.5 (history kept)
        JsonNode rm = call("image-delete.json", null);
        assertThat(rm.get("untagged").get(0).asText()).isEqualTo(REPO + ":1.5");
        assertThat(s.tagIndex().getTag(REPO, "1.5")).isEmpty();

        // the Sweeper's next run deletes the bytes, manifest bytes included, and the untagged 1.5 (grace 0)
        String done = new SweeperHandler(wiring, 2).handleRequest(AwsFixture.event("sweeper-schedule.json",
                ScheduledEvent.class), null);
        assertThat(done).contains("done: 1 manifests");
        for (ManifestRecord r : List.of(dangling, v13, v14, v15)) {
            assertThat(bytesGone(r)).as("bytes of " + r.digest()).isTrue();
        }
    }
}
