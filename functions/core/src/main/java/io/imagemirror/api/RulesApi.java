package io.imagemirror.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.imagemirror.oci.ErrorCode;
import io.imagemirror.oci.OciError;
import io.imagemirror.sync.InvalidRuleException;
import io.imagemirror.sync.Rule;
import io.imagemirror.sync.SyncListener;
import io.imagemirror.sync.SyncPlanner;
import io.imagemirror.sync.SyncRules;
import io.imagemirror.sync.SyncRun;
import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * {@code /v1/rules}: {@code GET /v1/rules} lists the stored sync rules, {@code GET|PUT|DELETE
 * /v1/rules/<name>} reads, creates or replaces, and deletes one, {@code GET /v1/rules/<name>/runs}
 * shows its last runs, and {@code POST /v1/rules/<name>/runs} ({@code {}} or {@code {"dryRun": true}})
 * runs it once now, due or not, as {@code image-mirror sync <name>} does: the copy jobs of changed tags
 * are queued and run after the answer, which is the recorded run (201) or the dry run (200, nothing
 * recorded); 409 {@code DENIED} while another planner holds the rule. A rule is validated before
 * anything is stored: a fault answers 400 with the field in the message and in {@code detail}. Writes
 * pass {@link ApiRequest#requireSameOrigin} and take JSON only, like every {@code /v1} write; who may
 * write is the carrier's decision.
 */
final class RulesApi {

    static final String PREFIX = "/v1/rules";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final SyncRules rules;
    /** Runs a rule now ({@code POST .../runs}), or null where runs start on the schedule only. */
    private final SyncPlanner planner;

    RulesApi(SyncRules rules) {
        this(rules, null);
    }

    RulesApi(SyncRules rules, SyncPlanner planner) {
        this.rules = rules;
        this.planner = planner;
    }

    /** The same routes, with {@code POST /v1/rules/<name>/runs} running rules through {@code planner}. */
    RulesApi withPlanner(SyncPlanner planner) {
        return new RulesApi(rules, java.util.Objects.requireNonNull(planner, "planner"));
    }

    static boolean handles(String path) {
        return path.equals(PREFIX) || path.startsWith(PREFIX + "/");
    }

    ApiResponse handle(ApiRequest request) throws IOException {
        String path = request.path();
        if (path.equals(PREFIX) || path.equals(PREFIX + "/")) {
            if (!request.isRead()) {
                return ApiErrors.of(405, ErrorCode.UNSUPPORTED, "use PUT /v1/rules/<name> to store a rule")
                        .header("Allow", "GET, HEAD");
            }
            return ApiResponse.json(200, list());
        }
        String rest = path.substring(PREFIX.length() + 1);
        if (rest.endsWith("/runs")) {
            String name = rest.substring(0, rest.length() - "/runs".length());
            if (request.method().equals("POST")) {
                return runNow(name, request);
            }
            if (!request.isRead()) {
                return ApiErrors.of(405, ErrorCode.UNSUPPORTED, planner == null ? "runs are read-only"
                        : "use GET to list the runs, POST to run the rule now")
                        .header("Allow", planner == null ? "GET, HEAD" : "GET, HEAD, POST");
            }
            if (!Rule.isValidName(name) || rules.get(name).isEmpty()) {
                return noRule(name);
            }
            return ApiResponse.json(200, runs(name));
        }
        String name = rest;
        if (!Rule.isValidName(name)) {
            return noRule(name);
        }
        return switch (request.method()) {
            case "GET", "HEAD" -> get(name);
            case "PUT" -> put(name, request);
            case "DELETE" -> delete(name, request);
            default -> ApiErrors.of(405, ErrorCode.UNSUPPORTED, "use GET, PUT or DELETE on a rule")
                    .header("Allow", "GET, HEAD, PUT, DELETE");
        };
    }

    private String list() {
        ObjectNode o = JSON.createObjectNode();
        ArrayNode a = o.putArray("rules");
        for (SyncRules.Stored s : rules.list()) {
            if (s.rule().isPresent()) {
                a.add(s.rule().get().toTree());
            } else {
                ObjectNode broken = a.addObject();
                broken.put("name", s.name());
                broken.set("stored", s.tree());
                broken.put("error", s.fault());
            }
        }
        return o.toString();
    }

    private String runs(String name) {
        ObjectNode o = JSON.createObjectNode();
        o.put("rule", name);
        ArrayNode a = o.putArray("runs");
        rules.runsWithJobs(name).forEach(a::add);
        return o.toString();
    }

    private ApiResponse get(String name) {
        Optional<Rule> r;
        try {
            r = rules.get(name);
        } catch (InvalidRuleException e) {
            return ApiErrors.of(409, ErrorCode.UNKNOWN, "stored rule " + name + " is no longer valid here: "
                    + e.getMessage());
        }
        return r.map(rule -> ApiResponse.json(200, rule.toTree().toString())).orElseGet(() -> noRule(name));
    }

    private ApiResponse put(String name, ApiRequest request) throws IOException {
        JsonNode tree;
        try {
            request.requireSameOrigin();
            tree = JSON.readTree(request.jsonBody(MirrorApi.MAX_BODY));
        } catch (RequestRefusedException e) {
            return e.response();
        }
        if (tree instanceof ObjectNode o) {
            JsonNode given = o.get("name");
            if (given == null || given.isNull()) {
                o.put("name", name);
            } else if (!given.isTextual() || !given.asText().equals(name)) {
                return invalid(new InvalidRuleException("name", "must be the name in the path (" + name + ")"));
            }
        }
        Rule rule;
        try {
            rule = rules.parse(tree);
        } catch (InvalidRuleException e) {
            return invalid(e);
        }
        SyncRules.Change change = rules.put(rule);
        ObjectNode o = JSON.createObjectNode();
        o.put("change", change.label());
        o.set("rule", rule.toTree());
        return ApiResponse.json(change == SyncRules.Change.CREATED ? 201 : 200, o.toString())
                .header("Location", PREFIX + "/" + name);
    }

    private ApiResponse delete(String name, ApiRequest request) {
        try {
            request.requireSameOrigin();
        } catch (RequestRefusedException e) {
            return e.response();
        }
        return rules.delete(name) ? ApiResponse.json(200, "{\"change\":\"deleted\"}") : noRule(name);
    }

    /**
     * Runs rule {@code name} once now through the planner, as {@code image-mirror sync <name>} does:
     * claimed first (409 when another planner holds it), its copy jobs queued (they run after this
     * answer), the run recorded. A dry run lists and HEADs only and records nothing.
     */
    private ApiResponse runNow(String name, ApiRequest request) throws IOException {
        if (planner == null) {
            return ApiErrors.of(405, ErrorCode.UNSUPPORTED, "rules run on their schedule here (no planner runs in "
                    + "this function); GET lists the runs").header("Allow", "GET, HEAD");
        }
        boolean dryRun;
        try {
            request.requireSameOrigin();
            JsonNode body = JSON.readTree(request.jsonBody(MirrorApi.MAX_BODY));
            dryRun = dryRun(body);
        } catch (RequestRefusedException e) {
            return e.response();
        } catch (IllegalArgumentException e) {
            return ApiErrors.of(400, ErrorCode.UNKNOWN, e.getMessage());
        }
        Optional<Rule> rule;
        try {
            rule = Rule.isValidName(name) ? rules.get(name) : Optional.empty();
        } catch (InvalidRuleException e) {
            return ApiErrors.of(409, ErrorCode.UNKNOWN, "stored rule " + name + " is no longer valid here: "
                    + e.getMessage());
        }
        if (rule.isEmpty()) {
            return noRule(name);
        }
        List<SyncRun> runs = planner.run(List.of(rule.get()), dryRun, SyncListener.NONE);
        if (runs.isEmpty()) {
            // DENIED, not UNSUPPORTED: the operation exists and is allowed, it is refused only while the
            // other run lasts (a client may try again); UNSUPPORTED is this route's 405 where no planner runs.
            return ApiErrors.of(409, ErrorCode.DENIED, "sync rule " + name + " is being run by another planner "
                    + "now; its run will show in GET " + PREFIX + "/" + name + "/runs");
        }
        String run = rules.withJobs(runs.get(0)).toString();
        return dryRun ? ApiResponse.json(200, run)
                : ApiResponse.json(201, run).header("Location", PREFIX + "/" + name + "/runs");
    }

    /** The body of {@code POST .../runs}: an object with at most {@code dryRun}. */
    private static boolean dryRun(JsonNode body) {
        if (!body.isObject()) {
            throw new IllegalArgumentException("the body must be a JSON object: {} or {\"dryRun\": true}");
        }
        for (var it = body.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!k.equals("dryRun")) {
                throw new IllegalArgumentException("unknown field " + io.imagemirror.oci.EchoedInput.of(k)
                        + " (known: dryRun)");
            }
        }
        JsonNode d = body.path("dryRun");
        if (!d.isMissingNode() && !d.isBoolean()) {
            throw new IllegalArgumentException("dryRun must be true or false");
        }
        return d.asBoolean(false);
    }

    private static ApiResponse invalid(InvalidRuleException e) {
        return ApiResponse.json(400, OciError.toJson(List.of(new OciError(ErrorCode.UNKNOWN, e.getMessage(),
                e.field()))));
    }

    private static ApiResponse noRule(String name) {
        return ApiErrors.of(404, ErrorCode.UNKNOWN, "no sync rule " + io.imagemirror.oci.EchoedInput.of(name));
    }
}
