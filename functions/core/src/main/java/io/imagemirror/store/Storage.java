package io.imagemirror.store;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One opened store: blobs (layers, configs), manifests (raw bytes by digest) and the metadata
 * index, plus whatever must be closed with them (clients, connections). Closing closes those in
 * reverse order.
 */
public record Storage(BlobStore blobs, BlobStore manifests, MetadataStore metadata, List<AutoCloseable> resources)
        implements AutoCloseable {

    public Storage {
        Objects.requireNonNull(blobs, "blobs");
        Objects.requireNonNull(manifests, "manifests");
        Objects.requireNonNull(metadata, "metadata");
        resources = List.copyOf(resources);
    }

    @Override
    public void close() {
        RuntimeException failure = null;
        // The index first, then what it was built on, last opened first.
        List<AutoCloseable> all = new ArrayList<>();
        all.add(metadata);
        for (int i = resources.size() - 1; i >= 0; i--) {
            all.add(resources.get(i));
        }
        for (AutoCloseable c : all) {
            try {
                c.close();
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
