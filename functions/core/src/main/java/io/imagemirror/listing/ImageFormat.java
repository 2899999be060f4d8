package io.imagemirror.listing;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.imagemirror.oci.EchoedInput;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * How {@code image-mirror images} prints its rows, with docker's {@code --format} language for
 * what a mirror listing has: {@code table} (aligned columns with a header), a template of fields
 * ({@code {{.Repository}}:{{.Tag}}}), {@code json} (one object per line), or {@code -q} (IDs only).
 * A template holds text and actions {@code {{.Field}}}, {@code {{json .}}} and
 * {@code {{json .Field}}}; {@code \t} and {@code \n} in it are a tab and a newline, as in docker.
 *
 * <p>Output streams: a table fixes its column widths from its first {@value #TABLE_WINDOW} rows
 * (a wider cell later only pushes its own line), so a listing of any length starts printing at
 * once and holds memory flat. Not thread-safe; one {@link Printer} per listing.
 */
public final class ImageFormat {

    /** Rows a table looks at before it fixes its column widths. */
    public static final int TABLE_WINDOW = 200;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final DateTimeFormatter CREATED_AT =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss Z 'UTC'", Locale.ROOT).withZone(ZoneOffset.UTC);

    /** A field a template can name, with the header docker gives its column. */
    private enum Field {
        Repository("REPOSITORY"),
        Tag("TAG"),
        Digest("DIGEST"),
        ID("IMAGE ID"),
        CreatedSince("CREATED"),
        CreatedAt("CREATED AT"),
        Size("SIZE");

        final String header;

        Field(String header) {
            this.header = header;
        }
    }

    /** One piece of a template: text, a field, or JSON of a field or of the whole row. */
    private record Part(String text, Field field, boolean json) {
    }

    private final boolean table;
    private final boolean quiet;
    private final boolean noTrunc;
    private final List<Part> parts;

    private ImageFormat(boolean table, boolean quiet, boolean noTrunc, List<Part> parts) {
        this.table = table;
        this.quiet = quiet;
        this.noTrunc = noTrunc;
        this.parts = parts;
    }

    /**
     * The format for these options.
     *
     * @param format {@code --format}, or null for the default table
     * @param digests {@code --digests}: the default table gets a DIGEST column
     * @param quiet {@code -q}: IDs only (the format is then ignored, as docker does)
     * @param noTrunc {@code --no-trunc}: full image IDs
     * @throws InvalidFilterException for a template that does not parse or names an unknown field
     */
    public static ImageFormat of(String format, boolean digests, boolean quiet, boolean noTrunc) {
        if (quiet) {
            return new ImageFormat(false, true, noTrunc, List.of(new Part(null, Field.ID, false)));
        }
        String f = format == null ? "" : format.trim();
        if (f.isEmpty() || f.equals("table")) {
            f = "table {{.Repository}}\\t{{.Tag}}\\t" + (digests ? "{{.Digest}}\\t" : "")
                    + "{{.ID}}\\t{{.CreatedSince}}\\t{{.Size}}";
        }
        if (f.equals("json")) {
            return new ImageFormat(false, false, noTrunc, List.of(new Part(null, null, true)));
        }
        boolean table = f.startsWith("table ") || f.startsWith("table\t");
        String template = table ? f.substring("table".length()).trim() : f;
        return new ImageFormat(table, false, noTrunc, parse(template));
    }

    private static List<Part> parse(String template) {
        return TemplateText.split(template, t -> new Part(t, null, false), ImageFormat::action);
    }

    private static Part action(String action) {
        String a = action;
        boolean json = false;
        if (a.startsWith("json ") || a.equals("json")) {
            json = true;
            a = a.substring(4).trim();
        }
        if (json && a.equals(".")) {
            return new Part(null, null, true);
        }
        if (!a.startsWith(".") || a.length() < 2) {
            throw new InvalidFilterException("bad format: unsupported action {{" + EchoedInput.of(action)
                    + "}} (use {{.Field}}, {{json .}} or {{json .Field}})");
        }
        String name = a.substring(1);
        for (Field f : Field.values()) {
            if (f.name().equals(name)) {
                return new Part(null, f, json);
            }
        }
        throw new InvalidFilterException("bad format: unknown field ." + EchoedInput.of(name)
                + " (known: .Repository .Tag .Digest .ID .CreatedSince .CreatedAt .Size)");
    }

    /** A printer of rows to {@code out}; ages are measured against {@code clock}. */
    public Printer printer(Appendable out, Clock clock) {
        return new Printer(out, clock);
    }

    /** Prints rows as they come; {@link #finish} prints what a table still holds. */
    public final class Printer {
        private final Appendable out;
        private final Clock clock;
        private final List<String[]> window = new ArrayList<>();
        private int[] widths;

        private Printer(Appendable out, Clock clock) {
            this.out = out;
            this.clock = clock;
            if (table) {
                window.add(parts.stream().map(p -> p.field() != null ? p.field().header
                        : p.json() ? "JSON" : p.text()).toArray(String[]::new));
            }
        }

        /** Prints (or, for a table's first rows, holds) one row. */
        public void row(ImageRow row) {
            Function<Field, String> value = f -> value(f, row);
            if (!table) {
                StringBuilder line = new StringBuilder();
                for (Part p : parts) {
                    line.append(render(p, row, value));
                }
                write(line.append('\n').toString());
                return;
            }
            String[] cells = parts.stream().map(p -> render(p, row, value)).toArray(String[]::new);
            if (widths == null) {
                window.add(cells);
                if (window.size() > TABLE_WINDOW) {
                    flushWindow();
                }
            } else {
                write(line(cells));
            }
        }

        /** Prints what is held; call once after the last row. */
        public void finish() {
            if (table && widths == null) {
                flushWindow();
            }
        }

        private void flushWindow() {
            // Cells are separated where the template has a tab; columns are the cells between tabs.
            List<List<String>> lines = new ArrayList<>();
            for (String[] cells : window) {
                lines.add(columns(cells));
            }
            int n = lines.stream().mapToInt(List::size).max().orElse(0);
            widths = new int[n];
            for (List<String> cols : lines) {
                for (int c = 0; c < cols.size() - 1; c++) {
                    // As docker's tabwriter: at least 10 wide, 3 spaces of padding.
                    widths[c] = Math.max(widths[c], Math.max(10, cols.get(c).length() + 3));
                }
            }
            for (String[] cells : window) {
                write(line(cells));
            }
            window.clear();
        }

        private String line(String[] cells) {
            List<String> cols = columns(cells);
            StringBuilder b = new StringBuilder();
            for (int c = 0; c < cols.size(); c++) {
                String s = cols.get(c);
                b.append(s);
                if (c < cols.size() - 1) {
                    int w = c < widths.length ? widths[c] : 0;
                    b.append(" ".repeat(Math.max(3, w - s.length())));
                }
            }
            return b.append('\n').toString();
        }

        private List<String> columns(String[] cells) {
            return List.of(String.join("", cells).split("\t", -1));
        }

        private String value(Field f, ImageRow row) {
            return switch (f) {
                case Repository -> row.repository();
                case Tag -> row.tag() == null ? "<none>" : row.tag();
                case Digest -> row.digest().toString();
                case ID -> noTrunc ? row.id().toString() : row.id().hex().substring(0, 12);
                case CreatedSince -> row.created() == null ? "N/A"
                        : HumanUnits.duration(Duration.between(row.created(), clock.instant())) + " ago";
                case CreatedAt -> row.created() == null ? "N/A" : CREATED_AT.format(row.created());
                case Size -> HumanUnits.size(row.size());
            };
        }

        private String render(Part p, ImageRow row, Function<Field, String> value) {
            if (p.text() != null) {
                return p.text();
            }
            if (!p.json()) {
                return value.apply(p.field());
            }
            try {
                if (p.field() != null) {
                    return JSON.writeValueAsString(value.apply(p.field()));
                }
                Map<String, String> all = new LinkedHashMap<>();
                for (Field f : Field.values()) {
                    all.put(f.name(), value.apply(f));
                }
                return JSON.writeValueAsString(all);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("strings always serialize", e);
            }
        }

        private void write(String s) {
            try {
                out.append(s);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
