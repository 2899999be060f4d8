package io.imagemirror.upstream;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Where credentials for upstream registries come from: static configuration, the user's Docker
 * {@code config.json} ({@link DockerConfigCredentials}), or a secret store on AWS. Looked up by the
 * registry name as users write it ({@code docker.io}, {@code ghcr.io}, {@code 127.0.0.1:5000});
 * implementations accept the usual aliases ({@code index.docker.io}, {@code https://…/v1/}).
 */
@FunctionalInterface
public interface CredentialStore {

    /** The credentials for {@code registry}, or empty for anonymous access. */
    Optional<Credentials> find(String registry);

    /** This store, then {@code fallback} for registries this one does not know. */
    default CredentialStore orElse(CredentialStore fallback) {
        return registry -> {
            Optional<Credentials> c = find(registry);
            return c.isPresent() ? c : fallback.find(registry);
        };
    }

    /** No credentials for anyone. */
    static CredentialStore none() {
        return registry -> Optional.empty();
    }

    /** Fixed credentials per registry (keys are canonicalized with {@link Upstream#canonicalName}). */
    static CredentialStore of(Map<String, Credentials> byRegistry) {
        Map<String, Credentials> copy = new HashMap<>();
        byRegistry.forEach((k, v) -> copy.put(Upstream.canonicalName(k), v));
        return registry -> Optional.ofNullable(copy.get(Upstream.canonicalName(registry)));
    }
}
