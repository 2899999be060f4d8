package io.imagemirror.local.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imagemirror.store.InMemoryBlobStore;
import io.imagemirror.store.ManifestRecord;
import io.imagemirror.store.MetadataStoreContract;
import io.imagemirror.store.Storage;
import io.imagemirror.store.StoreException;
import io.imagemirror.store.TagUpdate;
import io.imagemirror.store.TickingClock;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqliteIndexTest extends MetadataStoreContract {

    @TempDir
    Path data;

    SqliteIndex index;

    @Override
    protected Storage newStorage(TickingClock clock) {
        index = SqliteIndex.open(data, clock);
        return Storage.of(new InMemoryBlobStore(), new InMemoryBlobStore(), index, List.of());
    }

    private void reopen() {
        use(newStorage(clock));
    }

    @Test
    void databaseIsWalWithTheCurrentSchemaVersionAndReopens() throws Exception {
        ManifestRecord m = image(repo, "persisted");
        manifests.putManifest(m);
        storage.close();
        try (SqliteIndex again = SqliteIndex.open(data, clock)) {
            assertThat(again.schemaVersion()).isEqualTo(SqliteIndex.SCHEMA_VERSION);
            assertThat(again.getManifest(repo, m.digest())).contains(m);
        }
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + data.resolve("index.db"));
             Statement s = c.createStatement(); ResultSet rs = s.executeQuery("PRAGMA journal_mode")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualToIgnoringCase("wal");
        }
        reopen();
    }

    @Test
    void aNewerSchemaIsRefused() throws Exception {
        storage.close();
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + data.resolve("index.db"));
             Statement s = c.createStatement()) {
            s.execute("PRAGMA user_version = " + (SqliteIndex.SCHEMA_VERSION + 1));
        }
        assertThatThrownBy(() -> SqliteIndex.open(data, clock)).isInstanceOf(StoreException.class)
                .hasMessageContaining("newer");
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + data.resolve("index.db"));
             Statement s = c.createStatement()) {
            s.execute("PRAGMA user_version = " + SqliteIndex.SCHEMA_VERSION);
        }
        reopen();
    }

    @Test
    void twoConnectionsToOneDatabaseKeepTagCompareAndSetAtomic() throws Exception {
        List<ManifestRecord> ms = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            ManifestRecord m = image(repo, "proc" + i);
            manifests.putManifest(m);
            ms.add(m);
        }
        try (SqliteIndex second = SqliteIndex.open(data, clock)) {
            tags.setTag(repo, "t", null, ms.get(0).digest(), "start");
            List<TagUpdate> outcomes = io.imagemirror.store.Concurrently.run(4, i -> () ->
                    (i % 2 == 0 ? tags : second).setTag(repo, "t", ms.get(0).digest(), ms.get(i).digest(), "p" + i));
            assertThat(outcomes.stream().filter(o -> o == TagUpdate.UPDATED).count()).isEqualTo(1);
            assertThat(second.tagHistory(repo, "t", 10, null).items()).hasSize(2);
        }
    }
}
