package io.imagemirror.local.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imagemirror.store.ManifestRecord;
import io.imagemirror.store.MetadataStore;
import io.imagemirror.store.MetadataStoreContract;
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

class SqliteMetadataStoreTest extends MetadataStoreContract {

    @TempDir
    Path data;

    @Override
    protected MetadataStore newStore(TickingClock clock) {
        return SqliteMetadataStore.open(data, clock);
    }

    @Test
    void databaseIsWalWithTheCurrentSchemaVersionAndReopens() throws Exception {
        ManifestRecord m = image(repo, "persisted");
        store.putManifest(m);
        store.close();
        try (SqliteMetadataStore again = SqliteMetadataStore.open(data, clock)) {
            assertThat(again.schemaVersion()).isEqualTo(SqliteMetadataStore.SCHEMA_VERSION);
            assertThat(again.getManifest(repo, m.digest())).contains(m);
        }
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + data.resolve("index.db"));
             Statement s = c.createStatement(); ResultSet rs = s.executeQuery("PRAGMA journal_mode")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualToIgnoringCase("wal");
        }
        store = SqliteMetadataStore.open(data, clock);
    }

    @Test
    void aNewerSchemaIsRefused() throws Exception {
        store.close();
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + data.resolve("index.db"));
             Statement s = c.createStatement()) {
            s.execute("PRAGMA user_version = " + (SqliteMetadataStore.SCHEMA_VERSION + 1));
        }
        assertThatThrownBy(() -> SqliteMetadataStore.open(data, clock)).isInstanceOf(StoreException.class)
                .hasMessageContaining("newer");
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + data.resolve("index.db"));
             Statement s = c.createStatement()) {
            s.execute("PRAGMA user_version = " + SqliteMetadataStore.SCHEMA_VERSION);
        }
        store = SqliteMetadataStore.open(data, clock);
    }

    @Test
    void twoConnectionsToOneDatabaseKeepTagCompareAndSetAtomic() throws Exception {
        List<ManifestRecord> ms = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            ManifestRecord m = image(repo, "proc" + i);
            store.putManifest(m);
            ms.add(m);
        }
        try (SqliteMetadataStore second = SqliteMetadataStore.open(data, clock)) {
            store.setTag(repo, "t", null, ms.get(0).digest(), "start");
            List<TagUpdate> outcomes = io.imagemirror.store.Concurrently.run(4, i -> () ->
                    (i % 2 == 0 ? store : second).setTag(repo, "t", ms.get(0).digest(), ms.get(i).digest(), "p" + i));
            assertThat(outcomes.stream().filter(o -> o == TagUpdate.UPDATED).count()).isEqualTo(1);
            assertThat(second.tagHistory(repo, "t", 10, null).items()).hasSize(2);
        }
    }
}
