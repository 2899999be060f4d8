package io.imagemirror.local.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.imagemirror.api.ApiHandler;
import io.imagemirror.api.ApiRequest;
import io.imagemirror.api.ApiResponse;
import io.imagemirror.config.MirrorConfig;
import io.imagemirror.local.LocalRuntime;
import io.imagemirror.store.BlobReference;
import io.imagemirror.store.ManifestRecord;
import io.imagemirror.store.ReleasedStoreContent;
import io.imagemirror.store.Storage;
import io.imagemirror.store.TagEvent;
import io.imagemirror.store.TickingClock;
import io.imagemirror.store.Timestamps;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A data directory written by the released program (index.db at schema 1, before blob references)
 * opens with this one: migrated in place, listed, and served.
 */
class ReleasedSqliteStoreUpgradeTest {

    @TempDir
    Path data;

    final TickingClock clock = new TickingClock();

    /** index.db as the released SqliteMetadataStore created and filled it (its DDL and writes, verbatim). */
    static void writeSchema1(Path db, ReleasedStoreContent c) throws Exception {
        try (Connection conn = DriverManager.getConnection("jdbc:sqlite:" + db); Statement s = conn.createStatement()) {
            s.execute("PRAGMA journal_mode = WAL");
            for (String sql : List.of("""
                    CREATE TABLE manifests (
                      repo TEXT NOT NULL, digest TEXT NOT NULL, doc TEXT NOT NULL,
                      last_pulled INTEGER, pull_count INTEGER NOT NULL DEFAULT 0,
                      tag_refs INTEGER NOT NULL DEFAULT 0, pin_refs INTEGER NOT NULL DEFAULT 0,
                      parent_refs INTEGER NOT NULL DEFAULT 0, dangling_since INTEGER,
                      PRIMARY KEY (repo, digest)) WITHOUT ROWID""",
                    "CREATE INDEX manifests_dangling ON manifests (dangling_since, repo, digest) WHERE dangling_since IS NOT NULL",
                    "CREATE TABLE repositories (repo TEXT PRIMARY KEY) WITHOUT ROWID",
                    """
                    CREATE TABLE tags (repo TEXT NOT NULL, tag TEXT NOT NULL, digest TEXT NOT NULL, updated_at INTEGER NOT NULL,
                      PRIMARY KEY (repo, tag)) WITHOUT ROWID""",
                    """
                    CREATE TABLE tag_events (id INTEGER PRIMARY KEY AUTOINCREMENT, repo TEXT NOT NULL, tag TEXT NOT NULL,
                      old_digest TEXT, new_digest TEXT, time INTEGER NOT NULL, cause TEXT NOT NULL)""",
                    "CREATE INDEX tag_events_by_tag ON tag_events (repo, tag, id)",
                    """
                    CREATE TABLE pins (repo TEXT NOT NULL, digest TEXT NOT NULL, time INTEGER NOT NULL,
                      PRIMARY KEY (repo, digest)) WITHOUT ROWID""",
                    "CREATE TABLE blobs (digest TEXT PRIMARY KEY, size INTEGER NOT NULL, last_touched INTEGER NOT NULL) WITHOUT ROWID",
                    """
                    CREATE TABLE jobs (id TEXT PRIMARY KEY, kind TEXT NOT NULL, status TEXT NOT NULL, request TEXT NOT NULL,
                      progress_done INTEGER NOT NULL, progress_total INTEGER NOT NULL, result TEXT, error TEXT,
                      created INTEGER NOT NULL, updated INTEGER NOT NULL, expires_at INTEGER NOT NULL)""",
                    "CREATE INDEX jobs_by_created ON jobs (created, id)",
                    "CREATE TABLE sync_rules (name TEXT PRIMARY KEY, config TEXT NOT NULL, enabled INTEGER NOT NULL) WITHOUT ROWID",
                    "PRAGMA user_version = 1")) {
                s.execute(sql);
            }
            long t = Timestamps.toMicros(c.recordedAt);
            for (ReleasedStoreContent.Image i : c.images()) {
                ManifestRecord r = i.record();
                boolean tagged = i == c.tagged;
                exec(conn, "INSERT INTO manifests (repo, digest, doc, last_pulled, pull_count, tag_refs, pin_refs, "
                        + "parent_refs, dangling_since) VALUES (?, ?, ?, NULL, 0, ?, ?, 0, NULL)", r.repository(),
                        r.digest().toString(), ReleasedStoreContent.releasedDoc(r), tagged ? 1 : 0, tagged ? 0 : 1);
                exec(conn, "INSERT INTO blobs (digest, size, last_touched) VALUES (?, ?, ?)",
                        r.configDigest().toString(), (long) i.config().length, t);
                exec(conn, "INSERT INTO blobs (digest, size, last_touched) VALUES (?, ?, ?)",
                        i.layerDigest().toString(), (long) i.layer().length, t);
            }
            exec(conn, "INSERT INTO repositories (repo) VALUES (?)", ReleasedStoreContent.REPOSITORY);
            exec(conn, "INSERT INTO tags (repo, tag, digest, updated_at) VALUES (?, ?, ?, ?)",
                    ReleasedStoreContent.REPOSITORY, ReleasedStoreContent.TAG, c.tagged.record().digest().toString(), t);
            exec(conn, "INSERT INTO tag_events (repo, tag, old_digest, new_digest, time, cause) VALUES (?, ?, NULL, ?, ?, ?)",
                    ReleasedStoreContent.REPOSITORY, ReleasedStoreContent.TAG, c.tagged.record().digest().toString(), t,
                    "mirror");
            exec(conn, "INSERT INTO pins (repo, digest, time) VALUES (?, ?, ?)", ReleasedStoreContent.REPOSITORY,
                    c.pinned.record().digest().toString(), t);
        }
    }

    private static void exec(Connection conn, String sql, Object... args) throws Exception {
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            ps.executeUpdate();
        }
    }

    static byte[] bodyOf(ApiResponse r) throws java.io.IOException {
        return r.body() != null ? r.body() : r.stream().readAllBytes();
    }

    @Test
    void aSchema1DataDirectoryOpensListsAndServes() throws Exception {
        ReleasedStoreContent c = new ReleasedStoreContent(clock.instant());
        c.storeBytes(FileBlobStore.blobs(data), FileBlobStore.manifests(data));
        writeSchema1(data.resolve("index.db"), c);

        SqliteIndex index = SqliteIndex.open(data, clock);
        assertThat(index.schemaVersion()).isEqualTo(SqliteIndex.SCHEMA_VERSION);
        Storage storage = Storage.of(FileBlobStore.blobs(data), FileBlobStore.manifests(data), index, List.of());
        try (LocalRuntime rt = new LocalRuntime(MirrorConfig.defaults(), storage, data.resolve("spool"), clock)) {
            String repo = ReleasedStoreContent.REPOSITORY;
            assertThat(index.listManifests(repo, 10, null).items())
                    .containsExactlyInAnyOrder(c.tagged.record(), c.pinned.record());
            assertThat(index.listRepositories(10, null).items()).containsExactly(repo);
            // tags written before pulls were noted read as never pulled, and take a pull note
            assertThat(index.getTag(repo, ReleasedStoreContent.TAG).orElseThrow().lastPulled()).isNull();
            assertThat(index.recordTagPull(repo, ReleasedStoreContent.TAG)).isTrue();
            assertThat(index.getTag(repo, ReleasedStoreContent.TAG).orElseThrow().lastPulled()).isNotNull();
            assertThat(index.getTag(repo, ReleasedStoreContent.TAG).orElseThrow().digest())
                    .isEqualTo(c.tagged.record().digest());
            assertThat(index.tagHistory(repo, ReleasedStoreContent.TAG, 10, null).items())
                    .extracting(TagEvent::cause).containsExactly("mirror");
            assertThat(index.listPins(repo, 10, null).items()).singleElement()
                    .satisfies(p -> assertThat(p.digest()).isEqualTo(c.pinned.record().digest()));
            assertThat(index.listDangling(clock.instant().plus(Duration.ofDays(1)), 10, null).items()).isEmpty();
            // the migration wrote the blob references of the records it found
            for (ReleasedStoreContent.Image i : c.images()) {
                assertThat(index.referencingManifests(i.layerDigest(), 10, null).items())
                        .containsExactly(new BlobReference(i.layerDigest(), repo, i.record().digest()));
                assertThat(index.isReferencedIn(i.record().configDigest(), repo)).isTrue();
                // and every manifest references its own bytes (schema 6 / item schema 3)
                assertThat(index.referencingManifests(i.record().digest(), 10, null).items())
                        .containsExactly(new BlobReference(i.record().digest(), repo, i.record().digest()));
            }

            ApiHandler routes = rt.routes(true);
            try (ApiResponse m = routes.handle(ApiRequest.of("GET", "/v2/library/oldapp/manifests/1.0", Map.of()))) {
                assertThat(m.status()).isEqualTo(200);
                assertThat(bodyOf(m)).isEqualTo(c.tagged.manifest());
            }
            try (ApiResponse m = routes.handle(ApiRequest.of("GET", "/v2/library/oldapp/manifests/"
                    + c.pinned.record().digest(), Map.of()))) {
                assertThat(m.status()).isEqualTo(200);
                assertThat(bodyOf(m)).isEqualTo(c.pinned.manifest());
            }
            try (ApiResponse b = routes.handle(ApiRequest.of("GET", "/v2/library/oldapp/blobs/"
                    + c.tagged.layerDigest(), Map.of()))) {
                assertThat(b.status()).isEqualTo(200);
                assertThat(bodyOf(b)).isEqualTo(c.tagged.layer());
            }
            // and it goes on as a current store: a new tag move, a delete that takes its references along
            index.deleteTag(repo, ReleasedStoreContent.TAG, c.tagged.record().digest(), "rm");
            assertThat(index.deleteManifestIfDangling(repo, c.tagged.record().digest(),
                    clock.instant().plus(Duration.ofDays(1)))).isTrue();
            assertThat(index.isReferenced(c.tagged.layerDigest())).isFalse();
            assertThat(index.isReferenced(c.pinned.layerDigest())).isTrue();
        }
    }
}
