package io.imagemirror.api;

import io.imagemirror.oci.ErrorCode;

/**
 * A request refused before its route ran (a cross-site write, a body that is not one JSON value),
 * with the status and OCI error code its answer carries and the reason as the message.
 */
public final class RequestRefusedException extends Exception {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final transient ErrorCode code;

    public RequestRefusedException(int status, ErrorCode code, String reason) {
        super(reason);
        this.status = status;
        this.code = code;
    }

    public int status() {
        return status;
    }

    public ErrorCode code() {
        return code;
    }

    /** The OCI error answer. */
    public ApiResponse response() {
        return ApiErrors.of(status, code, getMessage());
    }
}
