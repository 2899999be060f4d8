package io.imagemirror.store;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Fill leases and the quota ledger in this process's memory: right where one process holds the
 * store (the local store: its data directory is locked to one process, so no other instance can
 * share the index) and for unit tests. Nothing survives a restart, which for leases is the point
 * (a restarted process holds nothing) and for the ledger means the quota is learnt again from the
 * next answer. Thread-safe: every compare-and-set is one atomic map operation.
 */
public final class InProcessCoordination implements LeaseIndex, UpstreamLedger {

    private final Map<String, Lease> leases = new ConcurrentHashMap<>();
    private final Map<String, UpstreamState> upstreams = new ConcurrentHashMap<>();

    @Override
    public Optional<Lease> getLease(String key) {
        return Optional.ofNullable(leases.get(key));
    }

    @Override
    public boolean replaceLease(Lease next) {
        return compareAndSet(leases, next.key(), next, next.version(), Lease::version);
    }

    @Override
    public Optional<UpstreamState> getUpstreamState(String upstream) {
        return Optional.ofNullable(upstreams.get(upstream));
    }

    @Override
    public boolean replaceUpstreamState(UpstreamState next) {
        return compareAndSet(upstreams, next.upstream(), next, next.version(), UpstreamState::version);
    }

    private static <V> boolean compareAndSet(Map<String, V> map, String key, V next, long version,
                                             java.util.function.ToLongFunction<V> versionOf) {
        AtomicBoolean written = new AtomicBoolean();
        map.compute(key, (k, current) -> {
            long stored = current == null ? 0 : versionOf.applyAsLong(current);
            if (stored != version - 1) {
                return current;
            }
            written.set(true);
            return next;
        });
        return written.get();
    }
}
