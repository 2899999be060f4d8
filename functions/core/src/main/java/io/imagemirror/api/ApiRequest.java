package io.imagemirror.api;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.imagemirror.oci.EchoedInput;
import io.imagemirror.oci.ErrorCode;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
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

    /**
     * Refuses a write a web page could have made on the user's behalf (a cross-site request to a
     * loopback listener needs no CORS preflight for a form-like POST): an {@code Origin} that is not
     * this server's own ({@code Host}), or a browser's {@code Sec-Fetch-Site} saying the request
     * came from another site. Clients that are not browsers send neither and pass.
     *
     * @throws RequestRefusedException 403 {@code DENIED} with the reason
     */
    public void requireSameOrigin() throws RequestRefusedException {
        Optional<String> fetchSite = header("Sec-Fetch-Site");
        if (fetchSite.isPresent() && !fetchSite.get().equalsIgnoreCase("same-origin")
                && !fetchSite.get().equalsIgnoreCase("none")) {
            throw new RequestRefusedException(403, ErrorCode.DENIED,
                    "cross-site request refused (Sec-Fetch-Site: " + EchoedInput.of(fetchSite.get()) + ")");
        }
        Optional<String> origin = header("Origin");
        if (origin.isEmpty()) {
            return;
        }
        Optional<String> host = header("Host");
        String originAuthority = originAuthority(origin.get().trim());
        if (host.isEmpty() || originAuthority == null || !originAuthority.equalsIgnoreCase(host.get().trim())) {
            throw new RequestRefusedException(403, ErrorCode.DENIED, "request from origin "
                    + EchoedInput.of(origin.get()) + " refused: only this server's own origin may write");
        }
    }

    /** {@code host[:port]} of an Origin value, without the scheme's default port; null when it is not one. */
    private static String originAuthority(String origin) {
        URI uri;
        try {
            uri = new URI(origin);
        } catch (URISyntaxException e) {
            return null;
        }
        if (uri.getScheme() == null || uri.getHost() == null || (uri.getPath() != null && !uri.getPath().isEmpty())) {
            return null; // includes the opaque origin "null"
        }
        int port = uri.getPort();
        boolean defaultPort = port == -1 || (port == 80 && uri.getScheme().equalsIgnoreCase("http"))
                || (port == 443 && uri.getScheme().equalsIgnoreCase("https"));
        return defaultPort ? uri.getHost() : uri.getHost() + ":" + port;
    }

    /**
     * The body as exactly one JSON value, as its text: the request must say
     * {@code Content-Type: application/json} (a web page cannot send that cross-site without a
     * preflight), the body must fit {@code maxBytes}, be well-formed and have nothing after the value.
     *
     * @throws RequestRefusedException 415, 413 or 400 with the reason
     */
    public String jsonBody(int maxBytes) throws IOException, RequestRefusedException {
        String type = header("Content-Type").orElse("");
        String[] parts = type.split(";");
        if (!parts[0].trim().equalsIgnoreCase("application/json")) {
            throw new RequestRefusedException(415, ErrorCode.UNSUPPORTED,
                    "Content-Type must be application/json, not \"" + EchoedInput.of(type) + "\"");
        }
        for (int i = 1; i < parts.length; i++) {
            String p = parts[i].trim().toLowerCase(Locale.ROOT).replace("\"", "");
            if (p.startsWith("charset=") && !p.equals("charset=utf-8")) {
                throw new RequestRefusedException(415, ErrorCode.UNSUPPORTED,
                        "the JSON body must be UTF-8, not " + EchoedInput.of(p));
            }
        }
        byte[] bytes = body.readNBytes(maxBytes + 1);
        if (bytes.length > maxBytes) {
            throw new RequestRefusedException(413, ErrorCode.SIZE_INVALID,
                    "request body larger than " + maxBytes + " bytes");
        }
        try (JsonParser parser = STRICT_JSON.createParser(bytes)) {
            if (STRICT_JSON.readTree(parser) == null) {
                throw new RequestRefusedException(400, ErrorCode.UNKNOWN,
                        "request body is empty: expected one JSON value");
            }
            boolean trailing;
            try {
                trailing = parser.nextToken() != null;
            } catch (JsonProcessingException garbage) {
                trailing = true;
            }
            if (trailing) {
                throw new RequestRefusedException(400, ErrorCode.UNKNOWN,
                        "request body has content after its JSON value");
            }
        } catch (JsonProcessingException e) {
            throw new RequestRefusedException(400, ErrorCode.UNKNOWN,
                    "request body is not valid JSON: " + e.getOriginalMessage());
        }
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static final ObjectMapper STRICT_JSON =
            new ObjectMapper();

    public boolean isHead() {
        return method.equals("HEAD");
    }

    public boolean isRead() {
        return method.equals("GET") || method.equals("HEAD");
    }
}
