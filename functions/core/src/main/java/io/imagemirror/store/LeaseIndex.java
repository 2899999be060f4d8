package io.imagemirror.store;

import java.util.Optional;

/**
 * Fill leases ({@link Lease}): one item per key, replaced only by compare-and-set, so two instances
 * never both believe they hold one. Thread-safe; {@link #replaceLease} is atomic across every
 * process sharing the backend (DynamoDB), or within the one process that holds the store (the
 * local store, whose data directory one process holds at a time).
 */
public interface LeaseIndex {

    /** The lease last written for {@code key}, held or not; empty when none was (or it was expired away). */
    Optional<Lease> getLease(String key);

    /**
     * Compare-and-set: writes {@code next} if the stored lease of its key has version
     * {@code next.version() - 1} (for version 1: if there is none).
     *
     * @return {@code false}, changing nothing, when another write came first
     */
    boolean replaceLease(Lease next);
}
