package io.imagemirror.oci;

/** A string that is not a valid content digest; the message names what is wrong with it. */
public final class InvalidDigestException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public InvalidDigestException(String message) {
        super(message);
    }
}
