package io.imagemirror.aws;

import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import io.imagemirror.testbed.TestBed;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads a CloudFormation / SAM template, turning the short tags into their long JSON form:
 * {@code !Ref X} → {@code {"Ref": "X"}}, {@code !GetAtt A.B} → {@code {"Fn::GetAtt": ["A", "B"]}},
 * {@code !Sub s} → {@code {"Fn::Sub": "s"}}, and likewise {@code !If}, {@code !Not}, {@code !Equals},
 * {@code !Join}, {@code !Select}, {@code !Condition}.
 */
public final class CloudFormationYaml {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private CloudFormationYaml() {
    }

    /** The repository's {@code template.yaml}. */
    public static JsonNode template() {
        return read(TestBed.repoRoot().resolve("template.yaml"));
    }

    public static JsonNode read(Path file) {
        try (YAMLParser p = (YAMLParser) new YAMLFactory().createParser(file.toFile())) {
            p.nextToken();
            return node(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static JsonNode node(YAMLParser p) throws IOException {
        String tag = p.getTypeId(); // the tag without its "!", read before the value is consumed
        JsonNode value;
        JsonToken t = p.currentToken();
        if (t == JsonToken.START_OBJECT) {
            ObjectNode o = NODES.objectNode();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                p.nextToken();
                o.set(name, node(p));
            }
            value = o;
        } else if (t == JsonToken.START_ARRAY) {
            ArrayNode a = NODES.arrayNode();
            while (p.nextToken() != JsonToken.END_ARRAY) {
                a.add(node(p));
            }
            value = a;
        } else if (t == JsonToken.VALUE_NUMBER_INT) {
            value = NODES.numberNode(p.getLongValue());
        } else if (t == JsonToken.VALUE_NUMBER_FLOAT) {
            value = NODES.numberNode(p.getDecimalValue());
        } else if (t == JsonToken.VALUE_TRUE || t == JsonToken.VALUE_FALSE) {
            value = NODES.booleanNode(t == JsonToken.VALUE_TRUE);
        } else if (t == JsonToken.VALUE_NULL) {
            value = NODES.nullNode();
        } else {
            value = NODES.textNode(p.getText());
        }
        if (tag == null || tag.startsWith("tag:yaml.org")) {
            return value;
        }
        if (tag.equals("GetAtt") && value.isTextual()) {
            String s = value.asText();
            int dot = s.indexOf('.');
            value = NODES.arrayNode().add(s.substring(0, dot)).add(s.substring(dot + 1));
        }
        String key = tag.equals("Ref") || tag.equals("Condition") ? tag : "Fn::" + tag;
        return NODES.objectNode().set(key, value);
    }

    /** The entries of an object node in order. */
    public static Map<String, JsonNode> fields(JsonNode object) {
        Map<String, JsonNode> out = new LinkedHashMap<>();
        if (object != null) {
            for (Iterator<Map.Entry<String, JsonNode>> it = object.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                out.put(e.getKey(), e.getValue());
            }
        }
        return out;
    }
}
