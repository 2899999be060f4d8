package io.imagemirror.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.imagemirror.oci.Digest;
import io.imagemirror.oci.Platform;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The stored form of a {@link ManifestRecord}'s immutable part (everything but repository, digest
 * and pull statistics, which stores keep as their own columns or attributes so a pull is a cheap
 * update). One format for every adapter, so records move between stores unchanged.
 */
public final class ManifestRecordJson {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private ManifestRecordJson() {
    }

    public static String encode(ManifestRecord r) {
        ObjectNode o = MAPPER.createObjectNode();
        o.put("mediaType", r.mediaType());
        o.put("size", r.size());
        putNullable(o, "config", r.configDigest());
        ArrayNode blobs = o.putArray("blobs");
        for (BlobRef b : r.blobs()) {
            blobs.addObject().put("digest", b.digest().toString()).put("size", b.size());
        }
        ArrayNode children = o.putArray("children");
        for (ChildManifest c : r.children()) {
            ObjectNode n = children.addObject();
            n.put("digest", c.digest().toString()).put("mediaType", c.mediaType()).put("size", c.size())
                    .put("mirrored", c.mirrored());
            if (c.platform() != null) {
                Platform p = c.platform();
                n.putObject("platform").put("os", p.os()).put("architecture", p.architecture())
                        .put("variant", p.variant()).put("osVersion", p.osVersion());
            }
        }
        putNullable(o, "subject", r.subject());
        if (r.artifactType() != null) {
            o.put("artifactType", r.artifactType());
        }
        if (r.created() != null) {
            o.put("created", Timestamps.toMicros(r.created()));
        }
        ObjectNode labels = o.putObject("labels");
        r.labels().forEach(labels::put);
        o.put("recordedAt", Timestamps.toMicros(r.recordedAt()));
        try {
            return MAPPER.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public static ManifestRecord decode(String repository, Digest digest, String json, Instant lastPulled,
                                        long pullCount) {
        JsonNode o;
        try {
            o = MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new StoreException("corrupt manifest record " + repository + "@" + digest, e);
        }
        List<BlobRef> blobs = new ArrayList<>();
        for (JsonNode b : o.path("blobs")) {
            blobs.add(new BlobRef(Digest.parse(b.get("digest").asText()), b.get("size").asLong()));
        }
        List<ChildManifest> children = new ArrayList<>();
        for (JsonNode c : o.path("children")) {
            Platform platform = null;
            JsonNode p = c.get("platform");
            if (p != null) {
                platform = Platform.of(p.get("os").asText(), p.get("architecture").asText(),
                        p.path("variant").asText(""), p.path("osVersion").asText(""));
            }
            children.add(new ChildManifest(Digest.parse(c.get("digest").asText()), c.get("mediaType").asText(),
                    c.get("size").asLong(), platform, c.get("mirrored").asBoolean()));
        }
        Map<String, String> labels = new LinkedHashMap<>();
        o.path("labels").properties().forEach(e -> labels.put(e.getKey(), e.getValue().asText()));
        return new ManifestRecord(repository, digest, o.get("mediaType").asText(), o.get("size").asLong(),
                digestOrNull(o, "config"), blobs, children, digestOrNull(o, "subject"),
                o.hasNonNull("artifactType") ? o.get("artifactType").asText() : null,
                o.hasNonNull("created") ? Timestamps.fromMicros(o.get("created").asLong()) : null, labels,
                Timestamps.fromMicros(o.get("recordedAt").asLong()), lastPulled, pullCount);
    }

    private static void putNullable(ObjectNode o, String field, Digest d) {
        if (d != null) {
            o.put(field, d.toString());
        }
    }

    private static Digest digestOrNull(JsonNode o, String field) {
        return o.hasNonNull(field) ? Digest.parse(o.get(field).asText()) : null;
    }
}
