package io.imagemirror.api;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * An HTTP response from image-mirror's APIs: status, headers and a body that is either bytes held
 * in memory (JSON, manifests of at most 4 MiB) or a stream of known length (a blob) that the carrier
 * copies out and closes. For {@code HEAD} the carrier sends the headers only.
 */
public final class ApiResponse implements AutoCloseable {

    private final int status;
    private final Map<String, String> headers;
    private final byte[] bytes;
    private final InputStream stream;
    private final long length;
    private String failure;

    private ApiResponse(int status, Map<String, String> headers, byte[] bytes, InputStream stream, long length) {
        this.status = status;
        this.headers = headers;
        this.bytes = bytes;
        this.stream = stream;
        this.length = length;
    }

    /** A response with an in-memory body (may be empty). */
    public static ApiResponse bytes(int status, String contentType, byte[] body) {
        Map<String, String> h = new LinkedHashMap<>();
        if (contentType != null) {
            h.put("Content-Type", contentType);
        }
        byte[] b = body == null ? new byte[0] : body;
        h.put("Content-Length", Long.toString(b.length));
        return new ApiResponse(status, h, b, null, b.length);
    }

    /** A JSON response. */
    public static ApiResponse json(int status, String json) {
        return bytes(status, "application/json", json.getBytes(StandardCharsets.UTF_8));
    }

    /** A streamed response of exactly {@code length} bytes; the carrier closes {@code body}. */
    public static ApiResponse stream(int status, String contentType, InputStream body, long length) {
        Objects.requireNonNull(body, "body");
        Map<String, String> h = new LinkedHashMap<>();
        if (contentType != null) {
            h.put("Content-Type", contentType);
        }
        h.put("Content-Length", Long.toString(length));
        return new ApiResponse(status, h, null, body, length);
    }

    /** A response without body whose {@code Content-Length} describes what a GET would return. */
    public static ApiResponse headOnly(int status, String contentType, long length) {
        Map<String, String> h = new LinkedHashMap<>();
        if (contentType != null) {
            h.put("Content-Type", contentType);
        }
        h.put("Content-Length", Long.toString(length));
        return new ApiResponse(status, h, null, null, length);
    }

    /** A redirect (307 keeps the method, as registries do for blobs). */
    public static ApiResponse redirect(int status, URI location) {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("Location", location.toString());
        h.put("Content-Length", "0");
        return new ApiResponse(status, h, new byte[0], null, 0);
    }

    /**
     * Notes why this answer is a failure, for the carrier's one log line about the request (the
     * client gets the error JSON; the operator gets the cause).
     */
    public ApiResponse failure(String cause) {
        this.failure = cause;
        return this;
    }

    /** The cause noted with {@link #failure(String)}, or null. */
    public String failure() {
        return failure;
    }

    /** Adds or replaces a header. */
    public ApiResponse header(String name, String value) {
        headers.put(name, value);
        return this;
    }

    public int status() {
        return status;
    }

    public Map<String, String> headers() {
        return Collections.unmodifiableMap(headers);
    }

    /** The header value, or null. */
    public String header(String name) {
        for (Map.Entry<String, String> e : headers.entrySet()) {
            if (e.getKey().equalsIgnoreCase(name)) {
                return e.getValue();
            }
        }
        return null;
    }

    /** The in-memory body, or null for a streamed or headers-only response. */
    public byte[] body() {
        return bytes;
    }

    /** The streamed body, or null. */
    public InputStream stream() {
        return stream;
    }

    /** The body's length (what {@code Content-Length} says). */
    public long length() {
        return length;
    }

    public String bodyText() {
        return bytes == null ? "" : new String(bytes, StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws IOException {
        if (stream != null) {
            stream.close();
        }
    }
}
