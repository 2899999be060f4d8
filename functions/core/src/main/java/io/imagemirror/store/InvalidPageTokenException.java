package io.imagemirror.store;

/**
 * A page token that this listing did not issue (garbled, from another listing, or forged). The same
 * on every adapter; HTTP maps it to 400.
 */
public final class InvalidPageTokenException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public InvalidPageTokenException(String token) {
        super("invalid page token" + (token == null || token.length() > 80 ? "" : " \"" + token + "\""));
    }
}
