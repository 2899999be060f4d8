package io.imagemirror.reference;

import io.imagemirror.oci.EchoedInput;
import java.util.Objects;

/**
 * A repository in a registry, in its one canonical form: {@code docker.io/library/alpine},
 * {@code ghcr.io/org/app}, {@code 127.0.0.1:5000/base}. Its {@link #toString()} is the key the
 * index stores the repository under, so two spellings of one repository
 * ({@code index.docker.io/alpine}, {@code registry-1.docker.io/library/alpine}) are one key.
 *
 * <p>Always canonical: {@link #of} folds Docker Hub's aliases and adds {@code library/} (see
 * {@link ReferenceGrammar}); there is no way to build a non-canonical one. Immutable; equality
 * is on the canonical form.
 */
public final class RepositoryName implements Comparable<RepositoryName> {

    private final String registry;
    private final String path;

    private RepositoryName(String registry, String path) {
        this.registry = registry;
        this.path = path;
    }

    /**
     * The repository {@code path} in {@code registry}, both as written; Docker Hub's defaults are
     * applied.
     *
     * @throws InvalidReferenceException when the registry is not {@code host[:port]}, the path
     *     breaks the grammar, or the canonical name is longer than 255 characters
     */
    public static RepositoryName of(String registry, String path) {
        Objects.requireNonNull(registry, "registry");
        Objects.requireNonNull(path, "path");
        String written = registry + "/" + path;
        if (path.length() > ReferenceGrammar.NAME_MAX_LENGTH) {
            // refused before any pattern runs over it
            throw tooLong(written);
        }
        ReferenceGrammar.checkRegistry(written, registry);
        ReferenceGrammar.checkPath(written, path);
        String canonicalRegistry = ReferenceGrammar.canonicalRegistry(registry);
        RepositoryName name = new RepositoryName(canonicalRegistry,
                ReferenceGrammar.officialRepository(canonicalRegistry, path));
        if (name.toString().length() > ReferenceGrammar.NAME_MAX_LENGTH) {
            throw tooLong(written);
        }
        return name;
    }

    private static InvalidReferenceException tooLong(String written) {
        return new InvalidReferenceException(InvalidReferenceException.Problem.NAME_TOO_LONG,
                "invalid reference \"" + EchoedInput.of(written) + "\": canonical name is longer than "
                        + ReferenceGrammar.NAME_MAX_LENGTH + " characters");
    }

    /**
     * A repository key as {@link #toString()} wrote it: {@code <registry>/<path>}, the registry
     * always present.
     *
     * @throws InvalidReferenceException when it is not one
     */
    public static RepositoryName parse(String key) {
        Objects.requireNonNull(key, "key");
        int slash = key.indexOf('/');
        if (slash <= 0) {
            throw new InvalidReferenceException(InvalidReferenceException.Problem.INVALID_REGISTRY,
                    "invalid repository key \"" + EchoedInput.of(key) + "\": expected <registry>/<repository>");
        }
        return of(key.substring(0, slash), key.substring(slash + 1));
    }

    /** The canonical registry: {@code docker.io}, {@code ghcr.io}, {@code 127.0.0.1:5000}. */
    public String registry() {
        return registry;
    }

    /** The repository within the registry: {@code library/alpine}. */
    public String path() {
        return path;
    }

    /** The key: {@code <registry>/<path>}. */
    @Override
    public String toString() {
        return registry + "/" + path;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RepositoryName n && n.registry.equals(registry) && n.path.equals(path);
    }

    @Override
    public int hashCode() {
        return Objects.hash(registry, path);
    }

    @Override
    public int compareTo(RepositoryName o) {
        return toString().compareTo(o.toString());
    }
}
