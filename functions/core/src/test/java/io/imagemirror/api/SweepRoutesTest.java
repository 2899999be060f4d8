package io.imagemirror.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.imagemirror.cache.NameRouter;
import io.imagemirror.config.MirrorConfig;
import io.imagemirror.jobs.MirrorJobs;
import io.imagemirror.mirror.MirrorListener;
import io.imagemirror.mirror.MirrorRequest;
import io.imagemirror.mirror.MirrorTestBase;
import io.imagemirror.store.Cause;
import io.imagemirror.sweep.SweepConfig;
import io.imagemirror.sweep.SweepService;
import io.imagemirror.testbed.TestImage;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code POST /v1/prune} and {@code GET /v1/sweeps} over the in-memory store and a real upstream. */
class SweepRoutesTest extends MirrorTestBase {

    ApiResponse call(MirrorApi api, String method, String path, String body) throws Exception {
        int q = path.indexOf('?');
        return api.handle(new ApiRequest(method, q < 0 ? path : path.substring(0, q),
                q < 0 ? Map.of() : ApiRequest.parseQuery(path.substring(q + 1)),
                Map.of("Content-Type", List.of("application/json")),
                body == null ? null : new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8)), true));
    }

    static JsonNode json(ApiResponse r) throws Exception {
        return new ObjectMapper().readTree(r.body());
    }

    @Test
    void pruneDryRunListsWhatPruneDeletesAndSweepsShowsIt() throws Exception {
        upstream.pusher().pushImage("api/moved", "1", TestImage.builder(60).layer(3_000).build());
        mirror.mirror(MirrorRequest.of(ref("api/moved:1"), Cause.CLI), MirrorListener.NONE);
        upstream.pusher().pushImage("api/moved", "1", TestImage.builder(61).layer(4_000).build());
        mirror.mirror(MirrorRequest.of(ref("api/moved:1"), Cause.CLI), MirrorListener.NONE);
        MirrorApi api = new MirrorApi(new MirrorJobs(mirror, upstreams, metadata, id -> { }, Clock.systemUTC()),
                new NameRouter(MirrorConfig.defaults()))
                .withSweeps(new SweepService(storage, SweepConfig.DEFAULTS, Clock.systemUTC()));

        JsonNode kept = json(call(api, "POST", "/v1/prune", "{}"));
        assertThat(kept.get("deleted")).isEmpty();

        ApiResponse dry = call(api, "POST", "/v1/prune", "{\"dryRun\":true,\"grace\":\"0s\"}");
        assertThat(dry.status()).isEqualTo(200);
        List<String> wouldDelete = new ArrayList<>();
        json(dry).get("wouldDelete").forEach(e -> wouldDelete.add(e.get("digest").asText()));
        // the old manifest (its record, then its bytes, as a blob), its config and its own layer
        assertThat(wouldDelete).hasSize(4);
        assertThat(json(dry).at("/report/dryRun").asBoolean()).isTrue();

        JsonNode real = json(call(api, "POST", "/v1/prune", "{\"grace\":\"0s\"}"));
        List<String> deleted = new ArrayList<>();
        real.get("deleted").forEach(e -> deleted.add(e.get("digest").asText()));
        assertThat(deleted).containsExactlyInAnyOrderElementsOf(wouldDelete);
        assertThat(real.at("/report/bytesReclaimed").asLong()).isEqualTo(json(dry).at("/report/bytesReclaimed").asLong());

        JsonNode sweeps = json(call(api, "GET", "/v1/sweeps", null));
        assertThat(sweeps.get("sweeps")).hasSize(2); // the two real ones, newest first
        assertThat(sweeps.at("/sweeps/0/manifestsDeleted").asLong()).isEqualTo(1);
        assertThat(sweeps.at("/sweeps/0/blobsDeleted").asLong()).isEqualTo(3);
    }

    @Test
    void badRequestsAreRefusedWithOciErrors() throws Exception {
        MirrorApi api = new MirrorApi(new MirrorJobs(mirror, upstreams, metadata, id -> { }, Clock.systemUTC()),
                new NameRouter(MirrorConfig.defaults()))
                .withSweeps(new SweepService(storage, SweepConfig.DEFAULTS, Clock.systemUTC()));
        assertThat(call(api, "POST", "/v1/prune", "{\"dryrun\":true}").status()).isEqualTo(400);
        assertThat(call(api, "POST", "/v1/prune", "{\"grace\":\"-1h\"}").status()).isEqualTo(400);
        assertThat(call(api, "POST", "/v1/prune", "{\"dryRun\":\"yes\"}").status()).isEqualTo(400);
        assertThat(call(api, "GET", "/v1/prune", null).status()).isEqualTo(405);
        assertThat(call(api, "POST", "/v1/sweeps", "{}").status()).isEqualTo(405);
        assertThat(json(call(api, "POST", "/v1/prune", "[]")).at("/errors/0/code").asText()).isEqualTo("UNKNOWN");
    }

    @Test
    void deleteImagesUntagsOrRefusesWithTheReason() throws Exception {
        TestImage img = TestImage.builder(62).layer(1_000).build();
        upstream.pusher().pushImage("api/rm", "1", img);
        mirror.mirror(MirrorRequest.of(ref("api/rm:1"), Cause.CLI), MirrorListener.NONE);
        MirrorApi api = new MirrorApi(new MirrorJobs(mirror, upstreams, metadata, id -> { }, Clock.systemUTC()),
                new NameRouter(MirrorConfig.defaults()))
                .withSweeps(new SweepService(storage, SweepConfig.DEFAULTS, Clock.systemUTC()));
        String byDigest = "/v1/images/" + upstream.hostPort() + "/api/rm@" + img.digest();
        ApiResponse refused = call(api, "DELETE", byDigest, null);
        assertThat(refused.status()).isEqualTo(409);
        assertThat(json(refused).at("/errors/0/message").asText()).contains("must be forced").contains(":1");
        ApiResponse forced = call(api, "DELETE", byDigest + "?force=true", null);
        assertThat(forced.status()).isEqualTo(200);
        assertThat(json(forced).at("/untagged/0").asText()).endsWith("/api/rm:1");
        assertThat(json(forced).at("/deleted/0").asText()).endsWith("/api/rm@" + img.digest());
        assertThat(call(api, "DELETE", "/v1/images/" + upstream.hostPort() + "/api/rm:1", null).status()).isEqualTo(404);
        assertThat(call(api, "DELETE", "/v1/images/Bad:Name", null).status()).isEqualTo(400);
    }
}
