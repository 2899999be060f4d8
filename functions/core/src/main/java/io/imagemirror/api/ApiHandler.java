package io.imagemirror.api;

/**
 * Answers one API request. Implementations never throw for a client's mistake: they answer with
 * an error response in the OCI error format. An exception means the server failed (answered 500).
 */
@FunctionalInterface
public interface ApiHandler {
    ApiResponse handle(ApiRequest request) throws Exception;
}
