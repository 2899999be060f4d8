package io.imagemirror.upstream;

import io.imagemirror.oci.RegistryException;
import io.imagemirror.store.StoreException;
import io.imagemirror.store.UpstreamLedger;
import io.imagemirror.store.UpstreamState;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The quota ledger every instance shares: what each upstream's answers said about its pull quota
 * ({@code ratelimit-limit} / {@code ratelimit-remaining} and the window), how many requests the
 * instances sent it and its last error, one {@link UpstreamState} per upstream in the index.
 *
 * <p>Every answer any {@link RegistryClient} gets is observed here; observations are merged into
 * the stored state with compare-and-set, the newest observation winning (whichever instance made
 * it), request counts adding up. Writes are batched: at most one per upstream per
 * {@code flushEvery} from each instance, except that an answer saying the quota is exhausted, and
 * the first quota an instance sees, are written at once. Reads ({@link #quota}) see the stored
 * state, re-read at most every {@code flushEvery}, together with this instance's newer
 * observations, so two instances that saw different remaining counts converge on the newest.
 *
 * <p>Who consults it: the sync planner and copy workers stop below their floor and resume when
 * the window resets; the pull-through cache keeps priority and only, once the quota is exhausted,
 * serves stored tags without re-validating them. A store that fails is logged, never passed on
 * to the request that made the observation. Thread-safe.
 */
public final class QuotaLedger implements UpstreamObserver {

    /** How often each instance writes, and re-reads, an upstream's state at most. */
    public static final Duration DEFAULT_FLUSH_EVERY = Duration.ofSeconds(1);
    private static final int MAX_ATTEMPTS = 8;
    private static final int MAX_ERROR_LENGTH = 300;

    private final UpstreamLedger store;
    private final Clock clock;
    private final Duration flushEvery;
    private final Consumer<String> log;
    private final Map<String, Local> locals = new ConcurrentHashMap<>();

    /** What this instance saw and has not written yet, and the state it last read or wrote. */
    private static final class Local {
        RateLimit observed;
        long requests;
        long manifestGets;
        long failures;
        String lastError;
        Instant lastErrorAt;
        UpstreamState known;
        Instant knownAt = Instant.MIN;
        Instant flushedAt = Instant.MIN;

        boolean hasPending() {
            return observed != null || requests > 0 || failures > 0 || lastError != null;
        }
    }

    public QuotaLedger(UpstreamLedger store, Clock clock, Duration flushEvery, Consumer<String> log) {
        this.store = store;
        this.clock = clock;
        this.flushEvery = flushEvery;
        this.log = log;
    }

    private Local local(String upstream) {
        return locals.computeIfAbsent(upstream, u -> new Local());
    }

    @Override
    public void answered(String upstream, String method, Kind kind, int status, Optional<RateLimit> quota) {
        Local l = local(upstream);
        boolean urgent;
        synchronized (l) {
            l.requests++;
            if (kind == Kind.MANIFEST && method.equals("GET")) {
                l.manifestGets++;
            }
            urgent = false;
            if (quota.isPresent()) {
                RateLimit q = quota.get();
                if (l.observed == null || !q.observedAt().isBefore(l.observed.observedAt())) {
                    l.observed = q;
                }
                Optional<RateLimit> knownQuota = quotaOf(l.known);
                urgent = knownQuota.isEmpty() || (q.remaining() <= 0 && knownQuota.get().remaining() > 0);
            }
        }
        flushIfDue(upstream, l, urgent);
    }

    @Override
    public void failed(String upstream, RegistryException failure) {
        Local l = local(upstream);
        synchronized (l) {
            l.failures++;
            String m = failure.getMessage() == null ? failure.getClass().getSimpleName() : failure.getMessage();
            l.lastError = m.length() > MAX_ERROR_LENGTH ? m.substring(0, MAX_ERROR_LENGTH) + "…" : m;
            l.lastErrorAt = clock.instant();
        }
        flushIfDue(upstream, l, false);
    }

    /**
     * The quota of {@code upstream} as last known by any instance: the stored state (re-read when
     * older than {@code flushEvery}) or this instance's newer observation. Empty when no answer of
     * the upstream ever stated one (registries other than Docker Hub).
     */
    public Optional<RateLimit> quota(String upstream) {
        Local l = local(upstream);
        refreshIfDue(upstream, l);
        synchronized (l) {
            return newest(quotaOf(l.known), Optional.ofNullable(l.observed));
        }
    }

    /**
     * The state of {@code upstream} as {@code GET /v1/upstreams} shows it: the stored state with this
     * instance's unwritten observations and counts merged in (nothing is written).
     */
    public UpstreamState state(String upstream) {
        Local l = local(upstream);
        refresh(upstream, l);
        synchronized (l) {
            return merge(Optional.ofNullable(l.known), upstream, l.observed, l.requests, l.manifestGets, l.failures,
                    l.lastError, l.lastErrorAt);
        }
    }

    /** Writes this instance's pending observations of every upstream now (e.g. before a Lambda freezes). */
    public void flush() {
        locals.forEach(this::flush);
    }

    private void flushIfDue(String upstream, Local l, boolean urgent) {
        Instant now = clock.instant();
        synchronized (l) {
            if (!urgent && now.isBefore(l.flushedAt.plus(flushEvery))) {
                return;
            }
            l.flushedAt = now;
        }
        flush(upstream, l);
    }

    private void flush(String upstream, Local l) {
        RateLimit observed;
        long requests;
        long manifestGets;
        long failures;
        String lastError;
        Instant lastErrorAt;
        synchronized (l) {
            if (!l.hasPending()) {
                return;
            }
            observed = l.observed;
            requests = l.requests;
            manifestGets = l.manifestGets;
            failures = l.failures;
            lastError = l.lastError;
            lastErrorAt = l.lastErrorAt;
            l.observed = null;
            l.requests = 0;
            l.manifestGets = 0;
            l.failures = 0;
            l.lastError = null;
            l.lastErrorAt = null;
        }
        try {
            for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
                Optional<UpstreamState> stored = store.getUpstreamState(upstream);
                UpstreamState next = merge(stored, upstream, observed, requests, manifestGets, failures, lastError,
                        lastErrorAt);
                if (store.replaceUpstreamState(next)) {
                    synchronized (l) {
                        l.known = next;
                        l.knownAt = clock.instant();
                    }
                    return;
                }
            }
            log.accept("quota ledger of " + upstream + ": " + MAX_ATTEMPTS + " writers in a row came first; "
                    + "keeping this instance's observations for the next write");
        } catch (StoreException e) {
            log.accept("quota ledger of " + upstream + " could not be written: " + e.getMessage());
        }
        // Not written: put the observations back, under whatever arrived meanwhile.
        synchronized (l) {
            l.observed = newest(Optional.ofNullable(observed), Optional.ofNullable(l.observed)).orElse(null);
            l.requests += requests;
            l.manifestGets += manifestGets;
            l.failures += failures;
            if (lastErrorAt != null && (l.lastErrorAt == null || lastErrorAt.isAfter(l.lastErrorAt))) {
                l.lastError = lastError;
                l.lastErrorAt = lastErrorAt;
            }
        }
    }

    private void refreshIfDue(String upstream, Local l) {
        synchronized (l) {
            if (clock.instant().isBefore(l.knownAt.plus(flushEvery))) {
                return;
            }
        }
        refresh(upstream, l);
    }

    private void refresh(String upstream, Local l) {
        Optional<UpstreamState> stored;
        try {
            stored = store.getUpstreamState(upstream);
        } catch (StoreException e) {
            log.accept("quota ledger of " + upstream + " could not be read (using what this instance saw): "
                    + e.getMessage());
            return;
        }
        synchronized (l) {
            if (stored.isPresent() && (l.known == null || stored.get().version() >= l.known.version())) {
                l.known = stored.get();
            }
            l.knownAt = clock.instant();
        }
    }

    /**
     * The state after {@code stored} with these observations: the newer quota wins, counts add, the
     * newer error wins. Version one past the stored one (1 when there is none).
     */
    static UpstreamState merge(Optional<UpstreamState> stored, String upstream, RateLimit observed, long requests,
                               long manifestGets, long failures, String lastError, Instant lastErrorAt) {
        UpstreamState base = stored.orElse(UpstreamState.first(upstream));
        long version = stored.map(s -> s.version() + 1).orElse(1L);
        long limit = base.limit();
        long remaining = base.remaining();
        Duration window = base.window();
        Instant observedAt = base.observedAt();
        if (observed != null && (observedAt == null || observed.observedAt().isAfter(observedAt))) {
            limit = observed.limit();
            remaining = observed.remaining();
            window = observed.window();
            observedAt = observed.observedAt();
        }
        String error = base.lastError();
        Instant errorAt = base.lastErrorAt();
        if (lastErrorAt != null && (errorAt == null || lastErrorAt.isAfter(errorAt))) {
            error = lastError;
            errorAt = lastErrorAt;
        }
        return new UpstreamState(upstream, limit, remaining, window, observedAt, base.requests() + requests,
                base.manifestGets() + manifestGets, base.failures() + failures, error, errorAt, version);
    }

    private static Optional<RateLimit> quotaOf(UpstreamState s) {
        if (s == null || s.observedAt() == null || s.remaining() < 0) {
            return Optional.empty();
        }
        return Optional.of(new RateLimit(s.limit(), s.remaining(), s.window(), s.observedAt()));
    }

    private static Optional<RateLimit> newest(Optional<RateLimit> a, Optional<RateLimit> b) {
        if (a.isEmpty()) {
            return b;
        }
        if (b.isEmpty()) {
            return a;
        }
        return b.get().observedAt().isAfter(a.get().observedAt()) ? b : a;
    }
}
