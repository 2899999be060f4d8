package io.imagemirror.jobs;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.imagemirror.mirror.MirrorRequest;
import io.imagemirror.oci.Platform;
import io.imagemirror.reference.ImageReference;
import io.imagemirror.store.Cause;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * The body of {@code POST /v1/mirror}: {@code {"image": "...", "platforms": ["linux/amd64"],
 * "allTags": false, "referrers": false, "includeNonDistributable": false}}. What a job stores is
 * {@link MirrorImage}, a type of its own: the body has no cause (a request over HTTP is {@code api},
 * a caller cannot claim to be a sync rule), and the stored payload may grow without widening the API.
 */
public final class MirrorJobRequest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> FIELDS = Set.of("image", "platforms", "allTags", "referrers",
            "includeNonDistributable");

    private MirrorJobRequest() {
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
                throw new IllegalArgumentException("unknown field \"" + f + "\" (known: image, platforms, allTags, referrers, "
                        + "includeNonDistributable)");
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
        return new MirrorRequest(ref, platforms, bool(root, "allTags"), bool(root, "referrers"),
                bool(root, "includeNonDistributable"), Cause.API);
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
}
