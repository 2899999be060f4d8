package io.imagemirror.listing;

import static io.imagemirror.listing.Rows.row;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ImageFormatTest {

    private final Clock clock = Clock.fixed(Rows.T0, ZoneOffset.UTC);
    private final ImageRow alpine = row("alpine", "3.20", "alpine", 1, 3_623_000, Map.of());
    private final ImageRow golftrack = row("golftrack", "1.5", "golf", 2, 187_400_000, Map.of());
    private final ImageRow untagged = row("golftrack", null, "golf-old", 0, 187_000_000, Map.of());

    private String print(ImageFormat format, List<ImageRow> rows) {
        StringBuilder out = new StringBuilder();
        ImageFormat.Printer p = format.printer(out, clock);
        rows.forEach(p::row);
        p.finish();
        return out.toString();
    }

    @Test
    void theDefaultTableHasDockersColumnsAligned() {
        String out = print(ImageFormat.of(null, false, false, false), List.of(alpine, golftrack, untagged));
        String id = alpine.id().hex().substring(0, 12);
        assertThat(out.lines().toList()).containsExactly(
                "REPOSITORY   TAG       IMAGE ID       CREATED      SIZE",
                "alpine       3.20      " + id + "   3 days ago   3.62MB",
                "golftrack    1.5       " + golftrack.id().hex().substring(0, 12) + "   3 days ago   187MB",
                "golftrack    <none>    " + untagged.id().hex().substring(0, 12) + "   3 days ago   187MB");
    }

    @Test
    void digestsAddAColumnAndNoTruncShowsFullIds() {
        String out = print(ImageFormat.of(null, true, false, true), List.of(alpine));
        assertThat(out.lines().findFirst().orElseThrow()).startsWith("REPOSITORY   TAG       DIGEST");
        assertThat(out).contains(alpine.digest().toString()).contains(alpine.id().toString());
    }

    @Test
    void aTemplatePrintsLineForLine() {
        String out = print(ImageFormat.of("{{.Repository}}:{{.Tag}}", false, false, false),
                List.of(alpine, golftrack, untagged));
        assertThat(out).isEqualTo("alpine:3.20\ngolftrack:1.5\ngolftrack:<none>\n");
        assertThat(print(ImageFormat.of("{{ .ID }}\\t{{.Size}}", false, false, false), List.of(alpine)))
                .isEqualTo(alpine.id().hex().substring(0, 12) + "\t3.62MB\n");
        assertThat(print(ImageFormat.of("{{.CreatedAt}}", false, false, false), List.of(alpine)))
                .isEqualTo("2026-10-29 10:00:00 +0000 UTC\n");
    }

    @Test
    void aTableTemplateGetsHeadersFromItsFields() {
        String out = print(ImageFormat.of("table {{.Repository}}\\t{{.Size}}", false, false, false), List.of(alpine));
        assertThat(out.lines().toList()).containsExactly("REPOSITORY   SIZE", "alpine       3.62MB");
    }

    @Test
    void jsonIsOneParsableObjectPerLine() throws Exception {
        String out = print(ImageFormat.of("json", false, false, false), List.of(alpine, untagged));
        List<String> lines = out.lines().toList();
        assertThat(lines).hasSize(2);
        JsonNode first = new ObjectMapper().readTree(lines.get(0));
        assertThat(first.get("Repository").asText()).isEqualTo("alpine");
        assertThat(first.get("Tag").asText()).isEqualTo("3.20");
        assertThat(first.get("Digest").asText()).isEqualTo(alpine.digest().toString());
        assertThat(first.get("Size").asText()).isEqualTo("3.62MB");
        assertThat(new ObjectMapper().readTree(lines.get(1)).get("Tag").asText()).isEqualTo("<none>");
        assertThat(print(ImageFormat.of("{{json .Tag}}", false, false, false), List.of(alpine))).isEqualTo("\"3.20\"\n");
    }

    @Test
    void quietPrintsIdsOnly() {
        assertThat(print(ImageFormat.of("{{.Tag}}", false, true, false), List.of(alpine, golftrack)))
                .isEqualTo(alpine.id().hex().substring(0, 12) + "\n" + golftrack.id().hex().substring(0, 12) + "\n");
    }

    @Test
    void aLongTableStartsPrintingBeforeItEnds() {
        StringBuilder out = new StringBuilder();
        ImageFormat.Printer p = ImageFormat.of(null, false, false, false).printer(out, clock);
        for (int i = 0; i <= ImageFormat.TABLE_WINDOW; i++) {
            p.row(alpine);
        }
        assertThat(out).isNotEmpty();
        int held = out.length();
        p.row(golftrack);
        assertThat(out.length()).isGreaterThan(held); // later rows are written as they come
        p.finish();
        assertThat(out.toString().lines()).hasSize(ImageFormat.TABLE_WINDOW + 3);
    }

    @Test
    void badTemplatesAreRefusedWithTheReason() {
        assertThatThrownBy(() -> ImageFormat.of("{{.Nope}}", false, false, false))
                .isInstanceOf(InvalidFilterException.class).hasMessageContaining(".Nope");
        assertThatThrownBy(() -> ImageFormat.of("{{.Tag", false, false, false)).hasMessageContaining("unclosed");
        assertThatThrownBy(() -> ImageFormat.of("{{range .}}", false, false, false)).hasMessageContaining("unsupported");
    }
}
