package io.imagemirror.jobs;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.imagemirror.mirror.MirrorRequest;
import io.imagemirror.oci.Platform;
import io.imagemirror.reference.ImageReference;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * The body of {@code POST /v1/mirror} and the request kept in a mirror job:
 * {@code {"image": "...", "platforms": ["linux/amd64"], "allTags": false, "referrers": false}}.
 */
public final class MirrorJobRequest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> FIELDS = Set.of("image", "platforms", "allTags", "referrers");

    private MirrorJobRequest() {
    }

    /**
     * Parses a request as kept in a job: its image is canonical already ({@link #toJson}).
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public static MirrorRequest parse(String json) {
        return parse(json, ImageReference::parseNormalized);
    }

    /**
     * Parses and validates a request body.
     *
     * @param names what the image means on this mirror (the one resolution of names,
     *     {@code NameRouter#resolve})
     * @throws IllegalArgumentException naming what is wrong (bad JSON, missing image, invalid
     *     reference or platform, unknown field)
     */
    public static MirrorRequest parse(String json, Function<String, ImageReference> names) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("request body is not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("request body must be a JSON object");
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!FIELDS.contains(f)) {
                throw new IllegalArgumentException("unknown field \"" + f + "\" (known: image, platforms, allTags, referrers)");
            }
        }
        JsonNode image = root.get("image");
        if (image == null || !image.isTextual() || image.asText().isBlank()) {
            throw new IllegalArgumentException("\"image\" is required: an image reference such as alpine:3.20");
        }
        ImageReference ref = names.apply(image.asText().trim());
        List<Platform> platforms = new ArrayList<>();
        JsonNode p = root.get("platforms");
        if (p != null && !p.isNull()) {
            if (!p.isArray()) {
                throw new IllegalArgumentException("\"platforms\" must be a list such as [\"linux/amd64\"]");
            }
            for (JsonNode x : p) {
                platforms.add(Platform.parse(x.asText()));
            }
        }
        return new MirrorRequest(ref, platforms, bool(root, "allTags"), bool(root, "referrers"), false, "mirror");
    }

    private static boolean bool(JsonNode root, String field) {
        JsonNode v = root.get(field);
        if (v == null || v.isNull()) {
            return false;
        }
        if (!v.isBoolean()) {
            throw new IllegalArgumentException("\"" + field + "\" must be true or false");
        }
        return v.asBoolean();
    }

    /** The canonical JSON of a request, as kept in the job. */
    public static String toJson(MirrorRequest r) {
        ObjectNode o = JSON.createObjectNode();
        o.put("image", r.reference().canonical());
        ArrayNode ps = o.putArray("platforms");
        r.platforms().forEach(x -> ps.add(x.toString()));
        o.put("allTags", r.allTags());
        o.put("referrers", r.referrers());
        return o.toString();
    }
}
