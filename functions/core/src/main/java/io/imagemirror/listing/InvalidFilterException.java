package io.imagemirror.listing;

/** A listing filter or format that cannot be applied; the message names it (CLI exit 2, HTTP 400). */
public final class InvalidFilterException extends IllegalArgumentException {
    public InvalidFilterException(String message) {
        super(message);
    }
}
