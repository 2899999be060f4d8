package io.imagemirror.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.imagemirror.listing.ImageListing;
import io.imagemirror.listing.ImageRow;
import io.imagemirror.listing.InvalidFilterException;
import io.imagemirror.listing.MirrorViews;
import io.imagemirror.oci.ErrorCode;
import io.imagemirror.reference.InvalidReferenceException;
import io.imagemirror.store.InvalidPageTokenException;
import io.imagemirror.store.Page;
import io.imagemirror.store.TagEvent;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The read-only views of {@code /v1}, the JSON twins of the CLI's {@code images}, {@code inspect},
 * {@code history}, {@code search} and {@code df}:
 * <ul>
 *   <li>{@code GET /v1/images?filter=KEY=VALUE&all=true&n=N&last=CURSOR}: {@code {"images": [...]}};</li>
 *   <li>{@code GET /v1/images/<ref>}: the inspection of one image;</li>
 *   <li>{@code GET /v1/images/<ref>/history?n=&last=}: {@code {"history": [...]}}, newest first;</li>
 *   <li>{@code GET /v1/search?q=TERM&filter=is-official=true&n=&last=}: {@code {"results": [...]}};</li>
 *   <li>{@code GET /v1/df}: the storage summary.</li>
 * </ul>
 * Lists are paged like the registry API: at most {@code n} items (default {@value #DEFAULT_PAGE},
 * at most {@value #MAX_PAGE}) and, when more follow, a {@code Link: <...>; rel="next"} header whose
 * {@code last} is an opaque cursor. A page may hold fewer than {@code n} items while more follow
 * (a request examines at most {@value #MAX_EXAMINED} store items, so a filter that matches little
 * cannot hold a request for long). Bad filters, references, {@code n} or cursors answer 400 in
 * the OCI error format, naming what is wrong; an image the mirror lacks answers 404.
 */
public final class ImagesApi implements ApiHandler {

    public static final int DEFAULT_PAGE = 100;
    public static final int MAX_PAGE = 1000;
    /** Store items one request examines at most. */
    public static final long MAX_EXAMINED = 20_000;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final MirrorViews views;

    public ImagesApi(MirrorViews views) {
        this.views = views;
    }

    /** Whether this API answers {@code path} (for reads). */
    public static boolean handles(String path) {
        return path.equals("/v1/images") || path.startsWith("/v1/images/") || path.equals("/v1/search")
                || path.equals("/v1/df");
    }

    @Override
    public ApiResponse handle(ApiRequest request) {
        if (!request.isRead()) {
            return ApiErrors.of(405, ErrorCode.UNSUPPORTED, "this view is read-only").header("Allow", "GET, HEAD");
        }
        try {
            String path = request.path();
            if (path.equals("/v1/images")) {
                return images(request);
            }
            if (path.equals("/v1/search")) {
                return search(request);
            }
            if (path.equals("/v1/df")) {
                return ApiResponse.json(200, views.usage().toJson().toString());
            }
            String ref = path.substring("/v1/images/".length());
            if (ref.endsWith("/history")) {
                return history(request, ref.substring(0, ref.length() - "/history".length()));
            }
            if (ref.isEmpty()) {
                return ApiErrors.of(400, ErrorCode.NAME_INVALID, "no image reference after /v1/images/");
            }
            return ApiResponse.json(200, views.inspect(ref).toString());
        } catch (InvalidReferenceException e) {
            return ApiErrors.of(400, ErrorCode.NAME_INVALID, e.getMessage());
        } catch (InvalidFilterException | InvalidPageTokenException | BadPage e) {
            return ApiErrors.of(400, ErrorCode.UNKNOWN, e.getMessage());
        } catch (MirrorViews.NoSuchImageException e) {
            return ApiErrors.of(404, ErrorCode.MANIFEST_UNKNOWN, e.getMessage());
        }
    }

    private ApiResponse images(ApiRequest request) {
        int n = n(request);
        boolean all = request.queryParam("all").map(v -> v.equals("true") || v.equals("1")).orElse(false);
        List<String> filters = request.query().getOrDefault("filter", List.of());
        ImageListing listing = views.images();
        ImageListing.Query q = listing.query(request.queryParam("reference").orElse(null), all, filters);
        ImageListing.Rows rows = listing.rows(q, request.queryParam("last").filter(s -> !s.isEmpty()).orElse(null));
        ObjectNode o = JSON.createObjectNode();
        ArrayNode items = o.putArray("images");
        int count = 0;
        while (count < n) {
            ImageRow r = rows.next(MAX_EXAMINED);
            if (r == null) {
                break;
            }
            items.add(MirrorViews.rowJson(r));
            count++;
        }
        return withNext(ApiResponse.json(200, o.toString()), request, n, rows.cursor());
    }

    private ApiResponse history(ApiRequest request, String ref) {
        int n = n(request);
        Page<TagEvent> page = views.history(ref, n, request.queryParam("last").filter(s -> !s.isEmpty()).orElse(null));
        ObjectNode o = JSON.createObjectNode();
        ArrayNode items = o.putArray("history");
        page.items().forEach(e -> items.add(views.eventJson(e)));
        return withNext(ApiResponse.json(200, o.toString()), request, n, page.nextToken());
    }

    private ApiResponse search(ApiRequest request) {
        int n = n(request);
        Boolean official = MirrorViews.officialFilter(request.query().getOrDefault("filter", List.of()));
        Page<MirrorViews.SearchHit> page = views.search(request.queryParam("q").orElse(""), official, n,
                request.queryParam("last").filter(s -> !s.isEmpty()).orElse(null));
        ObjectNode o = JSON.createObjectNode();
        ArrayNode items = o.putArray("results");
        page.items().forEach(h -> items.add(h.toJson()));
        return withNext(ApiResponse.json(200, o.toString()), request, n, page.nextToken());
    }

    /** Adds {@code Link: <path?...&n=N&last=CURSOR>; rel="next"}, keeping the request's other parameters. */
    private static ApiResponse withNext(ApiResponse r, ApiRequest request, int n, String cursor) {
        if (cursor == null) {
            return r;
        }
        List<String> params = new ArrayList<>();
        for (Map.Entry<String, List<String>> e : request.query().entrySet()) {
            if (e.getKey().equals("n") || e.getKey().equals("last")) {
                continue;
            }
            for (String v : e.getValue()) {
                params.add(enc(e.getKey()) + "=" + enc(v));
            }
        }
        params.add("n=" + n);
        params.add("last=" + enc(cursor));
        return r.header("Link", "<" + request.path() + "?" + String.join("&", params) + ">; rel=\"next\"");
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static int n(ApiRequest request) {
        Optional<String> n = request.queryParam("n");
        if (n.isEmpty() || n.get().isEmpty()) {
            return DEFAULT_PAGE;
        }
        try {
            int v = Integer.parseInt(n.get());
            if (v >= 1) {
                return Math.min(v, MAX_PAGE);
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw new BadPage("n must be a number from 1 to " + MAX_PAGE + ", got " + n.get());
    }

    private static final class BadPage extends IllegalArgumentException {
        BadPage(String message) {
            super(message);
        }
    }
}
