package io.imagemirror.cache;

import io.imagemirror.reference.RepositoryName;
import java.util.Objects;

/**
 * Where a {@code /v2/<name>} request points: an upstream repository, and the name the client used
 * (which links and catalog entries repeat back).
 *
 * @param name the canonical repository ({@code docker.io/library/alpine})
 * @param clientName the {@code <name>} as the client wrote it
 */
public record Target(RepositoryName name, String clientName) {
    public Target {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(clientName, "clientName");
    }

    /** The canonical upstream registry ({@code docker.io}). */
    public String registry() {
        return name.registry();
    }

    /** The repository within it ({@code library/alpine}). */
    public String repository() {
        return name.path();
    }

    /** The key the index stores the repository under: {@code <registry>/<repository>}. */
    public String repositoryKey() {
        return name.toString();
    }
}
