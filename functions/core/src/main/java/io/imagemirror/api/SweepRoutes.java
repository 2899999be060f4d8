package io.imagemirror.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.imagemirror.config.MirrorConfig;
import io.imagemirror.oci.Digest;
import io.imagemirror.oci.ErrorCode;
import io.imagemirror.sweep.ImageRemover;
import io.imagemirror.sweep.SweepRecords;
import io.imagemirror.sweep.SweepReport;
import io.imagemirror.sweep.SweepService;
import io.imagemirror.sweep.Sweeper;
import java.io.IOException;
import java.time.Duration;

/**
 * {@code GET /v1/sweeps}: the recorded sweeps, newest first. {@code POST /v1/prune} with
 * {@code {"dryRun": true, "grace": "24h", "all": true, "filters": ["until=24h", "label=k=v"]}} (all
 * optional; as {@code image-mirror prune [--all] [--filter ...]}): runs one sweep now and answers what it
 * deleted (or would delete) and its report; the list stops at {@value #MAX_LISTED} entries.
 * {@code DELETE /v1/images/<ref>[?force=true]}: {@code image-mirror rm} ({@link ImageRemover}), 409
 * with the reason when a tag or an index keeps it.
 */
final class SweepRoutes {
    static final int MAX_LISTED = 1000;
    private static final ObjectMapper JSON = new ObjectMapper();

    private SweepRoutes() {
    }

    static ApiResponse handle(SweepService sweeps, io.imagemirror.cache.NameRouter names, ApiRequest request)
            throws IOException {
        if (request.path().startsWith("/v1/images/")) {
            return remove(sweeps, names, request);
        }
        if (request.path().equals("/v1/sweeps")) {
            if (!request.isRead()) {
                return ApiErrors.of(405, ErrorCode.UNSUPPORTED, "sweeps are read-only; POST /v1/prune runs one")
                        .header("Allow", "GET, HEAD");
            }
            ObjectNode o = JSON.createObjectNode();
            ArrayNode list = o.putArray("sweeps");
            sweeps.recent(50).forEach(r -> list.add(SweepRecords.toJson(r)));
            return ApiResponse.json(200, o.toString());
        }
        if (!request.method().equals("POST")) {
            return ApiErrors.of(405, ErrorCode.UNSUPPORTED, "use POST /v1/prune").header("Allow", "POST");
        }
        String body;
        try {
            request.requireSameOrigin();
            body = request.jsonBody(MirrorApi.MAX_BODY);
        } catch (RequestRefusedException e) {
            return e.response();
        }
        boolean dryRun;
        boolean all;
        io.imagemirror.sweep.PruneFilters filters;
        Duration grace = null;
        try {
            JsonNode n = body == null || body.isBlank() ? JSON.createObjectNode() : JSON.readTree(body);
            if (!n.isObject()) {
                throw new IllegalArgumentException("the body must be a JSON object");
            }
            for (var it = n.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (!java.util.Set.of("dryRun", "grace", "all", "filters").contains(k)) {
                    throw new IllegalArgumentException("unknown field " + k + " (known: dryRun, grace, all, filters)");
                }
            }
            JsonNode d = n.path("dryRun");
            if (!d.isMissingNode() && !d.isBoolean()) {
                throw new IllegalArgumentException("dryRun must be true or false");
            }
            dryRun = d.asBoolean(false);
            JsonNode a = n.path("all");
            if (!a.isMissingNode() && !a.isBoolean()) {
                throw new IllegalArgumentException("all must be true or false");
            }
            all = a.asBoolean(false);
            java.util.List<String> given = new java.util.ArrayList<>();
            JsonNode f = n.path("filters");
            if (!f.isMissingNode()) {
                if (!f.isArray()) {
                    throw new IllegalArgumentException("filters must be a list such as [\"until=24h\", \"label=k=v\"]");
                }
                f.forEach(x -> given.add(x.asText()));
            }
            filters = io.imagemirror.sweep.PruneFilters.parse(given, sweeps.now());
            if (n.hasNonNull("grace")) {
                grace = MirrorConfig.parseDuration(n.get("grace").asText(), "grace");
                if (grace.isNegative()) {
                    throw new IllegalArgumentException("grace cannot be negative");
                }
            }
        } catch (IllegalArgumentException | com.fasterxml.jackson.core.JacksonException e) { // ConfigException too
            return ApiErrors.of(400, ErrorCode.UNKNOWN, e.getMessage());
        }
        ObjectNode o = JSON.createObjectNode();
        ArrayNode deleted = o.putArray(dryRun ? "wouldDelete" : "deleted");
        Duration g = filters.grace(grace == null ? sweeps.config().grace() : grace);
        SweepReport r = sweeps.sweep(g, dryRun, filters.manifests(), all ? filters : null, new Sweeper.Listener() {
            @Override
            public void manifestDeleted(String repository, Digest digest, long size) {
                add("manifest", repository, digest, size);
            }

            @Override
            public void tagUntagged(String repository, String tag, Digest digest) {
                if (deleted.size() < MAX_LISTED) {
                    ObjectNode e = deleted.addObject();
                    e.put("kind", "tag");
                    e.put("repository", repository);
                    e.put("tag", tag);
                    e.put("digest", digest.toString());
                }
            }

            @Override
            public void blobDeleted(Digest digest, long size) {
                add("blob", null, digest, size);
            }

            private void add(String kind, String repository, Digest digest, long size) {
                if (deleted.size() < MAX_LISTED) {
                    ObjectNode e = deleted.addObject();
                    e.put("kind", kind);
                    e.put("repository", repository);
                    e.put("digest", digest.toString());
                    e.put("size", size);
                }
            }
        });
        o.put("truncated", r.manifestsDeleted() + r.blobsDeleted() > MAX_LISTED);
        if (sweeps.deletesRecordsOnly()) {
            // AWS MirrorApi: only the Sweeper function may delete objects; its next run takes the blobs.
            o.put("blobs", "left to the next run of the Sweeper function");
        }
        o.set("report", SweepRecords.toJson(r));
        return ApiResponse.json(200, o.toString());
    }

    private static ApiResponse remove(SweepService sweeps, io.imagemirror.cache.NameRouter names, ApiRequest request) {
        try {
            request.requireSameOrigin();
        } catch (RequestRefusedException e) {
            return e.response();
        }
        String ref = request.path().substring("/v1/images/".length());
        boolean force = request.queryParam("force").map(v -> v.equals("true") || v.equals("1")).orElse(false);
        try {
            ImageRemover.Outcome o = sweeps.remove(ref, force, names);
            ObjectNode out = JSON.createObjectNode();
            o.untagged().forEach(out.putArray("untagged")::add);
            o.deleted().forEach(out.putArray("deleted")::add);
            return ApiResponse.json(200, out.toString());
        } catch (io.imagemirror.reference.InvalidReferenceException e) {
            return ApiErrors.of(400, ErrorCode.NAME_INVALID, e.getMessage());
        } catch (ImageRemover.NotFoundException e) {
            return ApiErrors.of(404, ErrorCode.MANIFEST_UNKNOWN, e.getMessage());
        } catch (ImageRemover.RefusedException e) {
            return ApiErrors.of(409, ErrorCode.DENIED, e.getMessage());
        }
    }
}
