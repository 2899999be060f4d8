package io.imagemirror.upstream;

import io.imagemirror.reference.ReferenceGrammar;
import java.net.URI;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * One configured upstream registry: the name users write in references ({@code docker.io},
 * {@code ghcr.io}, {@code 127.0.0.1:5000}), the endpoint the client talks to
 * ({@code https://registry-1.docker.io} for docker.io), whether plain HTTP is allowed (like
 * Docker's {@code insecure-registries}), optional credentials, and the hosts its token realm may
 * live on. Immutable; {@link #toString()} never shows credentials.
 *
 * <p>Auth hosts are written {@code host} (any port) or {@code host:port}. The endpoint's own host
 * is always allowed; docker.io allows {@code auth.docker.io} by default.
 */
public final class Upstream {

    public static final URI DOCKER_HUB_ENDPOINT = URI.create("https://registry-1.docker.io");
    public static final String DOCKER_HUB_AUTH = "auth.docker.io";

    private final String name;
    private final URI endpoint;
    private final boolean insecure;
    private final Credentials credentials;
    private final Set<String> authHosts;
    private final Prefetch prefetch;

    private Upstream(Builder b) {
        this.name = b.name;
        this.prefetch = b.prefetch;
        this.insecure = b.insecure;
        this.endpoint = b.endpoint != null ? b.endpoint : defaultEndpoint(b.name, b.insecure);
        this.credentials = b.credentials;
        Set<String> hosts = new LinkedHashSet<>();
        if (name.equals(ReferenceGrammar.DOCKER_HUB)) {
            hosts.add(DOCKER_HUB_AUTH);
        }
        // URI keeps IPv6 brackets, OkHttp's HttpUrl does not: store hosts the way realms are compared.
        hosts.add(endpoint.getHost().toLowerCase(Locale.ROOT).replace("[", "").replace("]", ""));
        for (String h : b.authHosts) {
            hosts.add(h.toLowerCase(Locale.ROOT));
        }
        this.authHosts = Set.copyOf(hosts);
        String scheme = endpoint.getScheme();
        if (!"https".equals(scheme) && !"http".equals(scheme)) {
            throw new IllegalArgumentException("upstream " + name + ": endpoint must be http(s), got " + scheme);
        }
        if ("http".equals(scheme) && !insecure) {
            throw new IllegalArgumentException("upstream " + name
                    + ": plain HTTP endpoint needs the upstream to be configured insecure");
        }
        if (endpoint.getHost() == null || (endpoint.getRawPath() != null && !endpoint.getRawPath().isEmpty()
                && !endpoint.getRawPath().equals("/")) || endpoint.getRawQuery() != null || endpoint.getRawUserInfo() != null) {
            throw new IllegalArgumentException("upstream " + name
                    + ": endpoint must be scheme://host[:port] without path, query or user info");
        }
    }

    /** The upstream {@code name} with its default endpoint (https; docker.io → registry-1.docker.io). */
    public static Upstream of(String name) {
        return builder(name).build();
    }

    public static Builder builder(String name) {
        return new Builder(name);
    }

    /**
     * The canonical registry name for what users and Docker's config write: without scheme or path
     * ({@code https://index.docker.io/v1/} is a key of Docker's config.json), then as
     * {@link ReferenceGrammar#canonicalRegistry} has it (lowercase, Docker Hub's aliases folded).
     */
    public static String canonicalName(String registry) {
        Objects.requireNonNull(registry, "registry");
        String s = registry.trim();
        int scheme = s.indexOf("://");
        if (scheme >= 0) {
            s = s.substring(scheme + 3);
        }
        int slash = s.indexOf('/');
        if (slash >= 0) {
            s = s.substring(0, slash);
        }
        return ReferenceGrammar.canonicalRegistry(s);
    }

    /** Where the registry API of {@code name} lives when nothing else is configured. */
    public static URI defaultEndpoint(String name, boolean insecure) {
        if (name.equals(ReferenceGrammar.DOCKER_HUB)) {
            return DOCKER_HUB_ENDPOINT;
        }
        return URI.create((insecure ? "http://" : "https://") + name);
    }

    /** The registry name as users write it. */
    public String name() {
        return name;
    }

    /** {@code scheme://host[:port]} of the registry API. */
    public URI endpoint() {
        return endpoint;
    }

    /** Whether plain HTTP (endpoint, token realm, redirects) is allowed. */
    public boolean insecure() {
        return insecure;
    }

    public Optional<Credentials> credentials() {
        return Optional.ofNullable(credentials);
    }

    /** The hosts ({@code host} or {@code host:port}) a token realm may be on. */
    public Set<String> authHosts() {
        return authHosts;
    }

    /** What a pull through the cache fetches of a multi-platform index from this upstream. */
    public Prefetch prefetch() {
        return prefetch;
    }

    /** Whether a token realm at {@code host}:{@code port} is allowed. */
    public boolean allowsAuthHost(String host, int port) {
        String h = host.toLowerCase(Locale.ROOT);
        return authHosts.contains(h) || authHosts.contains(h + ":" + port);
    }

    /** This upstream with {@code credentials} (null for anonymous). */
    public Upstream withCredentials(Credentials credentials) {
        Builder b = toBuilder();
        b.credentials = credentials;
        return b.build();
    }

    /** This upstream with the credentials {@code store} has for it, unless it already has some. */
    public Upstream withCredentialsFrom(CredentialStore store) {
        if (credentials != null) {
            return this;
        }
        return store.find(name).map(this::withCredentials).orElse(this);
    }

    private Builder toBuilder() {
        Builder b = new Builder(name);
        b.endpoint = endpoint;
        b.insecure = insecure;
        b.credentials = credentials;
        b.authHosts.addAll(authHosts);
        b.prefetch = prefetch;
        return b;
    }

    @Override
    public String toString() {
        return "Upstream[" + name + " -> " + endpoint + (insecure ? ", insecure" : "")
                + (credentials != null ? ", with credentials" : "")
                + (prefetch != Prefetch.DEFAULT ? ", prefetch " + prefetch : "") + "]";
    }

    /** Builds an {@link Upstream}; every setter is optional except the name. */
    public static final class Builder {
        private final String name;
        private URI endpoint;
        private boolean insecure;
        private Credentials credentials;
        private final Set<String> authHosts = new LinkedHashSet<>();
        private Prefetch prefetch = Prefetch.DEFAULT;

        private Builder(String name) {
            Objects.requireNonNull(name, "name");
            String n = canonicalName(name);
            if (!ReferenceGrammar.isRegistry(n)) {
                throw new IllegalArgumentException("invalid registry name \"" + name
                        + "\": expected host[:port] with a '.' or ':' in it, or localhost");
            }
            this.name = n;
        }

        /** The registry API endpoint, {@code scheme://host[:port]}. */
        public Builder endpoint(URI endpoint) {
            this.endpoint = Objects.requireNonNull(endpoint, "endpoint");
            return this;
        }

        /** Allow plain HTTP; the default endpoint becomes {@code http://name}. */
        public Builder insecure(boolean insecure) {
            this.insecure = insecure;
            return this;
        }

        public Builder credentials(Credentials credentials) {
            this.credentials = credentials;
            return this;
        }

        /** Allows a token realm on {@code host} (any port) or {@code host:port}. */
        public Builder allowAuthHost(String host) {
            authHosts.add(Objects.requireNonNull(host, "host"));
            return this;
        }

        /** What a pull through the cache fetches of an index ({@link Prefetch#DEFAULT} unless set). */
        public Builder prefetch(Prefetch prefetch) {
            this.prefetch = Objects.requireNonNull(prefetch, "prefetch");
            return this;
        }

        public Upstream build() {
            return new Upstream(this);
        }
    }
}
