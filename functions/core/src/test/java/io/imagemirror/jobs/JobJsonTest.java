package io.imagemirror.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.imagemirror.mirror.BlobOutcome;
import io.imagemirror.mirror.MirrorResult;
import io.imagemirror.oci.Digest;
import io.imagemirror.oci.Platform;
import io.imagemirror.reference.ImageReference;
import io.imagemirror.reference.RepositoryName;
import io.imagemirror.store.Cause;
import io.imagemirror.store.Job;
import io.imagemirror.upstream.Prefetch;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class JobJsonTest {

    static final Instant NOW = Instant.parse("2026-12-01T10:00:00Z");

    static Job stored(JobRequest r) {
        return Job.queued("j", r.kind(), JobJson.payload(r), NOW, NOW.plusSeconds(60));
    }

    @Test
    void eachKindRoundTripsWithEveryFieldAndTheKindOnlyInJobKind() throws Exception {
        MirrorImage mirror = new MirrorImage(ImageReference.parse("alpine:3.20"),
                List.of(Platform.parse("linux/arm64/v8")), true, true, true, Cause.CLI);
        Digest stored = Digest.parse("sha256:" + "a".repeat(64));
        PullThroughRecording pulled = new PullThroughRecording(ImageReference.parse("ghcr.io/org/app@" + stored),
                RepositoryName.parse("ghcr.io/org/app"), stored);
        PullThroughRecording child = new PullThroughRecording(null, RepositoryName.parse("ghcr.io/org/app"), stored);
        PullThroughRecording pulledChild = new PullThroughRecording(null, RepositoryName.parse("ghcr.io/org/app"),
                stored, Digest.parse("sha256:" + "b".repeat(64)), Prefetch.PULLED);
        for (JobRequest r : List.of(mirror, pulled, child, pulledChild)) {
            Job job = stored(r);
            assertThat(job.request()).doesNotContain("\"kind\"");
            assertThat(JobJson.request(job)).isEqualTo(r);
        }
        assertThat(stored(mirror).kind()).isEqualTo("mirror");
        assertThat(new ObjectMapper().readTree(stored(mirror).request())).isEqualTo(new ObjectMapper().readTree(
                "{\"image\":\"docker.io/library/alpine:3.20\",\"platforms\":[\"linux/arm64/v8\"],\"allTags\":true,"
                        + "\"referrers\":true,\"includeNonDistributable\":true,\"cause\":\"cli\"}"));
        assertThat(stored(pulled).kind()).isEqualTo("pull-through");
        assertThat(pulled.toMirrorRequest()).hasValueSatisfying(m -> assertThat(m.cause()).isEqualTo(Cause.PULL_THROUGH));
        assertThat(child.toMirrorRequest()).isEmpty();
        assertThat(new ObjectMapper().readTree(stored(pulled).request())).isEqualTo(new ObjectMapper().readTree(
                "{\"image\":\"ghcr.io/org/app@" + stored + "\",\"repository\":\"ghcr.io/org/app\",\"stored\":\""
                        + stored + "\",\"index\":null,\"prefetch\":\"all\"}"));
        assertThat(new ObjectMapper().readTree(stored(pulledChild).request()).get("prefetch").asText())
                .isEqualTo("pulled");
        // a payload of an earlier release (no index, no prefetch) fetches every platform, as it did then
        assertThat(JobJson.request(Job.queued("j", "pull-through", "{\"image\":null,\"repository\":"
                + "\"ghcr.io/org/app\",\"stored\":\"" + stored + "\"}", NOW, NOW))).isEqualTo(child);
    }

    @Test
    void theKindComesFromJobKindAlone() throws Exception {
        Job job = stored(new PullThroughRecording(ImageReference.parse("alpine:1"),
                RepositoryName.parse("docker.io/library/alpine"), Digest.sha256("m".getBytes())));
        // A "kind" smuggled into the payload does not override the job's.
        Job tampered = Job.queued("j", job.kind(), job.request().replace("{", "{\"kind\":\"mirror\","), NOW,
                NOW.plusSeconds(60));
        assertThat(JobJson.request(tampered)).isInstanceOf(PullThroughRecording.class);
    }

    @Test
    void unknownKindsAndMalformedPayloadsAreInvalidJobs() {
        assertThatThrownBy(() -> JobJson.request(Job.queued("j", "sweep", "{}", NOW, NOW)))
                .isInstanceOf(InvalidJobException.class).hasMessageStartingWith("unknown job kind \"sweep\"");
        String ok = "\"image\":\"alpine:1\",\"cause\":\"api\"";
        for (String bad : new String[] {"", "nope", "[]", "null", "{" + ok + "} trailing", "{" + ok + ",\"allTags\":\"yes\"}",
"{" + ok + ",\"platforms\":[\"linux\"]}", "{\"cause\":\"api\"}", "{\"image\":42,\"cause\":\"api\"}", "{" + ok + ",\"platforms\":[7]}",
                "{\"image\":\"UPPER:1\",\"cause\":\"api\"}", "{" + ok + ",\"extra\":1}"}) {
            assertThatThrownBy(() -> JobJson.request(Job.queued("j", "mirror", bad, NOW, NOW))).as(bad)
                    .isInstanceOf(InvalidJobException.class).hasMessageStartingWith("malformed payload of mirror job");
        }
    }

    @Test
    void theResultIsTypedByTheKindAndKeepsTheShapeTheCliPrints() throws Exception {
        Digest manifest = Digest.sha256("m".getBytes());
        Digest layer = Digest.sha256("l".getBytes());
        MirrorResult run = new MirrorResult(List.of(new MirrorResult.Image("docker.io/library/alpine:1", manifest,
                "application/vnd.oci.image.manifest.v1+json", false, null, List.of(manifest),
                List.of(new BlobOutcome(layer, 10, BlobOutcome.Status.COPIED, 10)))), Duration.ofMillis(1500));
        MirrorJobResult result = MirrorJobResult.of(run);
        Job done = stored(new MirrorImage(ImageReference.parse("alpine:1"), List.of(), false, false, false, Cause.API))
                .succeeded(JobJson.result(result), NOW);

        assertThat(JobJson.result(done)).hasValue(result);
        assertThat(new ObjectMapper().readTree(done.result())).isEqualTo(new ObjectMapper().readTree(
                "{\"images\":[{\"reference\":\"docker.io/library/alpine:1\",\"digest\":\"" + manifest + "\","
                        + "\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"upToDate\":false,"
                        + "\"previousDigest\":null,\"manifests\":[\"" + manifest + "\"],\"blobs\":[{\"digest\":\""
                        + layer + "\",\"size\":10,\"status\":\"COPIED\",\"bytesCopied\":10}],\"bytesCopied\":10,"
                        + "\"bytesReused\":0}],\"bytesCopied\":10,\"bytesReused\":0,\"durationMs\":1500}"));
    }
}
