package io.imagemirror.cache;

import java.util.Objects;

/**
 * Where a {@code /v2/<name>} request points: an upstream registry and a repository in it, and the
 * name the client used (which links and catalog entries repeat back).
 *
 * @param registry canonical upstream name ({@code docker.io})
 * @param repository repository within it ({@code library/alpine})
 * @param clientName the {@code <name>} as the client wrote it
 */
public record Target(String registry, String repository, String clientName) {
    public Target {
        Objects.requireNonNull(registry, "registry");
        Objects.requireNonNull(repository, "repository");
        Objects.requireNonNull(clientName, "clientName");
    }

    /** The key the index stores the repository under: {@code <registry>/<repository>}. */
    public String repositoryKey() {
        return registry + "/" + repository;
    }
}
