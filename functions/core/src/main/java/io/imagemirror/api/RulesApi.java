package io.imagemirror.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.imagemirror.oci.ErrorCode;
import io.imagemirror.oci.OciError;
import io.imagemirror.sync.InvalidRuleException;
import io.imagemirror.sync.Rule;
import io.imagemirror.sync.SyncRules;
import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * {@code /v1/rules}: {@code GET /v1/rules} lists the stored sync rules, {@code GET|PUT|DELETE
 * /v1/rules/<name>} reads, creates or replaces, and deletes one, {@code GET /v1/rules/<name>/runs}
 * shows its last runs. A rule is validated before anything is stored: a fault answers 400 with the
 * field in the message and in {@code detail}. Writes pass {@link ApiRequest#requireSameOrigin} and
 * take JSON only, like every {@code /v1} write; who may write is the carrier's decision.
 */
final class RulesApi {

    static final String PREFIX = "/v1/rules";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final SyncRules rules;

    RulesApi(SyncRules rules) {
        this.rules = rules;
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
            if (!request.isRead()) {
                return ApiErrors.of(405, ErrorCode.UNSUPPORTED, "runs are read-only").header("Allow", "GET, HEAD");
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

    private static ApiResponse invalid(InvalidRuleException e) {
        return ApiResponse.json(400, OciError.toJson(List.of(new OciError(ErrorCode.UNKNOWN, e.getMessage(),
                e.field()))));
    }

    private static ApiResponse noRule(String name) {
        return ApiErrors.of(404, ErrorCode.UNKNOWN, "no sync rule " + io.imagemirror.oci.EchoedInput.of(name));
    }
}
