package io.imagemirror.store;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One opened store: the blob stores (layers and configs; raw manifest bytes by digest) and the
 * index ports, one per concept, plus whatever must be closed with them (clients, connections).
 * Code above the store takes the ports it needs, not the whole {@code Storage}. Closing closes
 * the resources, last opened first.
 */
public record Storage(BlobStore blobs, BlobStore manifests, TagIndex tagIndex, ManifestIndex manifestIndex,
                      BlobIndex blobIndex, PinIndex pinIndex, JobStore jobs, RuleStore rules,
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
        resources = List.copyOf(resources);
    }

    /**
     * A storage whose index ports are all one adapter (one database or table). The adapter, if
     * closeable, is closed first, as it is built on {@code resources}.
     */
    public static <I extends TagIndex & ManifestIndex & BlobIndex & PinIndex & JobStore & RuleStore> Storage of(
            BlobStore blobs, BlobStore manifests, I index, List<AutoCloseable> resources) {
        List<AutoCloseable> all = new ArrayList<>(resources);
        if (index instanceof AutoCloseable c) {
            all.add(c); // closed first: it is built on the others
        }
        return new Storage(blobs, manifests, index, index, index, index, index, index, all);
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
