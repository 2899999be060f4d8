package io.imagemirror.api;

import io.imagemirror.metrics.Meter;
import io.imagemirror.metrics.Metrics;
import java.util.Locale;
import java.util.Set;

/**
 * Counts and times the requests an {@link ApiHandler} answers ({@link Meter#HTTP_REQUESTS}): by
 * route (a fixed name per kind of path, never the path itself), method and status, with the time
 * until the answer was ready (a streamed body is sent after that). A handler that throws counts as
 * a 500. Thread-safe if the handler is.
 */
public final class MeteredApi implements ApiHandler {

    private static final Set<String> V1_ROUTES = Set.of("mirror", "jobs", "images", "search", "df", "rules", "sweeps",
            "prune", "upstreams");
    private static final Set<String> METHODS = Set.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");

    private final ApiHandler handler;
    private final Metrics metrics;

    public MeteredApi(ApiHandler handler, Metrics metrics) {
        this.handler = handler;
        this.metrics = metrics;
    }

    @Override
    public ApiResponse handle(ApiRequest request) throws Exception {
        long start = System.nanoTime();
        int status = 500;
        try {
            ApiResponse r = handler.handle(request);
            status = r.status();
            return r;
        } finally {
            metrics.since(Meter.HTTP_REQUESTS, start, route(request.path()), method(request.method()),
                    Integer.toString(status));
        }
    }

    /**
     * The route name of {@code path}: {@code v2.manifests}, {@code v2.blobs}, {@code v2.tags},
     * {@code v2.referrers}, {@code v2.catalog}, {@code v2.base}, {@code v1.<first segment>} for the
     * known {@code /v1} routes, {@code ui}, {@code metrics}, else {@code other}.
     */
    public static String route(String path) {
        if (path.equals("/v2") || path.equals("/v2/")) {
            return "v2.base";
        }
        if (path.startsWith("/v2/")) {
            String rest = path.substring(4);
            if (rest.equals("_catalog")) {
                return "v2.catalog";
            }
            if (rest.lastIndexOf("/manifests/") > 0) {
                return "v2.manifests";
            }
            if (rest.lastIndexOf("/blobs/") > 0) {
                return "v2.blobs";
            }
            if (rest.endsWith("/tags/list")) {
                return "v2.tags";
            }
            if (rest.lastIndexOf("/referrers/") > 0) {
                return "v2.referrers";
            }
            return "v2.other";
        }
        if (path.startsWith("/v1/")) {
            int end = path.indexOf('/', 4);
            String first = path.substring(4, end < 0 ? path.length() : end);
            return V1_ROUTES.contains(first) ? "v1." + first : "v1.other";
        }
        if (path.equals("/ui") || path.startsWith("/ui/")) {
            return "ui";
        }
        if (path.equals("/metrics")) {
            return "metrics";
        }
        return "other";
    }

    private static String method(String method) {
        String m = method == null ? "" : method.toUpperCase(Locale.ROOT);
        return METHODS.contains(m) ? m : "other";
    }
}
