package io.imagemirror.listing;

import com.fasterxml.jackson.databind.JsonNode;
import io.imagemirror.oci.EchoedInput;
import java.util.List;

/**
 * docker's {@code --format} for {@code inspect}, over a JSON document: text with actions
 * {@code {{.field}}}, {@code {{.field.sub}}}, {@code {{json .field}}} and {@code {{json .}}};
 * {@code \t} and {@code \n} are a tab and a newline. A field missing from the document prints
 * {@code <no value>}, as Go's templates print it. Immutable.
 */
public final class JsonTemplate {

    private record Part(String text, List<String> path, boolean json) {
    }

    private final List<Part> parts;

    private JsonTemplate(List<Part> parts) {
        this.parts = parts;
    }

    /**
     * Parses a template.
     *
     * @throws InvalidFilterException for an unclosed or unsupported action, naming it
     */
    public static JsonTemplate parse(String template) {
        return new JsonTemplate(TemplateText.split(template, t -> new Part(t, null, false), JsonTemplate::action));
    }

    private static Part action(String action) {
        String a = action;
        boolean json = false;
        if (a.equals("json") || a.startsWith("json ")) {
            json = true;
            a = a.substring(4).trim();
        }
        if (!a.startsWith(".") || (!json && a.equals("."))
                || !a.matches("\\.|(\\.[A-Za-z_][A-Za-z0-9_]*)+")) {
            throw new InvalidFilterException("bad format: unsupported action {{" + EchoedInput.of(action)
                    + "}} (use {{.field}}, {{.field.sub}}, {{json .}} or {{json .field}})");
        }
        List<String> path = a.equals(".") ? List.of() : List.of(a.substring(1).split("\\."));
        return new Part(null, path, json);
    }

    /** The template applied to {@code doc}. */
    public String apply(JsonNode doc) {
        StringBuilder b = new StringBuilder();
        for (Part p : parts) {
            if (p.text() != null) {
                b.append(p.text());
                continue;
            }
            JsonNode n = doc;
            for (String f : p.path()) {
                n = n == null ? null : n.get(f);
            }
            if (p.json()) {
                b.append(n == null ? "null" : n.toString());
            } else if (n == null) {
                b.append("<no value>");
            } else if (n.isValueNode()) {
                b.append(n.isNull() ? "<nil>" : n.asText());
            } else {
                b.append(n);
            }
        }
        return b.toString();
    }
}
