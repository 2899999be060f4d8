package io.imagemirror.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imagemirror.metrics.Meter;
import io.imagemirror.metrics.RecordingMetrics;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MeteredApiTest {

    @Test
    void routesAreAFixedSetOfNamesNeverThePath() {
        assertThat(MeteredApi.route("/v2/")).isEqualTo("v2.base");
        assertThat(MeteredApi.route("/v2")).isEqualTo("v2.base");
        assertThat(MeteredApi.route("/v2/_catalog")).isEqualTo("v2.catalog");
        assertThat(MeteredApi.route("/v2/library/alpine/manifests/3.20")).isEqualTo("v2.manifests");
        assertThat(MeteredApi.route("/v2/a/b/c/blobs/sha256:00")).isEqualTo("v2.blobs");
        assertThat(MeteredApi.route("/v2/blobs/manifests/x")).isEqualTo("v2.manifests");
        assertThat(MeteredApi.route("/v2/alpine/tags/list")).isEqualTo("v2.tags");
        assertThat(MeteredApi.route("/v2/alpine/referrers/sha256:00")).isEqualTo("v2.referrers");
        assertThat(MeteredApi.route("/v2/whatever")).isEqualTo("v2.other");
        assertThat(MeteredApi.route("/v1/mirror")).isEqualTo("v1.mirror");
        assertThat(MeteredApi.route("/v1/jobs/123")).isEqualTo("v1.jobs");
        assertThat(MeteredApi.route("/v1/images/alpine/history")).isEqualTo("v1.images");
        assertThat(MeteredApi.route("/v1/secret-path-a")).isEqualTo("v1.other");
        assertThat(MeteredApi.route("/ui/app.js")).isEqualTo("ui");
        assertThat(MeteredApi.route("/etc/passwd")).isEqualTo("other");
    }

    @Test
    void countsByRouteMethodAndStatusAndAThrowIsA500() throws Exception {
        RecordingMetrics m = new RecordingMetrics();
        MeteredApi api = new MeteredApi(r -> r.path().contains("boom") ? fail() : ApiResponse.json(404, "{}"), m);
        api.handle(ApiRequest.of("GET", "/v2/x/manifests/1", Map.of()));
        api.handle(ApiRequest.of("GET", "/v2/x/manifests/2", Map.of()));
        api.handle(ApiRequest.of("BREW", "/v2/x/manifests/2", Map.of()));
        assertThatThrownBy(() -> api.handle(ApiRequest.of("GET", "/v2/boom/blobs/sha256:00", Map.of())))
                .hasMessage("boom");
        assertThat(m.observations(Meter.HTTP_REQUESTS, "v2.manifests", "GET", "404")).isEqualTo(2);
        assertThat(m.observations(Meter.HTTP_REQUESTS, "v2.manifests", "other", "404")).isEqualTo(1);
        assertThat(m.observations(Meter.HTTP_REQUESTS, "v2.blobs", "GET", "500")).isEqualTo(1);
    }

    private static ApiResponse fail() {
        throw new IllegalStateException("boom");
    }
}
