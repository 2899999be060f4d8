package io.imagemirror.mirror;

import io.imagemirror.oci.Digest;
import java.io.IOException;

/**
 * A mirror that could not finish. The message names the reference, the blob or manifest that
 * failed when there is one, and the cause; nothing half-written is visible (each store write is
 * verified and atomic), so running the same mirror again continues where this one stopped.
 */
public final class MirrorException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Digest content;

    public MirrorException(String message, Digest content, Throwable cause) {
        super(message, cause);
        this.content = content;
    }

    public MirrorException(String message) {
        super(message);
        this.content = null;
    }

    /** The blob or manifest being copied when it failed, or null. */
    public Digest content() {
        return content;
    }
}
