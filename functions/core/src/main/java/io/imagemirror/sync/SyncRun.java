package io.imagemirror.sync;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * What one run of a sync rule did, as {@code sync --status}, {@code GET /v1/rules/<name>/runs} and
 * the store keep it. Immutable.
 *
 * @param id orders the runs of a rule (later runs sort after earlier ones)
 * @param error why the run as a whole failed (e.g. the tag list could not be read), or null
 * @param listed tags the upstream listed
 * @param selected tags the rule selected of them
 * @param unchanged selected tags whose upstream digest is the mirrored one (one HEAD each)
 * @param changed selected tags copied (or, in a dry run, to be copied): one job each
 * @param deferred changed tags left for the next run because the upstream's pull quota was at the floor
 * @param failed selected tags whose HEAD or job submission failed, with the reason
 * @param removedUpstream mirrored tags the rule selects that the upstream no longer lists
 * @param untagged of those, the ones untagged here ({@code removedUpstream: untag})
 * @param jobs the copy jobs created, one per changed tag
 */
public record SyncRun(String rule, String id, boolean dryRun, Instant started, Instant finished, String error,
                      int listed, int selected, List<String> unchanged, List<String> changed,
                      List<String> deferred, List<Failure> failed, List<String> removedUpstream,
                      List<String> untagged, List<String> jobs) {

    /** How many runs of each rule are kept. */
    public static final int KEPT = 20;
    /** How long a run record is kept at most. */
    public static final Duration RETENTION = Duration.ofDays(30);

    private static final ObjectMapper JSON = new ObjectMapper();

    /** A tag that could not be checked or queued, and why. */
    public record Failure(String tag, String reason) {
    }

    public SyncRun {
        Objects.requireNonNull(rule, "rule");
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(started, "started");
        unchanged = List.copyOf(unchanged);
        changed = List.copyOf(changed);
        deferred = List.copyOf(deferred);
        failed = List.copyOf(failed);
        removedUpstream = List.copyOf(removedUpstream);
        untagged = List.copyOf(untagged);
        jobs = List.copyOf(jobs);
    }

    /** Whether anything failed: the run itself or one of its tags (the CLI then exits 1). */
    public boolean hasFailures() {
        return error != null || !failed.isEmpty();
    }

    /** The run as JSON: counts first, then the tags behind each count. */
    public ObjectNode toTree() {
        ObjectNode o = JSON.createObjectNode();
        o.put("rule", rule);
        o.put("id", id);
        o.put("dryRun", dryRun);
        o.put("started", started.toString());
        o.put("finished", finished == null ? null : finished.toString());
        o.put("error", error);
        ObjectNode tags = o.putObject("tags");
        tags.put("listed", listed);
        tags.put("selected", selected);
        tags.put("unchanged", unchanged.size());
        tags.put("changed", changed.size());
        tags.put("deferred", deferred.size());
        tags.put("failed", failed.size());
        tags.put("removedUpstream", removedUpstream.size());
        strings(o, "changed", changed);
        strings(o, "deferred", deferred);
        ArrayNode f = o.putArray("failed");
        failed.forEach(x -> f.addObject().put("tag", x.tag()).put("reason", x.reason()));
        strings(o, "removedUpstream", removedUpstream);
        strings(o, "untagged", untagged);
        strings(o, "jobs", jobs);
        strings(o, "unchanged", unchanged);
        return o;
    }

    /** Reads what {@link #toTree()} wrote. */
    public static SyncRun fromTree(JsonNode o) {
        List<Failure> failures = new java.util.ArrayList<>();
        o.path("failed").forEach(x -> failures.add(new Failure(x.path("tag").asText(), x.path("reason").asText())));
        return new SyncRun(o.path("rule").asText(), o.path("id").asText(), o.path("dryRun").asBoolean(),
                Instant.parse(o.path("started").asText()),
                o.path("finished").isTextual() ? Instant.parse(o.path("finished").asText()) : null,
                o.path("error").isTextual() ? o.path("error").asText() : null,
                o.path("tags").path("listed").asInt(), o.path("tags").path("selected").asInt(),
                strings(o.path("unchanged")), strings(o.path("changed")), strings(o.path("deferred")), failures,
                strings(o.path("removedUpstream")), strings(o.path("untagged")), strings(o.path("jobs")));
    }

    private static void strings(ObjectNode o, String field, List<String> values) {
        ArrayNode a = o.putArray(field);
        values.forEach(a::add);
    }

    private static List<String> strings(JsonNode a) {
        List<String> out = new java.util.ArrayList<>();
        a.forEach(x -> out.add(x.asText()));
        return out;
    }
}
