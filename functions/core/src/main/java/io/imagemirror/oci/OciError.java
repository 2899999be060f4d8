package io.imagemirror.oci;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One entry of the distribution spec's error body {@code {"errors":[{"code","message","detail"}]}}.
 * The client parses upstream answers into these; the server answers with {@link #toJson(List)}.
 * The spec allows any JSON as {@code detail}; it is kept here as text (JSON text when it was not a
 * string).
 *
 * @param code the error code ({@link ErrorCode#UNKNOWN} for codes we do not know)
 * @param message a human-readable message, never null
 * @param detail extra detail, or null
 */
public record OciError(ErrorCode code, String message, String detail) {

    /** Error bodies are read at most this far: a misbehaving server cannot make us buffer more. */
    public static final int MAX_BODY_BYTES = 64 * 1024;

    private static final ObjectMapper JSON = new ObjectMapper();

    public OciError {
        Objects.requireNonNull(code, "code");
        message = message == null || message.isBlank() ? code.defaultMessage() : message;
    }

    /** An error with the code's default message and no detail. */
    public static OciError of(ErrorCode code) {
        return new OciError(code, null, null);
    }

    public static OciError of(ErrorCode code, String message) {
        return new OciError(code, message, null);
    }

    /** {@code {"errors":[this]}}. */
    public String toJson() {
        return toJson(List.of(this));
    }

    /** The spec's error body for {@code errors}. */
    public static String toJson(List<OciError> errors) {
        ObjectNode root = JSON.createObjectNode();
        ArrayNode list = root.putArray("errors");
        for (OciError e : errors) {
            ObjectNode o = list.addObject();
            o.put("code", e.code.code());
            o.put("message", e.message);
            if (e.detail != null) {
                o.put("detail", e.detail);
            }
        }
        try {
            return JSON.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render an error body", e);
        }
    }

    /**
     * Parses an error body. Anything that is not the spec's shape (HTML error pages, plain text,
     * truncated JSON) gives an empty list rather than an exception: the HTTP status still speaks.
     */
    public static List<OciError> parse(byte[] body) {
        if (body == null || body.length == 0) {
            return List.of();
        }
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (IOException notJson) {
            return List.of();
        }
        if (root == null || !root.path("errors").isArray()) {
            return List.of();
        }
        List<OciError> out = new ArrayList<>();
        for (JsonNode e : root.get("errors")) {
            if (!e.isObject()) {
                continue;
            }
            String rawCode = e.path("code").asText(null);
            ErrorCode code = ErrorCode.fromCode(rawCode);
            String message = e.path("message").asText(null);
            if (code == ErrorCode.UNKNOWN && rawCode != null && !rawCode.isBlank()) {
                // Keep a code we do not know visible to whoever reads the message.
                message = rawCode + (message == null ? "" : ": " + message);
            }
            JsonNode d = e.get("detail");
            String detail = d == null || d.isNull() ? null : d.isTextual() ? d.asText() : d.toString();
            out.add(new OciError(code, message, detail));
        }
        return List.copyOf(out);
    }

    /** Reads at most {@link #MAX_BODY_BYTES} of {@code in} (without closing it) and parses them. */
    public static List<OciError> read(InputStream in) throws IOException {
        return parse(in.readNBytes(MAX_BODY_BYTES));
    }

    @Override
    public String toString() {
        return code.code() + ": " + message;
    }
}
