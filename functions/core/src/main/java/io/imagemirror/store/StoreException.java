package io.imagemirror.store;

/**
 * A storage backend failed: it was unreachable, refused the request, throttled it, or is
 * missing (no such bucket or table). Domain outcomes such as "absent" or "already exists" are
 * return values, never this exception. {@link #isRetryable()} says whether trying again may help.
 */
public class StoreException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final boolean retryable;

    public StoreException(String message, Throwable cause, boolean retryable) {
        super(message, cause);
        this.retryable = retryable;
    }

    public StoreException(String message, Throwable cause) {
        this(message, cause, false);
    }

    public boolean isRetryable() {
        return retryable;
    }
}
