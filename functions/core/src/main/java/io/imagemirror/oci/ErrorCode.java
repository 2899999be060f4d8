package io.imagemirror.oci;

/**
 * The error codes of the OCI distribution spec (and the ones Docker's distribution adds that
 * clients meet in practice), each with the HTTP status a registry answers it with. Anything a
 * registry sends that is not listed here parses as {@link #UNKNOWN}.
 */
public enum ErrorCode {
    BLOB_UNKNOWN(404, "blob unknown to registry"),
    BLOB_UPLOAD_INVALID(400, "blob upload invalid"),
    BLOB_UPLOAD_UNKNOWN(404, "blob upload unknown to registry"),
    DIGEST_INVALID(400, "provided digest did not match uploaded content"),
    MANIFEST_BLOB_UNKNOWN(404, "manifest references a manifest or blob unknown to registry"),
    MANIFEST_INVALID(400, "manifest invalid"),
    MANIFEST_UNKNOWN(404, "manifest unknown to registry"),
    NAME_INVALID(400, "invalid repository name"),
    NAME_UNKNOWN(404, "repository name not known to registry"),
    SIZE_INVALID(400, "provided length did not match content length"),
    UNAUTHORIZED(401, "authentication required"),
    DENIED(403, "requested access to the resource is denied"),
    UNSUPPORTED(405, "the operation is unsupported"),
    TOOMANYREQUESTS(429, "too many requests"),
    /** distribution's answer to a {@code Range} it cannot serve. */
    RANGE_INVALID(416, "invalid content range"),
    /** Anything else, including codes this enum does not know. */
    UNKNOWN(500, "unknown error");

    private final int httpStatus;
    private final String defaultMessage;

    ErrorCode(int httpStatus, String defaultMessage) {
        this.httpStatus = httpStatus;
        this.defaultMessage = defaultMessage;
    }

    /** The status a registry answers this error with. */
    public int httpStatus() {
        return httpStatus;
    }

    /** The spec's short description, used when an error is built without a message. */
    public String defaultMessage() {
        return defaultMessage;
    }

    /** The code as it appears in the JSON body ({@code MANIFEST_UNKNOWN}). */
    public String code() {
        return name();
    }

    /** The code named by {@code code}, or {@link #UNKNOWN} for null or anything unrecognized. */
    public static ErrorCode fromCode(String code) {
        if (code == null) {
            return UNKNOWN;
        }
        for (ErrorCode c : values()) {
            if (c.name().equals(code)) {
                return c;
            }
        }
        return UNKNOWN;
    }
}
