package io.imagemirror.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.imagemirror.oci.ErrorCode;
import io.imagemirror.store.UpstreamState;
import io.imagemirror.upstream.Upstream;
import io.imagemirror.upstream.Upstreams;
import java.time.Clock;
import java.time.Instant;
import java.util.TreeSet;

/**
 * {@code GET /v1/upstreams}: each configured upstream with its quota as the shared ledger knows it
 * (limit, remaining, window, when observed, when it resets by, and a state: {@code unknown},
 * {@code ok}, {@code low} below the sync floor, {@code exhausted}), the requests every instance sent
 * it, and its last error. Endpoints are shown; credentials never.
 */
final class UpstreamsRoute {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Upstreams upstreams;
    private final int floor;
    private final Clock clock;

    UpstreamsRoute(Upstreams upstreams, int floor, Clock clock) {
        this.upstreams = upstreams;
        this.floor = floor;
        this.clock = clock;
    }

    ApiResponse handle(ApiRequest request) {
        if (!request.isRead()) {
            return ApiErrors.of(405, ErrorCode.UNSUPPORTED, "upstreams are read-only").header("Allow", "GET, HEAD");
        }
        Instant now = clock.instant();
        ObjectNode o = JSON.createObjectNode();
        o.put("syncQuotaFloor", floor);
        ArrayNode list = o.putArray("upstreams");
        for (String name : new TreeSet<>(upstreams.names())) {
            Upstream u = upstreams.upstream(name).orElseThrow();
            UpstreamState s = upstreams.quota().state(name);
            ObjectNode n = list.addObject();
            n.put("name", name);
            n.put("endpoint", u.endpoint().toString());
            ObjectNode q = n.putObject("quota");
            boolean known = s.observedAt() != null && s.remaining() >= 0;
            Instant reset = known && s.window() != null ? s.observedAt().plus(s.window()) : null;
            boolean current = known && (reset == null || now.isBefore(reset));
            q.put("state", !current ? "unknown" : s.remaining() <= 0 ? "exhausted" : s.remaining() < floor ? "low"
                    : "ok");
            if (known) {
                q.put("limit", s.limit());
                q.put("remaining", s.remaining());
                if (s.window() != null) {
                    q.put("windowSeconds", s.window().toSeconds());
                }
                q.put("observedAt", s.observedAt().toString());
                q.put("resetsBy", reset == null ? null : reset.toString());
            }
            ObjectNode r = n.putObject("requests");
            r.put("total", s.requests());
            r.put("manifestGets", s.manifestGets());
            r.put("failures", s.failures());
            if (s.lastError() != null) {
                ObjectNode e = n.putObject("lastError");
                e.put("message", s.lastError());
                e.put("at", s.lastErrorAt() == null ? null : s.lastErrorAt().toString());
            } else {
                n.putNull("lastError");
            }
        }
        return ApiResponse.json(200, o.toString());
    }
}
