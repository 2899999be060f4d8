package io.imagemirror.aws.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.imagemirror.metrics.Meter;
import io.imagemirror.testbed.TestBed;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The EMF lines parse as JSON, in the ImageMirror namespace, with the names docs/operations.md documents. */
class EmfMetricsTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void everyMeterBecomesADocumentedMetricWithItsTagsAsDimensions() throws Exception {
        CapturedEmf out = new CapturedEmf();
        EmfMetrics metrics = new EmfMetrics(() -> out);
        for (Meter m : Meter.values()) {
            String[] tags = m.tags().stream().map(t -> "x").toArray(String[]::new);
            switch (m.kind()) {
                case COUNTER -> {
                    metrics.add(m, 2, tags);
                    metrics.add(m, 3, tags);
                }
                case TIMER -> {
                    metrics.observe(m, 0.25, tags);
                    metrics.observe(m, 0.5, tags);
                }
                case GAUGE -> {
                    metrics.set(m, 7, tags);
                    metrics.set(m, 5, tags);
                }
            }
        }
        metrics.flush("req-1");

        String doc = Files.readString(TestBed.repoRoot().resolve("docs/operations.md"));
        List<String> seen = new ArrayList<>();
        for (String line : out.lines) {
            JsonNode root = JSON.readTree(line);
            assertThat(root.path("requestId").asText()).isEqualTo("req-1");
            JsonNode directive = root.path("_aws").path("CloudWatchMetrics").get(0);
            assertThat(directive.path("Namespace").asText()).isEqualTo("ImageMirror");
            for (JsonNode metric : directive.path("Metrics")) {
                String name = metric.path("Name").asText();
                Meter meter = java.util.Arrays.stream(Meter.values()).filter(x -> x.key().equals(name)).findFirst()
                        .orElseThrow(() -> new AssertionError("not a meter: " + name));
                seen.add(name);
                assertThat(doc).as("docs/operations.md documents " + name).contains("`" + name + "`");
                List<String> dims = new ArrayList<>();
                directive.path("Dimensions").get(0).forEach(d -> dims.add(d.asText()));
                assertThat(dims).containsExactlyInAnyOrderElementsOf(meter.tags());
                JsonNode value = root.path(name);
                switch (meter.kind()) {
                    case COUNTER -> assertThat(value.asDouble()).isEqualTo(5.0);
                    case TIMER -> assertThat(value).hasSize(2);
                    case GAUGE -> assertThat(value.asDouble()).isEqualTo(5.0);
                }
            }
        }
        assertThat(seen).containsExactlyInAnyOrderElementsOf(
                java.util.Arrays.stream(Meter.values()).map(Meter::key).toList());

        out.lines.clear();
        metrics.flush("req-2");
        assertThat(out.lines).as("a flush forgets what it wrote").isEmpty();
    }

    @Test
    void moreThanAHundredValuesGoOnSeveralLines() throws Exception {
        CapturedEmf out = new CapturedEmf();
        EmfMetrics metrics = new EmfMetrics(() -> out);
        for (int i = 0; i < 250; i++) {
            metrics.observe(Meter.HTTP_REQUESTS, i / 1000.0, "v2.blobs", "GET", "307");
        }
        metrics.flush(null);
        int values = 0;
        for (String line : out.lines) {
            JsonNode v = JSON.readTree(line).path("http.requests");
            assertThat(v.size()).isLessThanOrEqualTo(EmfMetrics.MAX_VALUES);
            values += v.size();
        }
        assertThat(out.lines).hasSize(3);
        assertThat(values).isEqualTo(250);
    }
}
