package io.imagemirror.oci;

/**
 * Manifest bytes image-mirror will not store: malformed JSON, too large, a Docker schema 1
 * manifest, or a media type that is not one of the four manifest types. {@link #kind()} tells
 * which; the registry side answers {@code MANIFEST_INVALID} or {@code UNSUPPORTED} accordingly.
 */
public final class InvalidManifestException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /** Why the manifest was refused. */
    public enum Kind { MALFORMED, TOO_LARGE, SCHEMA1, UNSUPPORTED_MEDIA_TYPE }

    private final Kind kind;

    public InvalidManifestException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public InvalidManifestException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    /** Whether the content is well-formed but of a kind we do not support (schema 1, unknown type). */
    public boolean isUnsupported() {
        return kind == Kind.SCHEMA1 || kind == Kind.UNSUPPORTED_MEDIA_TYPE;
    }
}
