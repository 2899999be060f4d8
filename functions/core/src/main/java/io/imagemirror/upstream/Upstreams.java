package io.imagemirror.upstream;

import io.imagemirror.oci.ErrorCode;
import io.imagemirror.oci.RegistryException;
import io.imagemirror.store.InProcessCoordination;
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
 * configuration or else from {@code credentials}. Every client reports its answers to the
 * {@link QuotaLedger} the instances share ({@link #quota()}). Thread-safe.
 */
public final class Upstreams {
    private final Map<String, Upstream> configured;
    private final CredentialStore credentials;
    private final OkHttpClient http;
    private final Clock clock;
    private final RetryPolicy retry;
    private final RangedFetch rangedFetch;
    private final Map<String, RegistryClient> clients = new ConcurrentHashMap<>();
    private final QuotaLedger quota;
    private final Metrics metrics;

    /** Upstreams whose quota ledger lives in this process only. */
    public Upstreams(Collection<Upstream> upstreams, CredentialStore credentials, OkHttpClient http, Clock clock,
                     RetryPolicy retry) {
        this(upstreams, credentials, http, clock, retry, RangedFetch.DEFAULTS);
    }

    /** @param rangedFetch when large blobs are fetched with parallel ranged GETs (config {@code largeBlobs:}) */
    public Upstreams(Collection<Upstream> upstreams, CredentialStore credentials, OkHttpClient http, Clock clock,
                     RetryPolicy retry, RangedFetch rangedFetch) {
        this(upstreams, credentials, http, clock, retry, rangedFetch, new QuotaLedger(new InProcessCoordination(),
                clock, QuotaLedger.DEFAULT_FLUSH_EVERY, line -> { }));
    }

    /** @param quota the ledger every client reports to (over the storage's {@code upstreamLedger}) */
    public Upstreams(Collection<Upstream> upstreams, CredentialStore credentials, OkHttpClient http, Clock clock,
                     RetryPolicy retry, QuotaLedger quota) {
        this(upstreams, credentials, http, clock, retry, RangedFetch.DEFAULTS, quota);
    }

    /**
     * @param rangedFetch when large blobs are fetched with parallel ranged GETs (config {@code largeBlobs:})
     * @param quota the ledger every client reports to (over the storage's {@code upstreamLedger})
     */
    public Upstreams(Collection<Upstream> upstreams, CredentialStore credentials, OkHttpClient http, Clock clock,
                     RetryPolicy retry, RangedFetch rangedFetch, QuotaLedger quota) {
        this(upstreams, credentials, http, clock, retry, rangedFetch, quota, Metrics.NONE);
    }

    /** @param metrics what the clients report their requests and the stated quotas to */
    public Upstreams(Collection<Upstream> upstreams, CredentialStore credentials, OkHttpClient http, Clock clock,
                     RetryPolicy retry, Metrics metrics) {
        this(upstreams, credentials, http, clock, retry, RangedFetch.DEFAULTS, new QuotaLedger(
                new InProcessCoordination(), clock, QuotaLedger.DEFAULT_FLUSH_EVERY, line -> { }), metrics);
    }

    /**
     * @param rangedFetch when large blobs are fetched with parallel ranged GETs (config {@code largeBlobs:})
     * @param quota the ledger every client reports to (over the storage's {@code upstreamLedger})
     * @param metrics what the clients report their requests and the stated quotas to
     */
    public Upstreams(Collection<Upstream> upstreams, CredentialStore credentials, OkHttpClient http, Clock clock,
                     RetryPolicy retry, RangedFetch rangedFetch, QuotaLedger quota, Metrics metrics) {
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.rangedFetch = Objects.requireNonNull(rangedFetch, "rangedFetch");
        this.quota = Objects.requireNonNull(quota, "quota");
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

    /** The quota ledger the clients report to. */
    public QuotaLedger quota() {
        return quota;
    }

    /** The configured upstream named {@code registry}, if configured. */
    public java.util.Optional<Upstream> upstream(String registry) {
        return java.util.Optional.ofNullable(configured.get(Upstream.canonicalName(registry)));
    }

    /** The canonical names of the configured registries. */
    public Set<String> names() {
        return configured.keySet();
    }

    public boolean isConfigured(String registry) {
        return configured.containsKey(Upstream.canonicalName(registry));
    }

    /** What a pull through the cache fetches of an index from {@code registry} (the default when not configured). */
    public Prefetch prefetch(String registry) {
        Upstream u = configured.get(Upstream.canonicalName(registry));
        return u == null ? Prefetch.DEFAULT : u.prefetch();
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
                n -> new RegistryClient(upstream.withCredentialsFrom(credentials), http, clock, retry, rangedFetch,
                        RangedBlobFetch.defaultHelpers(), quota, metrics));
    }
}
