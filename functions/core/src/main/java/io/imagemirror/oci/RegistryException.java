package io.imagemirror.oci;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * A registry said no, or could not be reached: the HTTP status ({@code 0} when no response came),
 * the OCI errors of its body, whether trying again may help, and how long the registry asked us to
 * wait. Messages name the registry, method and path, never credentials, tokens or query strings.
 */
public class RegistryException extends IOException {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final List<OciError> errors;
    private final boolean retryable;
    private final transient Duration retryAfter;

    /** An answer with {@code status} and {@code errors}; retryable as {@link #retryableStatus} says. */
    public RegistryException(String message, int status, List<OciError> errors) {
        this(message, status, errors, null, retryableStatus(status, errors), null);
    }

    /**
     * @param retryAfter what the registry's {@code Retry-After} asked for, or null
     * @param retryable whether the same request may succeed later
     * @param cause the underlying failure, or null
     */
    public RegistryException(String message, int status, List<OciError> errors, Duration retryAfter,
                             boolean retryable, Throwable cause) {
        super(withErrors(message, status, errors), cause);
        this.status = status;
        this.errors = List.copyOf(errors);
        this.retryAfter = retryAfter;
        this.retryable = retryable;
    }

    /** A transport failure (no usable response): retryable. */
    public static RegistryException transport(String message, IOException cause) {
        return new RegistryException(message, 0, List.of(), null, true, cause);
    }

    /** A request we refuse to make or an answer we refuse to accept: never retryable. */
    public static RegistryException refused(String message, ErrorCode code) {
        return new RegistryException(message, 0, List.of(OciError.of(code)), null, false, null);
    }

    /** Whether a request that got {@code status} and {@code errors} may succeed when repeated. */
    public static boolean retryableStatus(int status, List<OciError> errors) {
        if (status == 0 || status == 408 || status == 429) {
            return true;
        }
        if (status >= 500 && status != 501 && status != 505) {
            return true;
        }
        return errors.stream().anyMatch(e -> e.code() == ErrorCode.TOOMANYREQUESTS);
    }

    private static String withErrors(String message, int status, List<OciError> errors) {
        StringBuilder b = new StringBuilder(Objects.requireNonNull(message, "message"));
        if (status > 0) {
            b.append(": HTTP ").append(status);
        }
        if (!errors.isEmpty()) {
            b.append(" (").append(errors.stream().map(OciError::toString).collect(Collectors.joining("; "))).append(')');
        }
        return b.toString();
    }

    /** The HTTP status, or 0 when no response was received. */
    public int status() {
        return status;
    }

    /** The OCI errors of the body (possibly synthesized from the status when the body had none). */
    public List<OciError> errors() {
        return errors;
    }

    public boolean isRetryable() {
        return retryable;
    }

    public boolean hasCode(ErrorCode code) {
        return errors.stream().anyMatch(e -> e.code() == code);
    }

    /** What the registry's {@code Retry-After} asked for. */
    public Optional<Duration> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }
}
