package io.imagemirror.aws.handlers;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import io.imagemirror.api.ApiErrors;
import io.imagemirror.api.ApiHandler;
import io.imagemirror.api.ApiRequest;
import io.imagemirror.api.ApiResponse;
import io.imagemirror.oci.ErrorCode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Carries image-mirror's APIs over API Gateway HTTP APIs (payload format 2.0): turns the event
 * into an {@link ApiRequest}, and an {@link ApiResponse} back into the proxy response. Every
 * HTTP-API handler ({@code /v1}, {@code /v2}) goes through {@link #serve}.
 *
 * <p>Request: the path is {@code rawPath} percent-decoded, without the stage prefix of a named
 * stage; the query is {@code rawQueryString}; a base64 body is decoded. Response: JSON and text
 * bodies that are valid UTF-8 go as text, anything else base64 (so a manifest's bytes, and hence
 * its digest, survive). A streamed body is read into the response, at most
 * {@link #MAX_BODY_BYTES} (Lambda's 6 MB payload limit after base64): larger bodies must be
 * redirects. For {@code HEAD} only the headers are returned. Stateless, thread-safe.
 */
public final class HttpApiAdapter {

    /** The largest body a response can carry: 4 MiB, ~5.6 MB once base64-encoded. */
    public static final int MAX_BODY_BYTES = 4 * 1024 * 1024;
    private static final String DEFAULT_STAGE = "$default";

    private HttpApiAdapter() {
    }

    /**
     * Answers {@code event} with {@code handler}. A malformed event is a 400; a handler exception
     * is logged (class and message only) and answered 500 with the request id, never its detail.
     */
    public static APIGatewayV2HTTPResponse serve(ApiHandler handler, APIGatewayV2HTTPEvent event, Context context) {
        ApiRequest request;
        try {
            request = request(event);
        } catch (IllegalArgumentException e) {
            return error(ApiErrors.of(400, ErrorCode.UNSUPPORTED, e.getMessage()));
        }
        try (ApiResponse answer = handler.handle(request)) {
            return response(answer, request.isHead());
        } catch (Exception e) {
            String requestId = context == null ? "-" : context.getAwsRequestId();
            LambdaLog.line(context, request.method() + " " + request.path() + " failed: " + e);
            return error(ApiErrors.of(500, ErrorCode.UNKNOWN, "internal error (request " + requestId + ")"));
        }
    }

    /**
     * The API request an HTTP API event carries.
     *
     * @throws IllegalArgumentException when the event has no method or path, or a bad base64 body
     */
    public static ApiRequest request(APIGatewayV2HTTPEvent event) {
        var ctx = event.getRequestContext();
        String method = ctx == null || ctx.getHttp() == null ? null : ctx.getHttp().getMethod();
        String rawPath = event.getRawPath();
        if (method == null || rawPath == null) {
            throw new IllegalArgumentException("not an HTTP API (payload 2.0) event: no method or rawPath");
        }
        String path = decodePath(stripStage(rawPath, ctx.getStage()));
        Map<String, List<String>> headers = new LinkedHashMap<>();
        if (event.getHeaders() != null) {
            // Payload 2.0 joins repeated headers with commas; ApiRequest.headerValues splits them again.
            event.getHeaders().forEach((k, v) -> headers.put(k, List.of(v == null ? "" : v)));
        }
        if (event.getCookies() != null && !event.getCookies().isEmpty()) {
            headers.put("cookie", List.of(String.join("; ", event.getCookies())));
        }
        return new ApiRequest(method, path, ApiRequest.parseQuery(event.getRawQueryString()), headers,
                body(event), false);
    }

    private static InputStream body(APIGatewayV2HTTPEvent event) {
        String body = event.getBody();
        if (body == null || body.isEmpty()) {
            return InputStream.nullInputStream();
        }
        if (event.getIsBase64Encoded()) {
            try {
                return new ByteArrayInputStream(Base64.getMimeDecoder().decode(body));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("request body is marked base64 but is not valid base64");
            }
        }
        return new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8));
    }

    /** A named stage appears as the first path segment of {@code rawPath}; {@code $default} does not. */
    static String stripStage(String rawPath, String stage) {
        if (stage == null || stage.isEmpty() || stage.equals(DEFAULT_STAGE)) {
            return rawPath;
        }
        String prefix = "/" + stage;
        if (rawPath.equals(prefix)) {
            return "/";
        }
        return rawPath.startsWith(prefix + "/") ? rawPath.substring(prefix.length()) : rawPath;
    }

    /** Percent-decoding only: a {@code +} in a path is a plus. */
    static String decodePath(String raw) {
        if (raw.indexOf('%') < 0) {
            return raw;
        }
        try {
            return URLDecoder.decode(raw.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("path has a malformed percent-escape");
        }
    }

    /**
     * The proxy response for {@code answer}; a streamed body is read (and closed by the caller).
     *
     * @param head whether the request was a HEAD (headers only)
     */
    public static APIGatewayV2HTTPResponse response(ApiResponse answer, boolean head) throws IOException {
        byte[] bytes = answer.body();
        if (!head && bytes == null && answer.stream() != null) {
            bytes = answer.stream().readNBytes(MAX_BODY_BYTES + 1);
            if (bytes.length > MAX_BODY_BYTES) {
                throw new IOException("response body larger than " + MAX_BODY_BYTES
                        + " bytes cannot pass through Lambda; redirect instead");
            }
        }
        APIGatewayV2HTTPResponse out = new APIGatewayV2HTTPResponse();
        out.setStatusCode(answer.status());
        out.setHeaders(new LinkedHashMap<>(answer.headers()));
        if (head || bytes == null || bytes.length == 0) {
            out.setIsBase64Encoded(false);
            return out;
        }
        String text = isTextual(answer.header("Content-Type")) ? utf8(bytes) : null;
        if (text != null) {
            out.setBody(text);
            out.setIsBase64Encoded(false);
        } else {
            out.setBody(Base64.getEncoder().encodeToString(bytes));
            out.setIsBase64Encoded(true);
        }
        return out;
    }

    private static APIGatewayV2HTTPResponse error(ApiResponse answer) {
        try {
            return response(answer, false);
        } catch (IOException e) {
            throw new IllegalStateException("in-memory error response", e);
        }
    }

    private static boolean isTextual(String contentType) {
        if (contentType == null) {
            return false;
        }
        String t = contentType.toLowerCase(Locale.ROOT);
        int semi = t.indexOf(';');
        t = (semi < 0 ? t : t.substring(0, semi)).trim();
        return t.startsWith("text/") || t.equals("application/json") || t.endsWith("+json");
    }

    /** The bytes as a string if they are valid UTF-8 (so the string encodes back to exactly them), else null. */
    private static String utf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
