package io.imagemirror.api;

import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * An HTTP request as image-mirror's APIs see it, whatever carried it (the local server or API
 * Gateway). Header names are matched case-insensitively. The body, when there is one, is read by
 * the route that needs it; the carrier closes it.
 *
 * @param method upper-case method
 * @param path the decoded path, starting with {@code /}
 * @param query query parameters in order (decoded)
 * @param headers headers, keys lower-cased
 * @param body the request body (empty stream when none)
 * @param fromLoopback whether the peer connected over loopback (local server only)
 */
public record ApiRequest(String method, String path, Map<String, List<String>> query,
                         Map<String, List<String>> headers, InputStream body, boolean fromLoopback) {

    public ApiRequest {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(path, "path");
        method = method.toUpperCase(Locale.ROOT);
        query = copy(query, false);
        headers = copy(headers, true);
        body = body == null ? InputStream.nullInputStream() : body;
    }

    private static Map<String, List<String>> copy(Map<String, List<String>> in, boolean lowerKeys) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        if (in != null) {
            in.forEach((k, v) -> {
                if (k != null) {
                    out.computeIfAbsent(lowerKeys ? k.toLowerCase(Locale.ROOT) : k, x -> new ArrayList<>())
                            .addAll(v == null ? List.of() : v);
                }
            });
        }
        out.replaceAll((k, v) -> List.copyOf(v));
        return Collections.unmodifiableMap(out);
    }

    /** A request with no body, for tests and simple carriers. */
    public static ApiRequest of(String method, String pathAndQuery, Map<String, List<String>> headers) {
        int q = pathAndQuery.indexOf('?');
        String path = q < 0 ? pathAndQuery : pathAndQuery.substring(0, q);
        return new ApiRequest(method, path, q < 0 ? Map.of() : parseQuery(pathAndQuery.substring(q + 1)),
                headers, null, true);
    }

    /** Parses a raw (still encoded) query string. */
    public static Map<String, List<String>> parseQuery(String raw) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        if (raw == null || raw.isEmpty()) {
            return out;
        }
        for (String pair : raw.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String k = decode(eq < 0 ? pair : pair.substring(0, eq));
            String v = eq < 0 ? "" : decode(pair.substring(eq + 1));
            out.computeIfAbsent(k, x -> new ArrayList<>()).add(v);
        }
        return out;
    }

    private static String decode(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return s;
        }
    }

    /** The first value of a header. */
    public Optional<String> header(String name) {
        List<String> v = headers.get(name.toLowerCase(Locale.ROOT));
        return v == null || v.isEmpty() ? Optional.empty() : Optional.of(v.get(0));
    }

    /** Every value of a header, split on commas (for {@code Accept}). */
    public List<String> headerValues(String name) {
        List<String> out = new ArrayList<>();
        for (String v : headers.getOrDefault(name.toLowerCase(Locale.ROOT), List.of())) {
            for (String part : v.split(",")) {
                if (!part.isBlank()) {
                    out.add(part.trim());
                }
            }
        }
        return out;
    }

    /** The first value of a query parameter. */
    public Optional<String> queryParam(String name) {
        List<String> v = query.get(name);
        return v == null || v.isEmpty() ? Optional.empty() : Optional.of(v.get(0));
    }

    public boolean isHead() {
        return method.equals("HEAD");
    }

    public boolean isRead() {
        return method.equals("GET") || method.equals("HEAD");
    }
}
