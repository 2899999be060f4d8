package io.imagemirror.mirror;

import io.imagemirror.config.MirrorConfig;
import io.imagemirror.oci.ErrorCode;
import io.imagemirror.oci.RegistryException;
import io.imagemirror.upstream.CredentialStore;
import io.imagemirror.upstream.Credentials;
import io.imagemirror.upstream.RegistryClient;
import io.imagemirror.upstream.RetryPolicy;
import io.imagemirror.upstream.Upstream;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import okhttp3.OkHttpClient;

/**
 * The configured upstream registries and one {@link RegistryClient} for each, sharing one HTTP
 * client. It is the allow-list (DESIGN.md §5, invariant 6): a registry that is not configured has
 * no client, and asking for one fails with {@code DENIED}. Thread-safe.
 */
public final class Upstreams {

    private final MirrorConfig config;
    private final CredentialStore credentials;
    private final OkHttpClient http;
    private final Clock clock;
    private final RetryPolicy retry;
    private final Map<String, RegistryClient> clients = new ConcurrentHashMap<>();

    /**
     * @param config the configured upstreams
     * @param credentials where credentials come from for upstreams configured without any
     *     (the user's Docker config.json locally; Secrets Manager on AWS)
     */
    public Upstreams(MirrorConfig config, CredentialStore credentials, OkHttpClient http, Clock clock,
                     RetryPolicy retry) {
        this.config = config;
        this.credentials = credentials;
        this.http = http;
        this.clock = clock;
        this.retry = retry;
    }

    public MirrorConfig config() {
        return config;
    }

    /** Whether {@code registry} is a configured upstream. */
    public boolean isConfigured(String registry) {
        return config.upstream(registry).isPresent();
    }

    /**
     * The client of a configured upstream.
     *
     * @throws RegistryException {@code DENIED} when {@code registry} is not configured
     */
    public RegistryClient client(String registry) throws RegistryException {
        String name = MirrorConfig.canonicalRegistry(registry);
        Optional<MirrorConfig.UpstreamConfig> cfg = config.upstream(name);
        if (cfg.isEmpty()) {
            throw RegistryException.refused("registry " + name + " is not a configured upstream of this mirror",
                    ErrorCode.DENIED);
        }
        return clients.computeIfAbsent(name, n -> new RegistryClient(toUpstream(cfg.get()), http, clock, retry));
    }

    private Upstream toUpstream(MirrorConfig.UpstreamConfig c) {
        Upstream.Builder b = Upstream.builder(c.name()).insecure(c.insecure());
        if (c.endpoint() != null) {
            b.endpoint(c.endpoint());
        }
        c.authHosts().forEach(b::allowAuthHost);
        if (c.username() != null) {
            b.credentials(Credentials.of(c.username(), c.password()));
        }
        Upstream u = b.build();
        if (c.username() == null && credentials != null) {
            u = u.withCredentialsFrom(credentials);
        }
        return u;
    }
}
