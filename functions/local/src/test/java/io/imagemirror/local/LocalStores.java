package io.imagemirror.local;

import io.imagemirror.local.store.FileBlobStore;
import io.imagemirror.local.store.SqliteIndex;
import io.imagemirror.store.Storage;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;

/** The local store over a data directory, as {@code --store local} opens it, without the directory lock. */
public final class LocalStores {
    private LocalStores() {
    }

    public static Storage open(Path data) {
        return Storage.of(FileBlobStore.blobs(data), FileBlobStore.manifests(data),
                SqliteIndex.open(data, Clock.systemUTC()), List.of());
    }
}
