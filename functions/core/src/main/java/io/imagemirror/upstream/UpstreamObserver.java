package io.imagemirror.upstream;

import io.imagemirror.oci.RegistryException;
import java.util.Optional;

/**
 * Hears what a {@link RegistryClient} exchanges with its upstream: every answer from the upstream
 * itself (not from a redirect target or token realm), and every request that failed for good. Called
 * on the request's thread: implementations must be quick, thread-safe, and must not throw.
 */
public interface UpstreamObserver {

    /** Does nothing. */
    UpstreamObserver NONE = new UpstreamObserver() {
    };

    /** What a request asked for, by its path. */
    enum Kind {
        MANIFEST, BLOB, TAGS, OTHER
    }

    /**
     * An answer from the upstream.
     *
     * @param upstream the upstream's canonical name
     * @param quota the {@code ratelimit-*} headers of the answer, if it had them
     */
    default void answered(String upstream, String method, Kind kind, int status, Optional<RateLimit> quota) {
    }

    /**
     * A request that failed for good (after its retries) with an error worth reporting: 401, 403, 429,
     * 5xx or a transport failure. Not called for 404s, which are answers.
     */
    default void failed(String upstream, RegistryException failure) {
    }
}
