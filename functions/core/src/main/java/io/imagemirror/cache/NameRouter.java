package io.imagemirror.cache;

import io.imagemirror.config.MirrorConfig;
import io.imagemirror.oci.EchoedInput;
import io.imagemirror.oci.ErrorCode;
import io.imagemirror.oci.RegistryException;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Maps the {@code <name>} of a {@code /v2/<name>/...} request to an upstream and repository:
 * <ul>
 *   <li>with {@code ?ns=<registry>} (what containerd sends when it uses us as a mirror of any
 *       registry), that registry and the name as the repository;</li>
 *   <li>{@code <prefix>/<repo>} where the prefix is a configured upstream's prefix (by default its
 *       host, e.g. {@code ghcr.io}), that upstream;</li>
 *   <li>otherwise the default upstream ({@code docker.io} unless configured), where single-name
 *       repositories get Docker Hub's {@code library/}.</li>
 * </ul>
 * A name whose first component looks like a registry host that is not configured is refused
 * ({@code DENIED}): no request field can make the mirror reach an unconfigured host (invariant 6).
 */
public final class NameRouter {

    private static final Pattern COMPONENT = Pattern.compile("[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*");

    private final MirrorConfig config;

    public NameRouter(MirrorConfig config) {
        this.config = config;
    }

    /**
     * @throws RegistryException {@code NAME_INVALID} for a malformed name, {@code DENIED} for an
     *     unconfigured registry
     */
    public Target route(String name, Optional<String> ns) throws RegistryException {
        if (name.isEmpty() || name.length() > 255) {
            throw RegistryException.refused("invalid repository name \"" + EchoedInput.of(name) + "\"", ErrorCode.NAME_INVALID);
        }
        if (ns.isPresent() && !ns.get().isBlank()) {
            String registry = MirrorConfig.canonicalRegistry(ns.get().trim());
            if (config.upstream(registry).isEmpty()) {
                throw RegistryException.refused("registry " + registry + " is not a configured upstream", ErrorCode.DENIED);
            }
            checkPath(name);
            return new Target(registry, dockerHubDefault(registry, name), name);
        }
        int slash = name.indexOf('/');
        if (slash > 0) {
            String first = name.substring(0, slash);
            Optional<MirrorConfig.UpstreamConfig> byPrefix = config.upstreamByPrefix(first);
            if (byPrefix.isPresent()) {
                String repo = name.substring(slash + 1);
                checkPath(repo);
                String registry = byPrefix.get().name();
                return new Target(registry, dockerHubDefault(registry, repo), name);
            }
            if (first.contains(".") || first.contains(":") || first.equals("localhost")) {
                throw RegistryException.refused("registry " + first + " is not a configured upstream", ErrorCode.DENIED);
            }
        }
        checkPath(name);
        String registry = config.defaultUpstream();
        return new Target(registry, dockerHubDefault(registry, name), name);
    }

    /** The name a client would use for a stored repository key (for {@code _catalog}). */
    public String clientName(String repositoryKey) {
        int slash = repositoryKey.indexOf('/');
        String registry = repositoryKey.substring(0, slash);
        String repo = repositoryKey.substring(slash + 1);
        if (registry.equals(config.defaultUpstream())) {
            return repo;
        }
        return config.upstream(registry).map(u -> u.prefix() + "/" + repo).orElse(repositoryKey);
    }

    private static String dockerHubDefault(String registry, String repo) {
        return registry.equals("docker.io") && !repo.contains("/") ? "library/" + repo : repo;
    }

    private static void checkPath(String path) throws RegistryException {
        for (String c : path.split("/", -1)) {
            if (!COMPONENT.matcher(c).matches()) {
                throw RegistryException.refused("invalid repository name \"" + EchoedInput.of(path) + "\": component \""
                        + EchoedInput.of(c) + "\"", ErrorCode.NAME_INVALID);
            }
        }
    }
}
