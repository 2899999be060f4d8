package io.imagemirror.local.http;

import io.imagemirror.api.ApiErrors;
import io.imagemirror.api.ApiHandler;
import io.imagemirror.api.ApiRequest;
import io.imagemirror.api.ApiResponse;
import io.imagemirror.oci.ErrorCode;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;

/**
 * {@code /ui/}: the read-only page of {@code serve} over the {@code /v1} views. Static files from
 * the jar ({@code ui/} resources), no build step, nothing from elsewhere: the
 * {@code Content-Security-Policy} allows this origin only.
 */
public final class UiPages implements ApiHandler {

    private static final Map<String, String> FILES = Map.of(
            "index.html", "text/html; charset=utf-8",
            "app.js", "text/javascript; charset=utf-8",
            "style.css", "text/css; charset=utf-8");

    /** Whether {@code path} is the page's. */
    public static boolean handles(String path) {
        return path.equals("/ui") || path.startsWith("/ui/");
    }

    @Override
    public ApiResponse handle(ApiRequest request) throws IOException {
        if (!request.isRead()) {
            return ApiErrors.of(405, ErrorCode.UNSUPPORTED, "the page is read-only").header("Allow", "GET, HEAD");
        }
        if (request.path().equals("/ui")) {
            return ApiResponse.redirect(308, java.net.URI.create("/ui/"));
        }
        String name = request.path().substring("/ui/".length());
        if (name.isEmpty()) {
            name = "index.html";
        }
        String type = FILES.get(name);
        if (type == null) {
            return ApiErrors.of(404, ErrorCode.UNKNOWN, "no such page");
        }
        byte[] body;
        try (InputStream in = UiPages.class.getResourceAsStream("/ui/" + name)) {
            if (in == null) {
                throw new IOException("ui/" + name + " missing from the jar");
            }
            body = in.readAllBytes();
        }
        return ApiResponse.bytes(200, type, body)
                .header("Content-Security-Policy", "default-src 'self'; style-src 'self'; img-src 'self' data:")
                .header("X-Content-Type-Options", "nosniff")
                .header("Cache-Control", "no-cache");
    }
}
