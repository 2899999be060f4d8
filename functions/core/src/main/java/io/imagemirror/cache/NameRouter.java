package io.imagemirror.cache;

import io.imagemirror.config.MirrorConfig;
import io.imagemirror.oci.EchoedInput;
import io.imagemirror.oci.ErrorCode;
import io.imagemirror.oci.RegistryException;
import io.imagemirror.reference.ImageReference;
import io.imagemirror.reference.InvalidReferenceException;
import io.imagemirror.reference.ReferenceGrammar;
import io.imagemirror.reference.RepositoryName;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What a name means on this mirror: the one resolution every entry point uses ({@code /v2}
 * routing, {@code POST /v1/mirror}, the CLI), so one name is one repository key everywhere.
 * Names are checked by {@link ReferenceGrammar}; then
 * <ul>
 *   <li>with {@code ?ns=<registry>} (what containerd sends when it uses us as a mirror of any
 *       registry, {@code /v2} only), that registry and the name as the repository;</li>
 *   <li>{@code <prefix>/<repo>} where the prefix is a configured upstream's prefix (by default its
 *       registry name, e.g. {@code ghcr.io}), that upstream;</li>
 *   <li>{@code <registry>/<repo>} (the first component looks like a host), that registry, with
 *       Docker Hub's aliases folded into {@code docker.io};</li>
 *   <li>otherwise the default upstream ({@code docker.io} unless configured).</li>
 * </ul>
 * On {@code docker.io} a single-name repository gets {@code library/}. Only {@link #route} checks
 * the allow-list: a name on a registry that is not configured is refused there ({@code DENIED})
 * before anything is looked up (invariant 6); a mirror of it is refused by the upstream clients.
 * Immutable and thread-safe.
 */
public final class NameRouter {

    private final MirrorConfig config;

    public NameRouter(MirrorConfig config) {
        this.config = config;
    }

    /**
     * A reference as a user writes it ({@code alpine}, {@code library/base:1},
     * {@code ghcr.io/org/app@sha256:...}) resolved on this mirror: canonical registry and
     * repository, tag {@code latest} when neither tag nor digest was given. Does not check that the
     * registry is configured.
     *
     * @throws InvalidReferenceException when the reference breaks the grammar
     */
    public ImageReference resolve(String reference) {
        ImageReference written = ImageReference.parse(reference);
        RepositoryName name = repositoryOf(written);
        String tag = written.tag().orElse(written.digest().isPresent() ? null : ReferenceGrammar.DEFAULT_TAG);
        return ImageReference.of(name, tag, written.digest().orElse(null));
    }

    /**
     * Where a {@code /v2/<name>/...} request points.
     *
     * @param ns the registry containerd names with {@code ?ns=}, if any
     * @throws RegistryException {@code NAME_INVALID} for a malformed name, {@code DENIED} for a
     *     registry that is not configured
     */
    public Target route(String name, Optional<String> ns) throws RegistryException {
        RepositoryName repository;
        try {
            if (ns.isPresent() && !ns.get().isBlank()) {
                String registry = ns.get().trim();
                if (!ReferenceGrammar.isRegistry(registry)) {
                    throw notConfigured(registry);
                }
                ReferenceGrammar.checkPath(name, name);
                repository = RepositoryName.of(registry, name);
            } else {
                repository = repositoryOf(ImageReference.parseName(name));
            }
        } catch (InvalidReferenceException e) {
            throw RegistryException.refused(e.getMessage(), ErrorCode.NAME_INVALID);
        }
        if (!isConfigured(repository.registry())) {
            throw notConfigured(repository.registry());
        }
        return new Target(repository, name);
    }

    /**
     * The shortest name a client can use for a stored repository key (for {@code _catalog}): the
     * path on the default upstream, else {@code <prefix>/<path>}, else the key itself; always one
     * that routes back to the key.
     */
    public String clientName(String repositoryKey) {
        RepositoryName name = RepositoryName.parse(repositoryKey);
        List<String> candidates = new ArrayList<>();
        if (name.registry().equals(config.defaultUpstream())) {
            candidates.add(name.path());
        }
        config.upstream(name.registry()).ifPresent(u -> candidates.add(u.prefix() + "/" + name.path()));
        for (String candidate : candidates) {
            try {
                if (repositoryOf(ImageReference.parseName(candidate)).equals(name)) {
                    return candidate;
                }
            } catch (InvalidReferenceException e) {
                // a prefix that is not a name component: the key itself follows
            }
        }
        return name.toString();
    }

    /**
     * How listings show a stored repository key: {@link #clientName}, without Docker Hub's
     * {@code library/} when the short name routes back to the same key ({@code alpine}, as docker
     * shows it), so {@code reference=} patterns match what users write.
     */
    public String displayName(String repositoryKey) {
        String name = clientName(repositoryKey);
        String official = ReferenceGrammar.OFFICIAL_NAMESPACE + "/";
        if (name.startsWith(official) && name.indexOf('/', official.length()) < 0) {
            String shortName = name.substring(official.length());
            try {
                if (repositoryOf(ImageReference.parseName(shortName)).toString().equals(repositoryKey)) {
                    return shortName;
                }
            } catch (InvalidReferenceException e) {
                // keep the client name
            }
        }
        return name;
    }

    /** Whether {@code registry} (canonical) is a configured upstream. */
    public boolean isConfigured(String registry) {
        return config.upstream(registry).isPresent();
    }

    /**
     * The repository a strictly parsed reference names on this mirror (its tag and digest are
     * ignored): the routing rules of the class comment. Does not check the allow-list.
     *
     * @throws InvalidReferenceException when the canonical name is longer than 255 characters
     */
    public RepositoryName repositoryOf(ImageReference written) {
        String path = written.repository();
        if (!written.registry().isEmpty()) {
            return config.upstreamByPrefix(written.registry())
                    .map(u -> RepositoryName.of(u.name(), path))
                    .orElseGet(() -> RepositoryName.of(written.registry(), path));
        }
        int slash = path.indexOf('/');
        if (slash > 0) {
            Optional<MirrorConfig.UpstreamConfig> byPrefix = config.upstreamByPrefix(path.substring(0, slash));
            if (byPrefix.isPresent()) {
                return RepositoryName.of(byPrefix.get().name(), path.substring(slash + 1));
            }
        }
        return RepositoryName.of(config.defaultUpstream(), path);
    }

    private static RegistryException notConfigured(String registry) {
        return RegistryException.refused("registry " + EchoedInput.of(registry) + " is not a configured upstream",
                ErrorCode.DENIED);
    }
}
