package io.imagemirror.api;

import io.imagemirror.oci.ErrorCode;
import io.imagemirror.oci.OciError;
import java.util.List;

/** Error answers in the OCI distribution error format, for every API image-mirror serves. */
public final class ApiErrors {
    private ApiErrors() {
    }

    /** An error with the code's own HTTP status. */
    public static ApiResponse of(ErrorCode code, String message) {
        return of(code.httpStatus(), code, message);
    }

    /** An error with an explicit HTTP status. */
    public static ApiResponse of(int status, ErrorCode code, String message) {
        return ApiResponse.json(status, OciError.toJson(List.of(OciError.of(code, message))));
    }
}
