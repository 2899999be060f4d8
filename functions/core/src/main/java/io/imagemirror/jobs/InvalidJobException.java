package io.imagemirror.jobs;

/**
 * A stored job this release cannot run: its kind is unknown (written by a newer release, or
 * garbage) or its payload does not read as that kind. Running it again would fail the same way.
 */
public final class InvalidJobException extends Exception {
    private static final long serialVersionUID = 1L;

    public InvalidJobException(String message, Throwable cause) {
        super(message, cause);
    }
}
