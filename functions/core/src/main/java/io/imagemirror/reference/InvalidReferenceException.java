package io.imagemirror.reference;

/**
 * An image reference that does not follow distribution's grammar. {@link #problem()} says which
 * rule it broke; the message names the offending part.
 */
public final class InvalidReferenceException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /** Which rule of the grammar was broken. */
    public enum Problem {
        EMPTY,
        UPPERCASE_REPOSITORY,
        EMPTY_PATH_COMPONENT,
        INVALID_PATH_COMPONENT,
        INVALID_REGISTRY,
        NAME_TOO_LONG,
        INVALID_TAG,
        TAG_TOO_LONG,
        INVALID_DIGEST
    }

    private final Problem problem;

    InvalidReferenceException(Problem problem, String message) {
        super(message);
        this.problem = problem;
    }

    InvalidReferenceException(Problem problem, String message, Throwable cause) {
        super(message, cause);
        this.problem = problem;
    }

    public Problem problem() {
        return problem;
    }
}
