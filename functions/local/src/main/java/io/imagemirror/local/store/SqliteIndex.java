package io.imagemirror.local.store;

import io.imagemirror.oci.Digest;
import io.imagemirror.store.BlobCandidate;
import io.imagemirror.store.BlobIndex;
import io.imagemirror.store.BlobRecord;
import io.imagemirror.store.BlobReference;
import io.imagemirror.store.Job;
import io.imagemirror.store.JobStatus;
import io.imagemirror.store.JobStore;
import io.imagemirror.store.ManifestIndex;
import io.imagemirror.store.ManifestRecord;
import io.imagemirror.store.ManifestRecordJson;
import io.imagemirror.store.ManifestReferences;
import io.imagemirror.store.MissingManifestException;
import io.imagemirror.store.Page;
import io.imagemirror.store.PageToken;
import io.imagemirror.store.Pin;
import io.imagemirror.store.PinIndex;
import io.imagemirror.store.RuleState;
import io.imagemirror.store.RuleStore;
import io.imagemirror.store.StoreException;
import io.imagemirror.store.SweptBlobException;
import io.imagemirror.store.SyncRule;
import io.imagemirror.store.SyncRunRecord;
import io.imagemirror.store.TagEvent;
import io.imagemirror.store.TagIndex;
import io.imagemirror.store.TagRecord;
import io.imagemirror.store.Timestamps;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The index ports of one machine: {@code <data>/index.db}, SQLite in WAL mode with a busy timeout
 * (so the CLI and a running {@code serve} can share it), its schema versioned by
 * {@code PRAGMA user_version} and migrated forward, in place, on open. Every conditional operation
 * is one {@code BEGIN IMMEDIATE} transaction, which takes the database's write lock up front: a
 * tag move and its history row, a pin and its reference count, a manifest and its blob references
 * commit together or not at all.
 *
 * <p>Thread-safe: one connection, used under a lock. {@link #close()} closes the connection.
 */
public final class SqliteIndex implements TagIndex, ManifestIndex, BlobIndex, PinIndex, JobStore, RuleStore,
        AutoCloseable {

    /** Schema versions, in order; index i migrates from user_version i to i + 1. Never edit one, add one. */
    private static final List<String[]> MIGRATIONS = List.<String[]>of(new String[] {
        """
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
    }, new String[] {
        // 2: blob references, keyed by blob so "who references this blob" is a range read; filled
        // from the records written before (their JSON lists the blobs).
        """
        CREATE TABLE blob_refs (blob TEXT NOT NULL, repo TEXT NOT NULL, manifest TEXT NOT NULL,
          PRIMARY KEY (blob, repo, manifest)) WITHOUT ROWID""",
        """
        INSERT OR IGNORE INTO blob_refs (blob, repo, manifest)
          SELECT json_extract(b.value, '$.digest'), m.repo, m.digest FROM manifests m, json_each(m.doc, '$.blobs') b""",
    }, new String[] {
        // 3: the sync planner's state per rule (compare-and-set on version) and its run records.
        """
        CREATE TABLE rule_states (rule TEXT PRIMARY KEY, next_run_at INTEGER NOT NULL, claimed_until INTEGER,
          holder TEXT, version INTEGER NOT NULL) WITHOUT ROWID""",
        """
        CREATE TABLE sync_runs (rule TEXT NOT NULL, id TEXT NOT NULL, run TEXT NOT NULL, expires_at INTEGER NOT NULL,
          PRIMARY KEY (rule, id)) WITHOUT ROWID""",
    }, new String[] {
        // 4: sweeping. A blob's state (NULL live, 'sweeping', 'swept' = tombstone) and the sweep
        // candidates, marked with the reference writes; blobs recorded before and unreferenced now
        // are candidates as of the migration.
        "ALTER TABLE blobs ADD COLUMN state TEXT",
        "CREATE INDEX blobs_sweeping ON blobs (digest) WHERE state = 'sweeping'",
        "CREATE TABLE blob_candidates (blob TEXT PRIMARY KEY, since INTEGER NOT NULL) WITHOUT ROWID",
        "CREATE INDEX blob_candidates_by_since ON blob_candidates (since, blob)",
        """
        INSERT INTO blob_candidates (blob, since)
          SELECT b.digest, CAST(strftime('%s', 'now') AS INTEGER) * 1000000 FROM blobs b
          WHERE NOT EXISTS (SELECT 1 FROM blob_refs r WHERE r.blob = b.digest)""",
    }, new String[] {
        // 5: when a tag was last pulled (retention's "not pulled for N days"); NULL: not since recorded.
        "ALTER TABLE tags ADD COLUMN last_pulled INTEGER",
        // A manifest references its own digest (its bytes in the manifests store), so they are swept
        // once no repository records it. Bytes of manifests recorded before have no blob record: kept.
        "INSERT OR IGNORE INTO blob_refs (blob, repo, manifest) SELECT digest, repo, digest FROM manifests",
    });

    /** The schema version this code writes. */
    public static final int SCHEMA_VERSION = MIGRATIONS.size();

    private final Connection db;
    private final Clock clock;
    private final ReentrantLock lock = new ReentrantLock();

    /**
     * Opens (creating if needed) {@code <data>/index.db}; the first store opened in this JVM also
     * keeps sqlite-jdbc's native library in {@code <data>/native} ({@link SqliteNative}).
     */
    public static SqliteIndex open(Path data, Clock clock) {
        try {
            Files.createDirectories(data);
        } catch (java.io.IOException e) {
            throw new StoreException("cannot create " + data + ": " + e.getMessage(), e);
        }
        SqliteNative.useCopyIn(data);
        return new SqliteIndex(data.resolve("index.db"), clock);
    }

    public SqliteIndex(Path dbFile, Clock clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
        try {
            this.db = DriverManager.getConnection("jdbc:sqlite:" + dbFile.toAbsolutePath());
            try (Statement s = db.createStatement()) {
                s.execute("PRAGMA busy_timeout = 15000");
                s.execute("PRAGMA journal_mode = WAL");
                s.execute("PRAGMA synchronous = NORMAL");
            }
            migrate();
        } catch (SQLException e) {
            throw new StoreException("cannot open " + dbFile + ": " + e.getMessage(), e);
        }
    }

    private void migrate() throws SQLException {
        try (Statement s = db.createStatement()) {
            s.execute("BEGIN IMMEDIATE");
            try {
                int version;
                try (ResultSet rs = s.executeQuery("PRAGMA user_version")) {
                    version = rs.next() ? rs.getInt(1) : 0;
                }
                if (version > SCHEMA_VERSION) {
                    throw new StoreException("index.db has schema version " + version + ", newer than this program's "
                            + SCHEMA_VERSION + ": upgrade image-mirror", null);
                }
                for (int v = version; v < SCHEMA_VERSION; v++) {
                    for (String sql : MIGRATIONS.get(v)) {
                        s.execute(sql);
                    }
                    s.execute("PRAGMA user_version = " + (v + 1));
                }
                s.execute("COMMIT");
            } catch (SQLException | RuntimeException e) {
                s.execute("ROLLBACK");
                throw e;
            }
        }
    }

    /** The schema version of the open database. */
    public int schemaVersion() {
        return read(() -> {
            try (Statement s = db.createStatement(); ResultSet rs = s.executeQuery("PRAGMA user_version")) {
                return rs.next() ? rs.getInt(1) : 0;
            }
        });
    }

    // ---- plumbing ----

    @FunctionalInterface
    private interface Work<T> {
        T run() throws SQLException;
    }

    private <T> T read(Work<T> work) {
        lock.lock();
        try {
            return work.run();
        } catch (SQLException e) {
            throw translate(e);
        } finally {
            lock.unlock();
        }
    }

    /** Runs {@code work} in one write transaction; a thrown exception rolls it back. */
    private <T> T write(Work<T> work) {
        lock.lock();
        try (Statement s = db.createStatement()) {
            s.execute("BEGIN IMMEDIATE");
            boolean done = false;
            try {
                T result = work.run();
                s.execute("COMMIT");
                done = true;
                return result;
            } finally {
                if (!done) {
                    s.execute("ROLLBACK");
                }
            }
        } catch (SQLException e) {
            throw translate(e);
        } finally {
            lock.unlock();
        }
    }

    private static StoreException translate(SQLException e) {
        String msg = String.valueOf(e.getMessage());
        boolean busy = msg.contains("SQLITE_BUSY") || msg.contains("SQLITE_LOCKED");
        return new StoreException("index.db: " + msg, e, busy);
    }

    private long now() {
        return Timestamps.toMicros(clock.instant());
    }

    private int update(String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = prepare(sql, args)) {
            return ps.executeUpdate();
        }
    }

    private PreparedStatement prepare(String sql, Object... args) throws SQLException {
        PreparedStatement ps = db.prepareStatement(sql);
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            if (a == null) {
                ps.setNull(i + 1, Types.NULL);
            } else if (a instanceof Long l) {
                ps.setLong(i + 1, l);
            } else if (a instanceof Integer n) {
                ps.setInt(i + 1, n);
            } else {
                ps.setString(i + 1, a.toString());
            }
        }
        return ps;
    }

    @FunctionalInterface
    private interface Row<T> {
        T map(ResultSet rs) throws SQLException;
    }

    private <T> List<T> query(String sql, Row<T> row, Object... args) throws SQLException {
        try (PreparedStatement ps = prepare(sql, args); ResultSet rs = ps.executeQuery()) {
            List<T> out = new ArrayList<>();
            while (rs.next()) {
                out.add(row.map(rs));
            }
            return out;
        }
    }

    private <T> Optional<T> one(String sql, Row<T> row, Object... args) throws SQLException {
        List<T> all = query(sql, row, args);
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(0));
    }

    /** Turns {@code limit + 1} rows into a page whose token holds the {@code key} parts of its last item. */
    private static <T> Page<T> page(String listing, List<T> rows, int max,
                                    java.util.function.Function<T, List<String>> key) {
        if (rows.size() <= max) {
            return Page.last(rows);
        }
        List<T> items = rows.subList(0, max);
        return new Page<>(items, PageToken.encode(listing, key.apply(items.get(max - 1))));
    }

    /** The one key a token of {@code listing} holds, or "" (before everything) without a token. */
    private static String after(String listing, String pageToken) {
        return pageToken == null ? "" : PageToken.decode(listing, pageToken, 1).get(0);
    }

    private static Instant instant(ResultSet rs, String col) throws SQLException {
        long v = rs.getLong(col);
        return rs.wasNull() ? null : Timestamps.fromMicros(v);
    }

    private static Digest digest(ResultSet rs, String col) throws SQLException {
        String v = rs.getString(col);
        return v == null ? null : Digest.parse(v);
    }

    // ---- manifests ----

    private static final String MANIFEST_COLUMNS = "repo, digest, doc, last_pulled, pull_count";

    private static ManifestRecord manifest(ResultSet rs) throws SQLException {
        return ManifestRecordJson.decode(rs.getString("repo"), Digest.parse(rs.getString("digest")),
                rs.getString("doc"), instant(rs, "last_pulled"), rs.getLong("pull_count"));
    }

    private static String column(ManifestReferences.Kind kind) {
        return switch (kind) {
            case TAG -> "tag_refs";
            case PIN -> "pin_refs";
            case PARENT -> "parent_refs";
        };
    }

    /**
     * Applies the reference changes core decided ({@link ManifestReferences}) inside the current
     * transaction, keeping {@code dangling_since} as core's rule says (set when no reference is left).
     * A raise of an unrecorded manifest fails the transaction with {@link MissingManifestException}.
     */
    private void apply(String repo, List<ManifestReferences.Change> changes, long now) throws SQLException {
        for (ManifestReferences.Change c : changes) {
            String col = column(c.kind());
            int n = update("UPDATE manifests SET " + col + " = " + col + " + ?, dangling_since = "
                    + "CASE WHEN tag_refs + pin_refs + parent_refs + ? = 0 THEN ? ELSE NULL END "
                    + "WHERE repo = ? AND digest = ?", c.delta(), c.delta(), now, repo, c.manifest());
            if (n == 0) {
                if (c.raises()) {
                    throw new MissingManifestException(repo, c.manifest());
                }
                throw new StoreException(c.name() + ": not recorded in " + repo, null, false);
            }
        }
    }

    private boolean manifestExists(String repo, Digest digest) throws SQLException {
        return one("SELECT 1 FROM manifests WHERE repo = ? AND digest = ?", rs -> true, repo, digest).isPresent();
    }

    @Override
    public boolean putManifest(ManifestRecord r) {
        return write(() -> {
            if (manifestExists(r.repository(), r.digest())) {
                return false;
            }
            for (Digest b : r.referencedContent()) {
                if (one("SELECT 1 FROM blobs WHERE digest = ? AND state IS NOT NULL", rs -> true, b).isPresent()) {
                    throw new SweptBlobException(b);
                }
            }
            long now = now();
            apply(r.repository(), ManifestReferences.recorded(r), now);
            update("INSERT INTO manifests (repo, digest, doc, last_pulled, pull_count, dangling_since) "
                            + "VALUES (?, ?, ?, ?, ?, ?)", r.repository(), r.digest(), ManifestRecordJson.encode(r),
                    r.lastPulled() == null ? null : Timestamps.toMicros(r.lastPulled()), r.pullCount(), now);
            update("INSERT OR IGNORE INTO repositories (repo) VALUES (?)", r.repository());
            for (Digest b : r.referencedContent()) {
                update("INSERT OR IGNORE INTO blob_refs (blob, repo, manifest) VALUES (?, ?, ?)", b, r.repository(),
                        r.digest());
                update("DELETE FROM blob_candidates WHERE blob = ?", b);
            }
            return true;
        });
    }

    @Override
    public Optional<ManifestRecord> getManifest(String repository, Digest digest) {
        return read(() -> one("SELECT " + MANIFEST_COLUMNS + " FROM manifests WHERE repo = ? AND digest = ?",
                SqliteIndex::manifest, repository, digest));
    }

    @Override
    public boolean markChildMirrored(String repository, Digest index, Digest child) {
        return write(() -> {
            Optional<ManifestRecord> r = one("SELECT " + MANIFEST_COLUMNS + " FROM manifests WHERE repo = ? AND digest = ?",
                    SqliteIndex::manifest, repository, index);
            if (r.isEmpty() || !r.get().listsUnmirrored(child)) {
                return false;
            }
            apply(repository, ManifestReferences.childMarked(child), now());
            update("UPDATE manifests SET doc = ? WHERE repo = ? AND digest = ?",
                    ManifestRecordJson.encode(r.get().withChildMirrored(child)), repository, index);
            return true;
        });
    }

    @Override
    public Page<ManifestRecord> listManifests(String repository, int limit, String pageToken) {
        int max = Page.checkLimit(limit);
        String after = after("manifests", pageToken);
        return read(() -> page("manifests", query("SELECT " + MANIFEST_COLUMNS + " FROM manifests "
                        + "WHERE repo = ? AND digest > ? ORDER BY digest LIMIT ?", SqliteIndex::manifest, repository,
                after, max + 1), max, m -> List.of(m.digest().toString())));
    }

    @Override
    public boolean recordPull(String repository, Digest digest) {
        return write(() -> update("UPDATE manifests SET last_pulled = ?, pull_count = pull_count + 1 "
                + "WHERE repo = ? AND digest = ?", now(), repository, digest) == 1);
    }

    @Override
    public Page<ManifestRecord> listDangling(Instant danglingBefore, int limit, String pageToken) {
        int max = Page.checkLimit(limit);
        long cutoff = Timestamps.toMicros(danglingBefore);
        List<String> t = pageToken == null ? null : PageToken.decode("dangling", pageToken, 3);
        long since = t == null ? 0 : PageToken.number(pageToken, t.get(0));
        return read(() -> {
            List<Object[]> rows;
            Row<Object[]> row = rs -> new Object[] {rs.getLong("dangling_since"), manifest(rs)};
            String select = "SELECT " + MANIFEST_COLUMNS + ", dangling_since FROM manifests "
                    + "WHERE dangling_since IS NOT NULL AND dangling_since < ? ";
            if (pageToken == null) {
                rows = query(select + "ORDER BY dangling_since, repo, digest LIMIT ?", row, cutoff, max + 1);
            } else {
                rows = query(select + "AND (dangling_since, repo, digest) > (?, ?, ?) "
                        + "ORDER BY dangling_since, repo, digest LIMIT ?", row, cutoff, since, t.get(1), t.get(2),
                        max + 1);
            }
            Page<Object[]> p = page("dangling", rows, max, o -> List.of(o[0].toString(),
                    ((ManifestRecord) o[1]).repository(), ((ManifestRecord) o[1]).digest().toString()));
            return p.map(o -> (ManifestRecord) o[1]);
        });
    }

    @Override
    public Page<ManifestRecord> listDanglingIn(String repository, int limit, String pageToken) {
        int max = Page.checkLimit(limit);
        String after = after("dangling-in", pageToken);
        return read(() -> page("dangling-in", query("SELECT " + MANIFEST_COLUMNS + " FROM manifests "
                        + "WHERE repo = ? AND digest > ? AND dangling_since IS NOT NULL ORDER BY digest LIMIT ?",
                SqliteIndex::manifest, repository, after, max + 1), max, m -> List.of(m.digest().toString())));
    }

    @Override
    public boolean deleteManifestIfDangling(String repository, Digest digest, Instant danglingBefore) {
        return write(() -> {
            Optional<ManifestRecord> m = one("SELECT " + MANIFEST_COLUMNS + " FROM manifests WHERE repo = ? AND digest = ? "
                    + "AND dangling_since IS NOT NULL AND dangling_since < ?", SqliteIndex::manifest,
                    repository, digest, Timestamps.toMicros(danglingBefore));
            if (m.isEmpty()) {
                return false;
            }
            long now = now();
            apply(repository, ManifestReferences.deleted(m.get()), now);
            update("DELETE FROM manifests WHERE repo = ? AND digest = ?", repository, digest);
            for (Digest b : m.get().referencedContent()) {
                update("DELETE FROM blob_refs WHERE blob = ? AND repo = ? AND manifest = ?", b, repository, digest);
                update("INSERT INTO blob_candidates (blob, since) VALUES (?, ?) ON CONFLICT (blob) "
                        + "DO UPDATE SET since = excluded.since", b, now);
            }
            return true;
        });
    }

    @Override
    public Optional<ManifestReferences.Counts> referenceCounts(String repository, Digest digest) {
        return read(() -> one("SELECT tag_refs, pin_refs, parent_refs FROM manifests WHERE repo = ? AND digest = ?",
                rs -> new ManifestReferences.Counts(rs.getLong(1), rs.getLong(2), rs.getLong(3)), repository, digest));
    }

    @Override
    public Page<String> listRepositories(int limit, String pageToken) {
        int max = Page.checkLimit(limit);
        String after = after("repositories", pageToken);
        return read(() -> page("repositories", query("SELECT repo FROM repositories WHERE repo > ? ORDER BY repo "
                + "LIMIT ?", rs -> rs.getString(1), after, max + 1), max, List::of));
    }

    // ---- tags ----

    private static TagRecord tag(ResultSet rs) throws SQLException {
        long pulled = rs.getLong("last_pulled");
        Instant lastPulled = rs.wasNull() ? null : Timestamps.fromMicros(pulled);
        return new TagRecord(rs.getString("repo"), rs.getString("tag"), Digest.parse(rs.getString("digest")),
                Timestamps.fromMicros(rs.getLong("updated_at")), lastPulled);
    }

    private Optional<TagRecord> tagRow(String repository, String tag) throws SQLException {
        return one("SELECT repo, tag, digest, updated_at, last_pulled FROM tags WHERE repo = ? AND tag = ?",
                SqliteIndex::tag, repository, tag);
    }

    @Override
    public Optional<TagRecord> getTag(String repository, String tag) {
        return read(() -> tagRow(repository, tag));
    }

    @Override
    public Page<TagRecord> listTags(String repository, int limit, String pageToken) {
        int max = Page.checkLimit(limit);
        String after = after("tags", pageToken);
        return read(() -> page("tags", query("SELECT repo, tag, digest, updated_at, last_pulled FROM tags WHERE repo = ? "
                + "AND tag > ? ORDER BY tag LIMIT ?", SqliteIndex::tag, repository, after, max + 1), max,
                t -> List.of(t.tag())));
    }

    @Override
    public boolean recordTagPull(String repository, String tag) {
        return write(() -> update("UPDATE tags SET last_pulled = ? WHERE repo = ? AND tag = ?", now(), repository,
                tag) > 0);
    }

    @Override
    public boolean replaceTag(String repository, String tag, Digest current, Digest next, String cause) {
        return write(() -> {
            Digest now = tagRow(repository, tag).map(TagRecord::digest).orElse(null);
            if (!Objects.equals(now, current)) {
                return false;
            }
            long time = now();
            apply(repository, ManifestReferences.tagMove(current, next), time);
            if (next != null) {
                update("INSERT INTO tags (repo, tag, digest, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (repo, tag) "
                        + "DO UPDATE SET digest = excluded.digest, updated_at = excluded.updated_at",
                        repository, tag, next, time);
            } else {
                update("DELETE FROM tags WHERE repo = ? AND tag = ?", repository, tag);
            }
            update("INSERT INTO tag_events (repo, tag, old_digest, new_digest, time, cause) VALUES (?, ?, ?, ?, ?, ?)",
                    repository, tag, current, next, time, cause);
            return true;
        });
    }

    @Override
    public Page<TagEvent> tagHistory(String repository, String tag, int limit, String pageToken) {
        int max = Page.checkLimit(limit);
        long before = pageToken == null ? Long.MAX_VALUE
                : PageToken.number(pageToken, PageToken.decode("history", pageToken, 1).get(0));
        return read(() -> {
            List<Object[]> rows = query("SELECT id, old_digest, new_digest, time, cause FROM tag_events "
                    + "WHERE repo = ? AND tag = ? AND id < ? ORDER BY id DESC LIMIT ?",
                    rs -> new Object[] {rs.getLong("id"), new TagEvent(repository, tag, digest(rs, "old_digest"),
                            digest(rs, "new_digest"), Timestamps.fromMicros(rs.getLong("time")), rs.getString("cause"))},
                    repository, tag, before, max + 1);
            return page("history", rows, max, o -> List.of(o[0].toString())).map(o -> (TagEvent) o[1]);
        });
    }

    // ---- pins ----

    @Override
    public boolean addPin(String repository, Digest digest) {
        return write(() -> {
            if (!manifestExists(repository, digest)) {
                throw new MissingManifestException(repository, digest);
            }
            long now = now();
            if (update("INSERT OR IGNORE INTO pins (repo, digest, time) VALUES (?, ?, ?)", repository, digest, now) == 0) {
                return false;
            }
            apply(repository, ManifestReferences.pinAdded(digest), now);
            return true;
        });
    }

    @Override
    public boolean removePin(String repository, Digest digest) {
        return write(() -> {
            if (update("DELETE FROM pins WHERE repo = ? AND digest = ?", repository, digest) == 0) {
                return false;
            }
            apply(repository, ManifestReferences.pinRemoved(digest), now());
            return true;
        });
    }

    @Override
    public Page<Pin> listPins(String repository, int limit, String pageToken) {
        int max = Page.checkLimit(limit);
        String after = after("pins", pageToken);
        return read(() -> page("pins", query("SELECT digest, time FROM pins WHERE repo = ? AND digest > ? "
                + "ORDER BY digest LIMIT ?", rs -> new Pin(repository, Digest.parse(rs.getString("digest")),
                Timestamps.fromMicros(rs.getLong("time"))), repository, after, max + 1), max,
                p -> List.of(p.digest().toString())));
    }

    // ---- blob records ----

    @Override
    public boolean createBlobRecord(Digest digest, long size) {
        return write(() -> {
            long now = now();
            int n = update("INSERT INTO blobs (digest, size, last_touched) VALUES (?, ?, ?) ON CONFLICT (digest) "
                    + "DO UPDATE SET size = excluded.size, last_touched = excluded.last_touched, state = NULL "
                    + "WHERE state = 'swept'", digest, size, now);
            if (n == 1 && one("SELECT 1 FROM blob_refs WHERE blob = ? LIMIT 1", rs -> true, digest).isEmpty()) {
                update("INSERT INTO blob_candidates (blob, since) VALUES (?, ?) ON CONFLICT (blob) "
                        + "DO UPDATE SET since = excluded.since", digest, now);
            }
            return n == 1;
        });
    }

    @Override
    public Optional<BlobRecord> getBlobRecord(Digest digest) {
        return read(() -> one("SELECT size, last_touched FROM blobs WHERE digest = ? AND state IS NULL",
                rs -> new BlobRecord(digest, rs.getLong("size"), Timestamps.fromMicros(rs.getLong("last_touched"))),
                digest));
    }

    @Override
    public boolean touchBlob(Digest digest) {
        return write(() -> update("UPDATE blobs SET last_touched = ? WHERE digest = ? AND state IS NULL", now(),
                digest) == 1);
    }

    private static BlobCandidate candidate(ResultSet rs) throws SQLException {
        return new BlobCandidate(Digest.parse(rs.getString("blob")), rs.getLong("size"),
                Timestamps.fromMicros(rs.getLong("since")));
    }

    @Override
    public Page<BlobCandidate> listBlobCandidates(Instant before, int limit, String pageToken) {
        int max = Page.checkLimit(limit);
        long cutoff = Timestamps.toMicros(before);
        List<String> t = pageToken == null ? List.of("-1", "") : PageToken.decode("candidates", pageToken, 2);
        long since = PageToken.number(pageToken, t.get(0));
        return read(() -> page("candidates", query("SELECT c.blob, c.since, coalesce(b.size, 0) AS size "
                        + "FROM blob_candidates c LEFT JOIN blobs b ON b.digest = c.blob WHERE c.since < ? "
                        + "AND (c.since, c.blob) > (?, ?) ORDER BY c.since, c.blob LIMIT ?", SqliteIndex::candidate,
                cutoff, since, t.get(1), max + 1), max,
                c -> List.of(Long.toString(Timestamps.toMicros(c.since())), c.digest().toString())));
    }

    @Override
    public boolean dropBlobCandidate(Digest digest, Instant since) {
        return write(() -> update("DELETE FROM blob_candidates WHERE blob = ? AND since = ?", digest,
                Timestamps.toMicros(since)) == 1);
    }

    @Override
    public boolean beginBlobSweep(Digest digest, Instant cutoff) {
        return write(() -> {
            int n = update("UPDATE blobs SET state = 'sweeping', last_touched = ? WHERE digest = ? AND state IS NULL "
                    + "AND last_touched < ?", now(), digest, Timestamps.toMicros(cutoff));
            if (n == 1) {
                update("DELETE FROM blob_candidates WHERE blob = ?", digest);
            }
            return n == 1;
        });
    }

    @Override
    public boolean cancelBlobSweep(Digest digest) {
        return write(() -> update("UPDATE blobs SET state = NULL, last_touched = ? WHERE digest = ? "
                + "AND state = 'sweeping'", now(), digest) == 1);
    }

    @Override
    public Page<BlobCandidate> listBlobSweeps(int limit, String pageToken) {
        int max = Page.checkLimit(limit);
        String after = after("sweeps", pageToken);
        return read(() -> page("sweeps", query("SELECT digest AS blob, size, last_touched AS since FROM blobs "
                + "WHERE state = 'sweeping' AND digest > ? ORDER BY digest LIMIT ?", SqliteIndex::candidate, after,
                max + 1), max, c -> List.of(c.digest().toString())));
    }

    @Override
    public boolean finishBlobSweep(Digest digest) {
        return write(() -> update("UPDATE blobs SET state = 'swept' WHERE digest = ? AND state = 'sweeping'",
                digest) == 1);
    }

    @Override
    public Page<BlobReference> referencingManifests(Digest blob, int limit, String pageToken) {
        int max = Page.checkLimit(limit);
        List<String> t = pageToken == null ? List.of("", "") : PageToken.decode("refs", pageToken, 2);
        return read(() -> page("refs", query("SELECT repo, manifest FROM blob_refs WHERE blob = ? "
                        + "AND (repo, manifest) > (?, ?) ORDER BY repo, manifest LIMIT ?",
                rs -> new BlobReference(blob, rs.getString("repo"), Digest.parse(rs.getString("manifest"))),
                blob, t.get(0), t.get(1), max + 1), max, r -> List.of(r.repository(), r.manifest().toString())));
    }

    @Override
    public boolean isReferencedIn(Digest blob, String repository) {
        return read(() -> one("SELECT 1 FROM blob_refs WHERE blob = ? AND repo = ? LIMIT 1", rs -> true, blob,
                repository).isPresent());
    }

    @Override
    public boolean isReferenced(Digest blob) {
        return read(() -> one("SELECT 1 FROM blob_refs WHERE blob = ? LIMIT 1", rs -> true, blob).isPresent());
    }

    // ---- jobs ----

    private static final String JOB_COLUMNS =
            "id, kind, status, request, progress_done, progress_total, result, error, created, updated, expires_at";

    private static Job job(ResultSet rs) throws SQLException {
        return new Job(rs.getString("id"), rs.getString("kind"), JobStatus.valueOf(rs.getString("status")),
                rs.getString("request"), rs.getLong("progress_done"), rs.getLong("progress_total"),
                rs.getString("result"), rs.getString("error"), instant(rs, "created"), instant(rs, "updated"),
                instant(rs, "expires_at"));
    }

    private static Object[] jobValues(Job j) {
        return new Object[] {j.id(), j.kind(), j.status().name(), j.request(), j.progressDone(), j.progressTotal(),
            j.result(), j.error(), Timestamps.toMicros(j.created()), Timestamps.toMicros(j.updated()),
            Timestamps.toMicros(j.expiresAt())};
    }

    @Override
    public boolean createJob(Job job) {
        return write(() -> {
            long now = now();
            // Expired jobs go when jobs are written, like DynamoDB's TTL sweep.
            update("DELETE FROM jobs WHERE expires_at <= ?", now);
            return update("INSERT OR IGNORE INTO jobs (" + JOB_COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    jobValues(job)) == 1;
        });
    }

    @Override
    public Optional<Job> getJob(String id) {
        return read(() -> one("SELECT " + JOB_COLUMNS + " FROM jobs WHERE id = ? AND expires_at > ?",
                SqliteIndex::job, id, now()));
    }

    @Override
    public boolean updateJob(Job job, JobStatus expectedStatus) {
        return write(() -> {
            Object[] v = jobValues(job);
            Object[] args = new Object[] {v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], job.id(), now(),
                expectedStatus == null ? null : expectedStatus.name()};
            return update("UPDATE jobs SET kind = ?, status = ?, request = ?, progress_done = ?, progress_total = ?, "
                    + "result = ?, error = ?, created = ?, updated = ?, expires_at = ? "
                    + "WHERE id = ? AND expires_at > ? AND (?13 IS NULL OR status = ?13)", args) == 1;
        });
    }

    @Override
    public Page<Job> listJobs(int limit, String pageToken) {
        int max = Page.checkLimit(limit);
        List<String> t = pageToken == null ? null : PageToken.decode("jobs", pageToken, 2);
        long created = t == null ? 0 : PageToken.number(pageToken, t.get(0));
        return read(() -> {
            long now = now();
            List<Job> rows;
            if (pageToken == null) {
                rows = query("SELECT " + JOB_COLUMNS + " FROM jobs WHERE expires_at > ? ORDER BY created DESC, id DESC "
                        + "LIMIT ?", SqliteIndex::job, now, max + 1);
            } else {
                rows = query("SELECT " + JOB_COLUMNS + " FROM jobs WHERE expires_at > ? AND (created, id) < (?, ?) "
                        + "ORDER BY created DESC, id DESC LIMIT ?", SqliteIndex::job, now, created, t.get(1), max + 1);
            }
            return page("jobs", rows, max, j -> List.of(Long.toString(Timestamps.toMicros(j.created())), j.id()));
        });
    }

    // ---- sync rules ----

    private static SyncRule rule(ResultSet rs) throws SQLException {
        return new SyncRule(rs.getString("name"), rs.getString("config"), rs.getInt("enabled") != 0);
    }

    @Override
    public void putSyncRule(SyncRule rule) {
        write(() -> update("INSERT INTO sync_rules (name, config, enabled) VALUES (?, ?, ?) ON CONFLICT (name) "
                + "DO UPDATE SET config = excluded.config, enabled = excluded.enabled", rule.name(), rule.config(),
                rule.enabled() ? 1 : 0));
    }

    @Override
    public Optional<SyncRule> getSyncRule(String name) {
        return read(() -> one("SELECT name, config, enabled FROM sync_rules WHERE name = ?",
                SqliteIndex::rule, name));
    }

    @Override
    public Page<SyncRule> listSyncRules(int limit, String pageToken) {
        int max = Page.checkLimit(limit);
        String after = after("rules", pageToken);
        return read(() -> page("rules", query("SELECT name, config, enabled FROM sync_rules WHERE name > ? "
                + "ORDER BY name LIMIT ?", SqliteIndex::rule, after, max + 1), max, r -> List.of(r.name())));
    }

    @Override
    public boolean deleteSyncRule(String name) {
        return write(() -> update("DELETE FROM sync_rules WHERE name = ?", name) == 1);
    }

    private static RuleState ruleState(ResultSet rs) throws SQLException {
        return new RuleState(rs.getString("rule"), instant(rs, "next_run_at"), instant(rs, "claimed_until"),
                rs.getString("holder"), rs.getLong("version"));
    }

    @Override
    public Optional<RuleState> getRuleState(String name) {
        return read(() -> one("SELECT rule, next_run_at, claimed_until, holder, version FROM rule_states WHERE rule = ?",
                SqliteIndex::ruleState, name));
    }

    @Override
    public boolean replaceRuleState(RuleState next) {
        Long until = next.claimedUntil() == null ? null : Timestamps.toMicros(next.claimedUntil());
        long nextRun = Timestamps.toMicros(next.nextRunAt());
        return write(() -> next.version() == 1
                ? update("INSERT OR IGNORE INTO rule_states (rule, next_run_at, claimed_until, holder, version) "
                        + "VALUES (?, ?, ?, ?, 1)", next.rule(), nextRun, until, next.holder()) == 1
                : update("UPDATE rule_states SET next_run_at = ?, claimed_until = ?, holder = ?, version = ? "
                        + "WHERE rule = ? AND version = ?", nextRun, until, next.holder(), next.version(), next.rule(),
                        next.version() - 1) == 1);
    }

    private static SyncRunRecord syncRun(ResultSet rs) throws SQLException {
        return new SyncRunRecord(rs.getString("rule"), rs.getString("id"), rs.getString("run"),
                instant(rs, "expires_at"));
    }

    @Override
    public void putSyncRun(SyncRunRecord run) {
        write(() -> {
            // Expired runs go when runs are written, like DynamoDB's TTL sweep.
            update("DELETE FROM sync_runs WHERE expires_at <= ?", now());
            return update("INSERT INTO sync_runs (rule, id, run, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT (rule, id) "
                    + "DO UPDATE SET run = excluded.run, expires_at = excluded.expires_at", run.rule(), run.id(),
                    run.run(), Timestamps.toMicros(run.expiresAt()));
        });
    }

    @Override
    public Page<SyncRunRecord> listSyncRuns(String rule, int limit, String pageToken) {
        int max = Page.checkLimit(limit);
        String before = pageToken == null ? null : PageToken.decode("runs", pageToken, 1).get(0);
        return read(() -> page("runs", query("SELECT rule, id, run, expires_at FROM sync_runs WHERE rule = ? "
                + "AND expires_at > ? AND (? IS NULL OR id < ?) ORDER BY id DESC LIMIT ?", SqliteIndex::syncRun,
                rule, now(), before, before, max + 1), max, r -> List.of(r.id())));
    }

    @Override
    public boolean deleteSyncRun(String rule, String id) {
        return write(() -> update("DELETE FROM sync_runs WHERE rule = ? AND id = ?", rule, id) == 1);
    }

    @Override
    public void close() {
        lock.lock();
        try {
            db.close();
        } catch (SQLException e) {
            throw translate(e);
        } finally {
            lock.unlock();
        }
    }
}
