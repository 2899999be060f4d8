package io.imagemirror.aws.handlers;

import com.amazonaws.services.lambda.runtime.Context;
import java.time.Instant;
import java.util.regex.Pattern;

/**
 * The functions' log: one JSON object per line ({@code timestamp}, {@code level}, {@code requestId},
 * {@code message}) that CloudWatch Logs Insights reads field by field. The request id is the
 * invocation's on every line, also from other threads (an execution environment runs one
 * invocation at a time). Messages are scrubbed of what could be secret: URL query strings (a
 * presigned URL's signature), {@code Authorization} values and bearer or basic credentials,
 * token and password parameters.
 */
public final class LambdaLog {

    private static final Pattern QUERY = Pattern.compile("(https?://[^\\s?\"'<>]*)\\?[^\\s\"'<>]*");
    private static final Pattern SCHEME_CREDENTIAL = Pattern.compile("(?i)\\b(bearer|basic)\\s+[A-Za-z0-9._~+/=-]+");
    private static final Pattern NAMED_SECRET = Pattern.compile(
            "(?i)\\b(authorization|x-amz-security-token|x-amz-signature|access_token|token|password|secret)"
                    + "(\"?\\s*[:=]\\s*\"?)[^\\s&\",;]+");
    private static volatile String requestId;

    private LambdaLog() {
    }

    /** The invocation that lines belong to from now on, until {@link #end()}. */
    static void begin(Context context) {
        requestId = context == null ? null : context.getAwsRequestId();
    }

    static void end() {
        requestId = null;
    }

    /** The request id of the invocation running now, or null outside one. */
    static String requestId() {
        return requestId;
    }

    /** An informational line of a handler. */
    static void line(Context context, String message) {
        write(context, "INFO", message);
    }

    /** An informational line of the engine (e.g. a fill lease's wait or take-over). */
    public static void info(String message) {
        write(null, "INFO", message);
    }

    /** A warning (the engine's notable events: stale serving, background failures). */
    public static void warn(String message) {
        write(null, "WARN", message);
    }

    private static void write(Context context, String level, String message) {
        String line = json(Instant.now(), level, requestId, message);
        if (context != null && context.getLogger() != null) {
            context.getLogger().log(line + "\n");
        } else {
            System.out.println(line);
        }
    }

    static String json(Instant at, String level, String requestId, String message) {
        StringBuilder b = new StringBuilder(64 + message.length());
        b.append("{\"timestamp\":\"").append(at).append("\",\"level\":\"").append(level).append('"');
        if (requestId != null) {
            b.append(",\"requestId\":");
            quote(b, requestId);
        }
        b.append(",\"message\":");
        quote(b, redact(message));
        return b.append('}').toString();
    }

    /** {@code text} without URL query strings, credentials after an auth scheme, or named secrets. */
    static String redact(String text) {
        String out = QUERY.matcher(text).replaceAll("$1?<redacted>");
        out = SCHEME_CREDENTIAL.matcher(out).replaceAll("$1 <redacted>");
        return NAMED_SECRET.matcher(out).replaceAll("$1$2<redacted>");
    }

    private static void quote(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }
}
