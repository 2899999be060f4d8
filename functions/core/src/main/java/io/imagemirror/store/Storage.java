package io.imagemirror.store;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One opened store: the blob stores (layers and configs; raw manifest bytes by digest) and the
 * index ports, one per concept, plus whatever must be closed with them (clients, connections).
 * Code above the store takes the ports it needs, not the whole {@code Storage}. Closing closes
 * the resources, last opened first.
 *
 * <p>{@code leases} and {@code upstreamLedger} coordinate the instances that share the store (fill
 * leases, the quota ledger): on a store several processes share (DynamoDB) they must be that
 * store's; on one a single process holds (the local store) they may live in that process.
 */
public record Storage(BlobStore blobs, BlobStore manifests, TagIndex tagIndex, ManifestIndex manifestIndex,
                      BlobIndex blobIndex, PinIndex pinIndex, JobStore jobs, RuleStore rules,
                      LeaseIndex leases, UpstreamLedger upstreamLedger,
                      List<AutoCloseable> resources) implements AutoCloseable {

    public Storage {
        Objects.requireNonNull(blobs, "blobs");
        Objects.requireNonNull(manifests, "manifests");
        Objects.requireNonNull(tagIndex, "tagIndex");
        Objects.requireNonNull(manifestIndex, "manifestIndex");
        Objects.requireNonNull(blobIndex, "blobIndex");
        Objects.requireNonNull(pinIndex, "pinIndex");
        Objects.requireNonNull(jobs, "jobs");
        Objects.requireNonNull(rules, "rules");
        Objects.requireNonNull(leases, "leases");
        Objects.requireNonNull(upstreamLedger, "upstreamLedger");
        resources = List.copyOf(resources);
    }

    /**
     * A storage whose index ports are all one adapter (one database or table) that one process
     * holds at a time: its leases and quota ledger live in this process
     * ({@link InProcessCoordination}). The adapter, if closeable, is closed first, as it is built on
     * {@code resources}.
     */
    public static <I extends TagIndex & ManifestIndex & BlobIndex & PinIndex & JobStore & RuleStore> Storage of(
            BlobStore blobs, BlobStore manifests, I index, List<AutoCloseable> resources) {
        return of(blobs, manifests, index, new InProcessCoordination(), resources);
    }

    /**
     * A storage whose index ports are all one adapter, with the leases and quota ledger of a store
     * several processes share ({@code coordination}, usually the same table).
     */
    public static <I extends TagIndex & ManifestIndex & BlobIndex & PinIndex & JobStore & RuleStore,
            C extends LeaseIndex & UpstreamLedger> Storage of(BlobStore blobs, BlobStore manifests, I index,
                                                              C coordination, List<AutoCloseable> resources) {
        List<AutoCloseable> all = new ArrayList<>(resources);
        if (index instanceof AutoCloseable c) {
            all.add(c); // closed first: it is built on the others
        }
        return new Storage(blobs, manifests, index, index, index, index, index, index, coordination, coordination,
                all);
    }

    @Override
    public void close() {
        RuntimeException failure = null;
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = new StoreException("closing storage failed", e);
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
