package io.imagemirror.store;

import java.util.Optional;

/**
 * The shared quota ledger: one {@link UpstreamState} per upstream, replaced only by
 * compare-and-set, so every instance's observations merge without one overwriting another.
 * Thread-safe; {@link #replaceUpstreamState} is atomic across every process sharing the backend
 * (DynamoDB), or within the one process that holds the store (local).
 */
public interface UpstreamLedger {

    /** The state of {@code upstream}, if one was written. */
    Optional<UpstreamState> getUpstreamState(String upstream);

    /**
     * Compare-and-set: writes {@code next} if the stored state of its upstream has version
     * {@code next.version() - 1} (for version 1: if there is none).
     *
     * @return {@code false}, changing nothing, when another write came first
     */
    boolean replaceUpstreamState(UpstreamState next);
}
