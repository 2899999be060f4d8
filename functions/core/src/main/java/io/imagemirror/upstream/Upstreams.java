package io.imagemirror.upstream;

import io.imagemirror.oci.ErrorCode;
import io.imagemirror.oci.RegistryException;
import java.time.Clock;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import io.imagemirror.metrics.Metrics;
import okhttp3.OkHttpClient;

/**
 * The configured upstream registries and their clients: the allow-list of registries the mirror
 * may contact at all. A reference naming any other registry gets a {@code DENIED}
 * {@link RegistryException} and no request is made. Clients are created on first use, one per
 * upstream, over the shared {@link OkHttpClient}, with credentials from the upstream's own
 * configuration or else from {@code credentials}. Thread-safe.
 */
public final class Upstreams {
    private final Map<String, Upstream> configured;
    private final CredentialStore credentials;
    private final OkHttpClient http;
    private final Clock clock;
    private final RetryPolicy retry;
    private final Map<String, RegistryClient> clients = new ConcurrentHashMap<>();
    private final Metrics metrics;

    public Upstreams(Collection<Upstream> upstreams, CredentialStore credentials, OkHttpClient http, Clock clock,
                     RetryPolicy retry) {
        this(upstreams, credentials, http, clock, retry, Metrics.NONE);
    }

    /** @param metrics what the clients report their requests and the stated quotas to */
    public Upstreams(Collection<Upstream> upstreams, CredentialStore credentials, OkHttpClient http, Clock clock,
                     RetryPolicy retry, Metrics metrics) {
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        Map<String, Upstream> byName = new LinkedHashMap<>();
        for (Upstream u : upstreams) {
            if (byName.put(u.name(), u) != null) {
                throw new IllegalArgumentException("upstream " + u.name() + " is configured twice");
            }
        }
        this.configured = Map.copyOf(byName);
        this.credentials = Objects.requireNonNull(credentials, "credentials");
        this.http = Objects.requireNonNull(http, "http");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.retry = Objects.requireNonNull(retry, "retry");
    }

    /** The canonical names of the configured registries. */
    public Set<String> names() {
        return configured.keySet();
    }

    public boolean isConfigured(String registry) {
        return configured.containsKey(Upstream.canonicalName(registry));
    }

    /**
     * The client of {@code registry} (any spelling {@link Upstream#canonicalName} folds).
     *
     * @throws RegistryException ({@link ErrorCode#DENIED}, not retryable) when it is not configured
     */
    public RegistryClient client(String registry) throws RegistryException {
        String name = Upstream.canonicalName(registry);
        Upstream upstream = configured.get(name);
        if (upstream == null) {
            throw RegistryException.refused("registry " + name + " is not a configured upstream (configured: "
                    + String.join(", ", configured.keySet()) + ")", ErrorCode.DENIED);
        }
        return clients.computeIfAbsent(name,
                n -> new RegistryClient(upstream.withCredentialsFrom(credentials), http, clock, retry, metrics));
    }
}
