package io.imagemirror.aws.store;

import io.imagemirror.oci.Digest;
import io.imagemirror.store.BlobCandidate;
import io.imagemirror.store.BlobIndex;
import io.imagemirror.store.BlobRecord;
import io.imagemirror.store.BlobReference;
import io.imagemirror.store.InvalidPageTokenException;
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
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.Delete;
import software.amazon.awssdk.services.dynamodb.model.DynamoDbException;
import software.amazon.awssdk.services.dynamodb.model.GlobalSecondaryIndex;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.Projection;
import software.amazon.awssdk.services.dynamodb.model.ProjectionType;
import software.amazon.awssdk.services.dynamodb.model.Put;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;
import software.amazon.awssdk.services.dynamodb.model.ScanRequest;
import software.amazon.awssdk.services.dynamodb.model.ScanResponse;
import software.amazon.awssdk.services.dynamodb.model.ResourceNotFoundException;
import software.amazon.awssdk.services.dynamodb.model.ReturnValue;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.Update;

/**
 * The index ports in one DynamoDB table (keys in {@code docs/storage.md}):
 * <pre>
 *   pk = REPO#&lt;repo&gt;   sk = MANIFEST#&lt;digest&gt;        manifest record + reference counts
 *   pk = BLOB#&lt;digest&gt; sk = REF#&lt;repo&gt;#&lt;manifest&gt; a manifest that lists the blob
 *   pk = META          sk = SCHEMA                   the table's item shape version
 *   pk = REPO#&lt;repo&gt;   sk = TAG#&lt;tag&gt;                current digest (absent: deleted) + seq
 *   pk = REPO#&lt;repo&gt;   sk = TAGLOG#&lt;tag&gt;#&lt;seq&gt;      one tag move
 *   pk = REPO#&lt;repo&gt;   sk = PIN#&lt;digest&gt;
 *   pk = REPOS         sk = &lt;repo&gt;                   the catalog
 *   pk = BLOB#&lt;digest&gt; sk = BLOB                     size, lastTouched, sweep (SWEEPING/SWEPT), ttl
 *   pk = JOB#&lt;id&gt;      sk = JOB                      job, ttl (epoch seconds) for DynamoDB's TTL
 *   pk = RULES         sk = &lt;name&gt;                   sync rule
 *   pk = RULE#&lt;name&gt;  sk = STATE                    planner state (compare-and-set on version)
 *   pk = RULE#&lt;name&gt;  sk = RUN#&lt;id&gt;                 one run record, ttl (epoch seconds)
 *   GSI gsi1 (gsi1pk, gsi1sk), sparse: DANGLING / &lt;since&gt;#&lt;repo&gt;#&lt;digest&gt; on manifests that may
 *   be dangling; JOBS / &lt;created&gt;#&lt;id&gt; on jobs; BLOBCANDIDATE / &lt;since&gt;#&lt;digest&gt; on blobs
 *   that may be unreferenced; SWEEPING / &lt;digest&gt; on blobs a sweep is deleting.
 * </pre>
 * Each manifest counts the tags, pins and recorded parent indexes naming it. Whatever lowers a
 * count sets the manifest's {@code gsi1pk = DANGLING} (a candidate); whatever raises one removes
 * it; both in the same transaction as the change, so a manifest whose counts are all zero always
 * carries the key. {@link #listDangling} reads the candidates and keeps those whose counts are
 * zero, and the delete is conditional on the counts. A tag move is one
 * {@code TransactWriteItems}: the tag (conditional on its sequence number), the history entry,
 * and both manifests' counts. A manifest is written in one transaction with its blob references
 * and its children's counts, and deleted the same way; every transaction's items are named
 * ({@link NamedTransaction}), and a cancellation is decoded by those names.
 *
 * <p>Item shapes: schema 1 (before blob references) had no {@code REF#} items; schema 2 tables from
 * before the sweeper have unreferenced blobs that are no sweep candidates; schema 3 had no reference
 * of a manifest to its own digest (its bytes in the bucket); {@link #migrate} brings any of them to
 * schema 4 in place (see {@code docs/storage.md}). All shapes read the same.
 *
 * <p>Thread-safe. The client is the caller's. GSI reads ({@link #listDangling}, {@link #listJobs})
 * are eventually consistent on AWS; the conditional writes are what keep the invariants.
 */
public final class DynamoIndex implements TagIndex, ManifestIndex, BlobIndex, PinIndex, JobStore, RuleStore {

    static final String GSI = "gsi1";
    /**
     * The item shape this code writes; 1 had no blob reference items; at 2 blobs already
     * unreferenced when the sweeper came were not marked as sweep candidates; 3 had no manifest
     * self-references (4 has them: a manifest item's {@code blobRefs} is the shape of its references).
     */
    public static final int SCHEMA_VERSION = 4;
    /** The first item shape with every manifest's blob (layer and config) references. */
    static final int REFERENCES_SCHEMA = 2;
    /** The first item shape whose blob records unreferenced since before the sweeper are candidates. */
    static final int CANDIDATES_SCHEMA = 3;
    /**
     * Transaction items of a manifest written in one transaction besides the manifest's own: each
     * mirrored child takes one, each blob two (its reference and its record's sweep check), and so
     * does the manifest's self-reference (its bytes), so up to 48 blobs. A larger manifest is written
     * in steps ({@link #putInSteps}).
     */
    public static final int MAX_MANIFEST_REFERENCES = NamedTransaction.MAX_ITEMS - 1;
    /**
     * A manifest item being written in steps ({@code PENDING}) or having its references removed in
     * steps ({@code RELEASING}): not a recorded manifest; {@code refsDone} counts the references in place.
     */
    private static final String WRITE_STATE = "writeState";
    private static final String PENDING = "PENDING";
    private static final String RELEASING = "RELEASING";
    /**
     * A stepwise write that made no step for this long is taken for dead and may be released by a
     * sweep (whatever its grace period: a zero-grace sweep must not undo a write in progress). Longer
     * than a Lambda function runs; a step itself is one transaction.
     */
    static final java.time.Duration ABANDONED_AFTER = java.time.Duration.ofMinutes(15);
    /** How often a stepwise write starts over after another writer or a sweep took its item. */
    private static final int STEP_WRITE_ATTEMPTS = 10;
    private static final Map<String, String> STEP_NAMES = Map.of("#ws", WRITE_STATE, "#done", "refsDone");
    private static final String CANDIDATES = "BLOBCANDIDATE";
    /** How often {@link #markChildMirrored} reads the index again after a concurrent mark changed it. */
    private static final int MARK_ATTEMPTS = 10;
    private static final String SWEEPING = "SWEEPING";
    private static final String SWEPT = "SWEPT";
    /** How long a swept blob's tombstone refuses manifest writes that checked the blob before it went. */
    static final java.time.Duration TOMBSTONE_TTL = java.time.Duration.ofDays(7);
    private static final String DANGLING = "DANGLING";
    private static final String JOBS = "JOBS";

    private final DynamoDbClient dynamo;
    private final String table;
    private final Clock clock;
    /** Set once the table is known to be at {@link #SCHEMA_VERSION} (it never goes back). */
    private volatile boolean referencesComplete;
    /** Set once every manifest item is known to reference its own digest (schema 3). */
    private volatile boolean manifestReferencesComplete;

    public DynamoIndex(DynamoDbClient dynamo, String table, Clock clock) {
        this.dynamo = Objects.requireNonNull(dynamo, "dynamo");
        this.table = Objects.requireNonNull(table, "table");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    public String table() {
        return table;
    }

    // ---- table ----

    /** Whether the table exists. */
    public static boolean tableExists(DynamoDbClient dynamo, String table) {
        try {
            dynamo.describeTable(b -> b.tableName(table));
            return true;
        } catch (ResourceNotFoundException e) {
            return false;
        } catch (SdkException e) {
            throw new StoreException("describe table " + table + " failed: " + e.getMessage(), e, true);
        }
    }

    /**
     * Creates the table with its GSI and TTL (on-demand billing), waits until it is active and
     * records its item schema ({@link #SCHEMA_VERSION}).
     */
    public static void createTable(DynamoDbClient dynamo, String table) {
        try {
            dynamo.createTable(b -> b.tableName(table).billingMode(BillingMode.PAY_PER_REQUEST)
                    .attributeDefinitions(attr("pk"), attr("sk"), attr("gsi1pk"), attr("gsi1sk"))
                    .keySchema(key("pk", KeyType.HASH), key("sk", KeyType.RANGE))
                    .globalSecondaryIndexes(GlobalSecondaryIndex.builder().indexName(GSI)
                            .keySchema(key("gsi1pk", KeyType.HASH), key("gsi1sk", KeyType.RANGE))
                            .projection(Projection.builder().projectionType(ProjectionType.ALL).build()).build()));
            try (var waiter = dynamo.waiter()) {
                waiter.waitUntilTableExists(b -> b.tableName(table));
            }
            dynamo.updateTimeToLive(b -> b.tableName(table)
                    .timeToLiveSpecification(t -> t.attributeName("ttl").enabled(true)));
            // A new table starts at the current item shape: nothing to migrate.
            dynamo.putItem(b -> b.tableName(table).item(values("pk", "META", "sk", "SCHEMA", "version",
                    SCHEMA_VERSION)));
        } catch (SdkException e) {
            throw new StoreException("create table " + table + " failed: " + e.getMessage(), e, false);
        }
    }

    private static AttributeDefinition attr(String name) {
        return AttributeDefinition.builder().attributeName(name).attributeType(ScalarAttributeType.S).build();
    }

    private static KeySchemaElement key(String name, KeyType type) {
        return KeySchemaElement.builder().attributeName(name).keyType(type).build();
    }

    // ---- schema ----

    /** The item shape of the table: 1 for a table written before blob references (it has no {@code META} item). */
    public int schemaVersion() {
        return get("META", "SCHEMA").map(i -> (int) num(i, "version", 1)).orElse(1);
    }

    /**
     * Brings the table's items to {@link #SCHEMA_VERSION} in place. Idempotent, and safe while other
     * processes read and write (each step is conditional): 1 to 2 gives every manifest item written
     * without blob references its {@code REF#} items, marking the manifest in the same transaction
     * (a manifest deleted meanwhile gets none); 2 to 3 marks every live blob record that is not a
     * sweep candidate and has no reference as one (such blobs were unreferenced before the sweeper
     * existed, so nothing marked them). One scan of the table per step, once; afterwards this is one
     * read. Blob reference queries are exact only once step 1 to 2 has run to the end.
     *
     * @throws StoreException if the table was written by a newer program
     */
    public void migrate() {
        int version = refuseNewerSchema();
        if (version == SCHEMA_VERSION) {
            referencesComplete = true;
            manifestReferencesComplete = true;
            return;
        }
        // Every manifest item references its blobs and its own bytes; blobRefs says which shape it has.
        scan("scan for schema " + version + " manifests",
                "begins_with(sk, :m) AND (attribute_not_exists(blobRefs) OR blobRefs < :v)",
                Map.of(), Map.of(":m", s("MANIFEST#"), ":v", n(SCHEMA_VERSION)), this::addBlobReferences);
        referencesComplete = true;
        if (version < CANDIDATES_SCHEMA) {
            scan("scan for unmarked blob records", "sk = :blob AND attribute_exists(lastTouched) "
                    + "AND attribute_not_exists(#sweep) AND attribute_not_exists(gsi1pk)", Map.of("#sweep", "sweep"),
                    Map.of(":blob", s("BLOB")), this::markIfUnreferenced);
        }
        recordSchema(SCHEMA_VERSION);
        manifestReferencesComplete = true;
    }

    /** Runs {@code each} on every item a consistent scan with {@code filter} returns, page by page. */
    private void scan(String what, String filter, Map<String, String> names, Map<String, AttributeValue> vals,
                      java.util.function.Consumer<Map<String, AttributeValue>> each) {
        Map<String, AttributeValue> start = null;
        do {
            ScanRequest.Builder scan = ScanRequest.builder().tableName(table).consistentRead(true)
                    .filterExpression(filter).expressionAttributeValues(vals);
            if (!names.isEmpty()) {
                scan.expressionAttributeNames(names);
            }
            if (start != null) {
                scan.exclusiveStartKey(start);
            }
            ScanResponse r;
            try {
                r = dynamo.scan(scan.build());
            } catch (SdkException e) {
                throw translate(what, e);
            }
            r.items().forEach(each);
            start = r.hasLastEvaluatedKey() && !r.lastEvaluatedKey().isEmpty() ? r.lastEvaluatedKey() : null;
        } while (start != null);
    }

    private void recordSchema(int version) {
        try {
            dynamo.putItem(b -> b.tableName(table).item(values("pk", "META", "sk", "SCHEMA", "version", version))
                    .conditionExpression("attribute_not_exists(pk) OR version < :v")
                    .expressionAttributeValues(Map.of(":v", n(version))));
        } catch (ConditionalCheckFailedException e) {
            // another process finished the migration first
        } catch (SdkException e) {
            throw translate("record schema version", e);
        }
    }

    /**
     * Step 2 to 3 for one blob record: a sweep candidate as of now unless referenced. A blob that a
     * manifest lists after the check is marked harmlessly (the sweeper checks again and drops the
     * mark); one that loses its last reference after it is marked by that delete.
     */
    private void markIfUnreferenced(Map<String, AttributeValue> item) {
        Digest d = Digest.parse(str(item, "pk").substring("BLOB#".length()));
        if (isReferenced(d)) {
            return;
        }
        long now = nowMicros();
        updateBlob("mark unreferenced blob", d, "SET gsi1pk = :cand, gsi1sk = :since",
                "attribute_exists(lastTouched) AND attribute_not_exists(#sweep) AND attribute_not_exists(gsi1pk)",
                Map.of(":cand", s(CANDIDATES), ":since", s(pad(now) + "#" + d)));
    }

    /**
     * Fails if the table was written by a newer program.
     *
     * @return the table's item schema
     */
    public int refuseNewerSchema() {
        int version = schemaVersion();
        if (version > SCHEMA_VERSION) {
            throw new StoreException("DynamoDB table " + table + " has item schema " + version
                    + ", newer than this program's " + SCHEMA_VERSION + ": upgrade image-mirror", null, false);
        }
        return version;
    }

    /**
     * Blob reference answers are exact only once every manifest has its references: on a table
     * not yet migrated they would say "unreferenced" for blobs that are, so they fail instead.
     */
    private void requireCompleteReferences() {
        if (referencesComplete) {
            return;
        }
        if (schemaVersion() < REFERENCES_SCHEMA) {
            throw new StoreException("DynamoDB table " + table + " is at item schema " + schemaVersion()
                    + ": blob references are incomplete until it is migrated; run any image-mirror command with "
                    + "--store aws --table " + table + " once (it migrates in place, see docs/storage.md)", null,
                    false);
        }
        referencesComplete = true;
    }

    /**
     * Whether manifest bytes may be swept: only once every manifest item references its own digest
     * (schema 4, after {@link #migrate}); before, a manifest recorded by an earlier release would not
     * keep its bytes. One read until it is true.
     */
    @Override
    public boolean manifestReferencesComplete() {
        if (!manifestReferencesComplete && schemaVersion() >= SCHEMA_VERSION) {
            manifestReferencesComplete = true;
        }
        return manifestReferencesComplete;
    }

    /**
     * Writes the blob references of a manifest of schema 1 or 2 (a schema 2 one's again: the puts are
     * idempotent) and its self-reference. They go in transactions of at most 99 with the manifest's
     * mark in the last; a manifest with more blobs than one transaction holds may, if it
     * is deleted midway, leave references that only keep blobs longer (never too short).
     */
    private void addBlobReferences(Map<String, AttributeValue> item) {
        ManifestRecord m = manifest(item);
        List<Digest> blobs = m.referencedContent();
        int chunk = NamedTransaction.MAX_ITEMS - 1;
        for (int from = 0; ; from += chunk) {
            List<Digest> part = blobs.subList(Math.min(from, blobs.size()), Math.min(from + chunk, blobs.size()));
            boolean last = from + chunk >= blobs.size();
            NamedTransaction tx = transaction("add blob references of " + m.digest() + " in " + m.repository());
            tx.add("manifest", TransactWriteItem.builder().update(Update.builder().tableName(table)
                    .key(keyOf(repoPk(m.repository()), manifestSk(m.digest())))
                    .updateExpression(last ? "SET blobRefs = :v" : "SET migrating = :v")
                    .conditionExpression("attribute_exists(pk) AND (attribute_not_exists(blobRefs) OR blobRefs < :v)")
                    .expressionAttributeValues(Map.of(":v", n(SCHEMA_VERSION))).build()).build());
            for (Digest b : part) {
                tx.add("blob " + b, putRef(b, m.repository(), m.digest()));
            }
            if (run(tx).contains("manifest") || last) {
                return; // deleted or migrated by another process meanwhile, or done
            }
        }
    }

    // ---- attribute helpers ----

    private static AttributeValue s(String v) {
        return AttributeValue.fromS(v);
    }

    private static AttributeValue n(long v) {
        return AttributeValue.fromN(Long.toString(v));
    }

    private static String str(Map<String, AttributeValue> item, String name) {
        AttributeValue v = item.get(name);
        return v == null || v.s() == null ? null : v.s();
    }

    private static long num(Map<String, AttributeValue> item, String name, long dflt) {
        AttributeValue v = item.get(name);
        return v == null || v.n() == null ? dflt : Long.parseLong(v.n());
    }

    private static Instant time(Map<String, AttributeValue> item, String name) {
        AttributeValue v = item.get(name);
        return v == null || v.n() == null ? null : Timestamps.fromMicros(Long.parseLong(v.n()));
    }

    private static Digest digestOf(Map<String, AttributeValue> item, String name) {
        String v = str(item, name);
        return v == null ? null : Digest.parse(v);
    }

    private static Map<String, AttributeValue> keyOf(String pk, String sk) {
        return Map.of("pk", s(pk), "sk", s(sk));
    }

    private static Map<String, AttributeValue> values(Object... kv) {
        Map<String, AttributeValue> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            Object v = kv[i + 1];
            m.put((String) kv[i], v instanceof AttributeValue a ? a : v instanceof Long l ? n(l)
                    : v instanceof Integer x ? n(x) : s(v.toString()));
        }
        return m;
    }

    private static String repoPk(String repo) {
        return "REPO#" + repo;
    }

    private static String manifestSk(Digest d) {
        return "MANIFEST#" + d;
    }

    /** A sort key part that orders by time: zero-padded microseconds. */
    private static String pad(long micros) {
        return String.format("%020d", micros);
    }

    private long nowMicros() {
        return Timestamps.toMicros(clock.instant());
    }

    private Optional<Map<String, AttributeValue>> get(String pk, String sk) {
        try {
            Map<String, AttributeValue> item = dynamo.getItem(b -> b.tableName(table).key(keyOf(pk, sk))
                    .consistentRead(true)).item();
            return item == null || item.isEmpty() ? Optional.empty() : Optional.of(item);
        } catch (SdkException e) {
            throw translate("get " + pk + " " + sk, e);
        }
    }

    private StoreException translate(String what, SdkException e) {
        return translate(table, what, e);
    }

    /** An SDK failure of {@code what} on {@code table} as a store failure: missing table, or retryable or not. */
    static StoreException translate(String table, String what, SdkException e) {
        if (e instanceof ResourceNotFoundException) {
            return new StoreException("DynamoDB table " + table + " does not exist (" + what + ")", e, false);
        }
        boolean retryable = e instanceof SdkClientException || e.retryable()
                || (e instanceof DynamoDbException d && (d.statusCode() >= 500 || d.isThrottlingException()));
        return new StoreException(what + " in DynamoDB table " + table + " failed: " + e.getMessage(), e, retryable);
    }

    // ---- transactions ----

    private NamedTransaction transaction(String what) {
        return new NamedTransaction(what);
    }

    private Set<String> run(NamedTransaction tx) {
        return tx.run(dynamo, this::translate);
    }

    private TransactWriteItem put(Map<String, AttributeValue> item, String condition, Map<String, AttributeValue> vals) {
        Put.Builder p = Put.builder().tableName(table).item(item);
        if (condition != null) {
            p.conditionExpression(condition);
            if (vals != null && !vals.isEmpty()) {
                p.expressionAttributeValues(vals);
            }
        }
        return TransactWriteItem.builder().put(p.build()).build();
    }

    private static String counter(ManifestReferences.Kind kind) {
        return switch (kind) {
            case TAG -> "refTags";
            case PIN -> "refPins";
            case PARENT -> "refParents";
        };
    }

    /**
     * One reference change core decided ({@link ManifestReferences}) as a transaction item on the
     * manifest, conditional on it being recorded. A raise takes it out of the dangling candidates
     * (it is referenced now); a lower makes it one as of {@code now} (it may have no reference
     * left), so a manifest with no references always carries the sparse index key.
     */
    private TransactWriteItem change(String repo, ManifestReferences.Change c, long now) {
        Update.Builder u = Update.builder().tableName(table).key(keyOf(repoPk(repo), manifestSk(c.manifest())))
                .conditionExpression("attribute_exists(pk)");
        if (c.raises()) {
            // Only a recorded manifest: not one being written or released in steps.
            u.updateExpression("ADD " + counter(c.kind()) + " :one REMOVE gsi1pk, gsi1sk")
                    .conditionExpression("attribute_exists(pk) AND attribute_not_exists(#ws)")
                    .expressionAttributeNames(Map.of("#ws", WRITE_STATE))
                    .expressionAttributeValues(Map.of(":one", n(1)));
        } else {
            u.updateExpression("ADD " + counter(c.kind()) + " :minus SET gsi1pk = :d, gsi1sk = :since")
                    .expressionAttributeValues(Map.of(":minus", n(-1), ":d", s(DANGLING),
                            ":since", s(danglingSortKey(now, repo, c.manifest()))));
        }
        return TransactWriteItem.builder().update(u.build()).build();
    }

    /** Adds the changes to {@code tx}, each named {@link ManifestReferences.Change#name()}. */
    private void addChanges(NamedTransaction tx, String repo, List<ManifestReferences.Change> changes, long now) {
        for (ManifestReferences.Change c : changes) {
            tx.add(c.name(), change(repo, c, now));
        }
    }

    /**
     * What a failed change condition means: a raise named an unrecorded manifest
     * ({@link MissingManifestException}); a lower, a broken index.
     */
    private static void failIfAChangeFailed(Set<String> failed, String repo, List<ManifestReferences.Change> changes) {
        for (ManifestReferences.Change c : changes) {
            if (failed.contains(c.name())) {
                if (c.raises()) {
                    throw new MissingManifestException(repo, c.manifest());
                }
                throw new StoreException(c.name() + ": not recorded in " + repo, null, false);
            }
        }
    }

    private static String danglingSortKey(long since, String repo, Digest digest) {
        return pad(since) + "#" + repo + "#" + digest;
    }

    // ---- paging ----

    /** A token holding DynamoDB's last evaluated key, its attributes in name order. */
    private static String encodeToken(String listing, Map<String, AttributeValue> lastKey) {
        List<String> parts = new ArrayList<>();
        new TreeMap<>(lastKey).forEach((k, v) -> {
            parts.add(k);
            parts.add(v.s());
        });
        return PageToken.encode(listing, parts);
    }

    /** The start key a token holds; it must name the partition being queried ({@code partitionAttr} = {@code partition}). */
    private static Map<String, AttributeValue> decodeToken(String listing, String token, String partitionAttr,
                                                           String partition) {
        if (token == null) {
            return null;
        }
        List<String> parts = PageToken.decode(listing, token, -1);
        if (parts.isEmpty() || parts.size() % 2 != 0) {
            throw new InvalidPageTokenException(token);
        }
        Map<String, AttributeValue> key = new HashMap<>();
        for (int i = 0; i < parts.size(); i += 2) {
            key.put(parts.get(i), s(parts.get(i + 1)));
        }
        AttributeValue p = key.get(partitionAttr);
        if (p == null || !partition.equals(p.s()) || !key.containsKey("pk") || !key.containsKey("sk")) {
            throw new InvalidPageTokenException(token);
        }
        return key;
    }

    /**
     * Runs one page of a query of the partition {@code partitionAttr} = {@code partition}.
     * Rows mapped to null are skipped (the page may come out short, even empty, with more to follow).
     */
    private <T> Page<T> query(String listing, QueryRequest.Builder q, String partitionAttr, String partition,
                              int limit, String pageToken, Function<Map<String, AttributeValue>, T> row) {
        q.tableName(table).limit(Page.checkLimit(limit))
                .exclusiveStartKey(decodeToken(listing, pageToken, partitionAttr, partition));
        QueryResponse r;
        try {
            r = dynamo.query(q.build());
        } catch (SdkException e) {
            throw translate("query " + listing, e);
        }
        List<T> items = new ArrayList<>();
        for (Map<String, AttributeValue> item : r.items()) {
            T t = row.apply(item);
            if (t != null) {
                items.add(t);
            }
        }
        return new Page<>(items, r.hasLastEvaluatedKey() && !r.lastEvaluatedKey().isEmpty()
                ? encodeToken(listing, r.lastEvaluatedKey()) : null);
    }

    private <T> Page<T> queryPrefix(String listing, String pk, String skPrefix, int limit, String pageToken,
                                    Function<Map<String, AttributeValue>, T> row) {
        return query(listing, beginsWith(pk, skPrefix), "pk", pk, limit, pageToken, row);
    }

    private QueryRequest.Builder beginsWith(String pk, String skPrefix) {
        return QueryRequest.builder().consistentRead(true)
                .keyConditionExpression("pk = :pk AND begins_with(sk, :prefix)")
                .expressionAttributeValues(Map.of(":pk", s(pk), ":prefix", s(skPrefix)));
    }

    // ---- manifests ----

    private static ManifestRecord manifest(Map<String, AttributeValue> item) {
        String repo = str(item, "pk").substring("REPO#".length());
        Digest digest = Digest.parse(str(item, "sk").substring("MANIFEST#".length()));
        return ManifestRecordJson.decode(repo, digest, str(item, "doc"), time(item, "lastPulled"),
                num(item, "pullCount", 0));
    }

    private static String blobPk(Digest d) {
        return "BLOB#" + d;
    }

    private static String refSk(String repo, Digest manifest) {
        return "REF#" + repo + "#" + manifest;
    }

    /** A manifest's blob reference item: {@code BLOB#<blob>} / {@code REF#<repo>#<manifest>}. */
    private TransactWriteItem putRef(Digest blob, String repo, Digest manifest) {
        return put(values("pk", blobPk(blob), "sk", refSk(repo, manifest), "repo", repo, "manifest",
                manifest.toString()), null, null);
    }

    private TransactWriteItem deleteRef(Digest blob, String repo, Digest manifest) {
        return TransactWriteItem.builder().delete(Delete.builder().tableName(table)
                .key(keyOf(blobPk(blob), refSk(repo, manifest))).build()).build();
    }

    @Override
    public boolean putManifest(ManifestRecord r) {
        String repo = r.repository();
        Optional<Map<String, AttributeValue>> existing = get(repoPk(repo), manifestSk(r.digest()));
        if (existing.isPresent() && recorded(existing.get())) {
            return false;
        }
        try {
            // The catalog entry first and on its own: every manifest write touching one hot item would conflict.
            dynamo.putItem(b -> b.tableName(table).item(values("pk", "REPOS", "sk", repo)));
        } catch (SdkException e) {
            throw translate("put repository " + repo, e);
        }
        if (existing.isPresent() || Steps.of(r).items() > MAX_MANIFEST_REFERENCES) {
            return putInSteps(r, existing.orElse(null));
        }
        long now = nowMicros();
        NamedTransaction tx = transaction("put manifest " + r.digest());
        tx.add("manifest", put(manifestItem(r, now), "attribute_not_exists(pk)", null));
        List<ManifestReferences.Change> changes = ManifestReferences.recorded(r);
        addChanges(tx, repo, changes, now);
        for (Digest b : r.referencedContent()) {
            tx.add("blob " + b, putRef(b, repo, r.digest()));
            tx.add("sweep " + b, sweepCheck(b));
        }
        Set<String> failed = run(tx);
        if (failed.contains("manifest")) {
            return false;
        }
        failIfAChangeFailed(failed, repo, changes);
        for (Digest b : r.referencedContent()) {
            if (failed.contains("sweep " + b)) {
                throw new SweptBlobException(b);
            }
        }
        return true;
    }

    /** A new manifest item: no references yet, dangling since {@code now}. */
    private static Map<String, AttributeValue> manifestItem(ManifestRecord r, long now) {
        Map<String, AttributeValue> item = values("pk", repoPk(r.repository()), "sk", manifestSk(r.digest()),
                "doc", ManifestRecordJson.encode(r), "pullCount", r.pullCount(), "refTags", 0, "refPins", 0,
                "refParents", 0, "gsi1pk", DANGLING, "gsi1sk", danglingSortKey(now, r.repository(), r.digest()),
                "blobRefs", SCHEMA_VERSION);
        if (r.lastPulled() != null) {
            item.put("lastPulled", n(Timestamps.toMicros(r.lastPulled())));
        }
        return item;
    }

    /** A blob listed now: not a sweep candidate; refused while a sweep takes it (a stub if unrecorded). */
    private TransactWriteItem sweepCheck(Digest b) {
        return TransactWriteItem.builder().update(Update.builder().tableName(table)
                .key(keyOf(blobPk(b), "BLOB")).updateExpression("REMOVE gsi1pk, gsi1sk")
                .conditionExpression("attribute_not_exists(#sweep)")
                .expressionAttributeNames(Map.of("#sweep", "sweep")).build()).build();
    }

    /** A blob whose reference goes: a sweep candidate now (one being swept keeps its SWEEPING key). */
    private TransactWriteItem markCandidate(Digest b, long now) {
        return TransactWriteItem.builder().update(Update.builder().tableName(table)
                .key(keyOf(blobPk(b), "BLOB"))
                .updateExpression("SET gsi1pk = if_not_exists(#sweep, :cand), gsi1sk = :since")
                .expressionAttributeNames(Map.of("#sweep", "sweep"))
                .expressionAttributeValues(Map.of(":cand", s(CANDIDATES), ":since", s(pad(now) + "#" + b)))
                .build()).build();
    }

    /** Whether a manifest item is a recorded manifest, not one being written or released in steps. */
    private static boolean recorded(Map<String, AttributeValue> item) {
        return !item.containsKey(WRITE_STATE);
    }

    /**
     * A manifest's references in the order a stepwise write adds them (and a release removes them,
     * backwards): each distinct blob (two transaction items: its reference and its record's sweep
     * check or candidate mark), then each mirrored child (one: its parent count).
     */
    private record Steps(List<Digest> blobs, List<Digest> children) {
        static Steps of(ManifestRecord r) {
            return new Steps(r.referencedContent(), r.mirroredChildDigests());
        }

        int total() {
            return blobs.size() + children.size();
        }

        /** Transaction items of all of them. */
        int items() {
            return 2 * blobs.size() + children.size();
        }

        boolean isBlob(int i) {
            return i < blobs.size();
        }

        Digest at(int i) {
            return isBlob(i) ? blobs.get(i) : children.get(i - blobs.size());
        }

        /** The end of the run from {@code from} that fits in {@code room} items. */
        int forward(int from, int room) {
            int to = from;
            for (int used = 0; to < total() && used + (isBlob(to) ? 2 : 1) <= room; to++) {
                used += isBlob(to) ? 2 : 1;
            }
            return to;
        }

        /** The start of the run ending at {@code to} that fits in {@code room} items. */
        int backward(int to, int room) {
            int from = to;
            for (int used = 0; from > 0 && used + (isBlob(from - 1) ? 2 : 1) <= room; from--) {
                used += isBlob(from - 1) ? 2 : 1;
            }
            return from;
        }
    }

    /**
     * Writes a manifest whose references do not fit one transaction, in steps that keep invariant 4
     * and leave, if the writer dies anywhere, only references that keep blobs and children longer:
     * <ol>
     *   <li>the manifest item, {@code writeState = PENDING}, {@code refsDone = 0}, dangling since now.
     *       It is no recorded manifest: no read returns it, no tag, pin or index can refer to it;</li>
     *   <li>its references in transactions of up to 99 items, each with a fence on the item
     *       ({@code PENDING AND refsDone = k}, advancing {@code refsDone}): a blob's reference item
     *       with its record's sweep check (refused once a sweep began: from then on the sweeper's one
     *       reference check is final, as for a one-transaction write), then each mirrored child's
     *       parent count;</li>
     *   <li>one update that makes it recorded, conditional on {@code PENDING AND refsDone = all}.</li>
     * </ol>
     * Writers of one manifest cooperate: each follows the item's own record and {@code refsDone}, so
     * whoever writes a step first advances it and the others go on from there. A crashed writer's
     * item is finished by the next writer, or released by a sweep once it is dangling past the grace
     * period ({@link #deleteManifestIfDangling}), which removes exactly the references written. A
     * writer meeting a release turns it back into a write from where it stands.
     */
    private boolean putInSteps(ManifestRecord own, Map<String, AttributeValue> found) {
        String repo = own.repository();
        Map<String, AttributeValue> key = keyOf(repoPk(repo), manifestSk(own.digest()));
        Map<String, AttributeValue> item = found;
        for (int attempt = 0; attempt < STEP_WRITE_ATTEMPTS; attempt++) {
            if (attempt > 0) {
                item = get(repoPk(repo), manifestSk(own.digest())).orElse(null);
            }
            if (item == null) {
                Map<String, AttributeValue> fresh = manifestItem(own, nowMicros());
                fresh.put(WRITE_STATE, s(PENDING));
                fresh.put("refsDone", n(0));
                fresh.put("stepAt", n(nowMicros()));
                try {
                    dynamo.putItem(b -> b.tableName(table).item(fresh).conditionExpression("attribute_not_exists(pk)"));
                } catch (ConditionalCheckFailedException e) {
                    continue; // another writer created it: follow that one
                } catch (SdkException e) {
                    throw translate("put pending manifest " + own.digest(), e);
                }
                item = fresh;
            } else if (recorded(item)) {
                return false;
            } else if (RELEASING.equals(str(item, WRITE_STATE))) {
                // Being released (or a sweep's leftover): the first refsDone references are in place
                // either way, so writing goes on forward from there; the release's next step fails.
                // (Writers need no DeleteItem: only the Sweeper may delete.)
                if (!updateManifestItem(key, "SET #ws = :pending, stepAt = :now", "#ws = :releasing AND #done = :done",
                        Map.of(":pending", s(PENDING), ":releasing", s(RELEASING), ":done", item.get("refsDone"),
                                ":now", n(nowMicros())))) {
                    continue;
                }
            }
            if (writeSteps(repo, own.digest(), key, item)) {
                return true;
            }
        }
        throw new StoreException("manifest " + own.digest() + " in " + repo + ": its stepwise write kept being "
                + "taken over (by concurrent writers or sweeps); try again", null, true);
    }

    /** Steps 2 and 3 of {@link #putInSteps} on a PENDING item; {@code false} when a fence failed (read again). */
    private boolean writeSteps(String repo, Digest digest, Map<String, AttributeValue> key,
                               Map<String, AttributeValue> item) {
        Steps steps = Steps.of(manifest(item));
        int done = (int) num(item, "refsDone", 0);
        while (done < steps.total()) {
            int next = steps.forward(done, NamedTransaction.MAX_ITEMS - 1);
            NamedTransaction tx = transaction("write references " + done + "-" + next + " of manifest " + digest);
            tx.add("fence", TransactWriteItem.builder().update(Update.builder().tableName(table).key(key)
                    .updateExpression("SET #done = :next, stepAt = :now")
                    .conditionExpression("#ws = :pending AND #done = :done")
                    .expressionAttributeNames(Map.of("#ws", WRITE_STATE, "#done", "refsDone"))
                    .expressionAttributeValues(Map.of(":next", n(next), ":pending", s(PENDING), ":done", n(done),
                            ":now", n(nowMicros())))
                    .build()).build());
            List<ManifestReferences.Change> changes = new ArrayList<>();
            for (int i = done; i < next; i++) {
                Digest d = steps.at(i);
                if (steps.isBlob(i)) {
                    tx.add("blob " + d, putRef(d, repo, digest));
                    tx.add("sweep " + d, sweepCheck(d));
                } else {
                    changes.add(new ManifestReferences.Change(d, ManifestReferences.Kind.PARENT, 1));
                }
            }
            addChanges(tx, repo, changes, nowMicros());
            Set<String> failed = run(tx);
            if (failed.contains("fence")) {
                return false; // another writer did this step, or a sweep releases the item
            }
            failIfAChangeFailed(failed, repo, changes);
            for (int i = done; i < next; i++) {
                if (failed.contains("sweep " + steps.at(i))) {
                    throw new SweptBlobException(steps.at(i));
                }
            }
            done = next;
        }
        long now = nowMicros();
        try {
            dynamo.updateItem(b -> b.tableName(table).key(key)
                    .updateExpression("SET gsi1sk = :since REMOVE #ws, #done, stepAt")
                    .conditionExpression("#ws = :pending AND #done = :all")
                    .expressionAttributeNames(Map.of("#ws", WRITE_STATE, "#done", "refsDone"))
                    .expressionAttributeValues(Map.of(":since", s(danglingSortKey(now, repo, digest)),
                            ":pending", s(PENDING), ":all", n(steps.total()))));
            return true;
        } catch (ConditionalCheckFailedException e) {
            return false; // recorded by a cooperating writer (then the next read says so), or being released
        } catch (SdkException e) {
            throw translate("record manifest " + digest, e);
        }
    }

    /**
     * Removes, in steps from the last written backwards, the references of a RELEASING item (its
     * blob references, marking each blob a sweep candidate; its children's parent counts), each step
     * fenced on {@code RELEASING AND refsDone = k}, then deletes the item. Cooperating helpers follow
     * the item's count, so a crash anywhere leaves a RELEASING item the next sweep (or writer) finishes.
     *
     * @return whether this call deleted the item
     */
    private boolean release(String repo, Digest digest, Map<String, AttributeValue> item) {
        Map<String, AttributeValue> key = keyOf(repoPk(repo), manifestSk(digest));
        Steps steps = Steps.of(manifest(item));
        int done = (int) num(item, "refsDone", 0);
        while (true) {
            if (done == 0) {
                try {
                    dynamo.deleteItem(b -> b.tableName(table).key(key)
                            .conditionExpression("#ws = :releasing AND #done = :zero")
                            .expressionAttributeNames(Map.of("#ws", WRITE_STATE, "#done", "refsDone"))
                            .expressionAttributeValues(Map.of(":releasing", s(RELEASING), ":zero", n(0))));
                    return true;
                } catch (ConditionalCheckFailedException e) {
                    return false; // a cooperating helper deleted it (a new write starts PENDING at 0)
                } catch (SdkException e) {
                    throw translate("delete released manifest " + digest, e);
                }
            }
            int from = steps.backward(done, NamedTransaction.MAX_ITEMS - 1);
            long now = nowMicros();
            NamedTransaction tx = transaction("release references " + from + "-" + done + " of manifest " + digest);
            tx.add("fence", TransactWriteItem.builder().update(Update.builder().tableName(table).key(key)
                    .updateExpression("SET #done = :from").conditionExpression("#ws = :releasing AND #done = :done")
                    .expressionAttributeNames(Map.of("#ws", WRITE_STATE, "#done", "refsDone"))
                    .expressionAttributeValues(Map.of(":from", n(from), ":releasing", s(RELEASING),
                            ":done", n(done))).build()).build());
            List<ManifestReferences.Change> changes = new ArrayList<>();
            for (int i = from; i < done; i++) {
                Digest d = steps.at(i);
                if (steps.isBlob(i)) {
                    tx.add("blob " + d, deleteRef(d, repo, digest));
                    tx.add("mark " + d, markCandidate(d, now));
                } else {
                    changes.add(new ManifestReferences.Change(d, ManifestReferences.Kind.PARENT, -1));
                }
            }
            addChanges(tx, repo, changes, now);
            Set<String> failed = run(tx);
            if (failed.contains("fence")) {
                Optional<Map<String, AttributeValue>> now2 = get(repoPk(repo), manifestSk(digest));
                if (now2.isEmpty() || !RELEASING.equals(str(now2.get(), WRITE_STATE))) {
                    return false; // finished by a helper
                }
                done = (int) num(now2.get(), "refsDone", 0);
                continue;
            }
            failIfAChangeFailed(failed, repo, changes);
            done = from;
        }
    }

    @Override
    public Optional<ManifestRecord> getManifest(String repository, Digest digest) {
        return get(repoPk(repository), manifestSk(digest)).filter(DynamoIndex::recorded).map(DynamoIndex::manifest);
    }

    @Override
    public boolean markChildMirrored(String repository, Digest index, Digest child) {
        for (int attempt = 0; attempt < MARK_ATTEMPTS; attempt++) {
            Optional<Map<String, AttributeValue>> item = get(repoPk(repository), manifestSk(index))
                    .filter(DynamoIndex::recorded);
            if (item.isEmpty()) {
                return false;
            }
            ManifestRecord r = manifest(item.get());
            if (!r.listsUnmirrored(child)) {
                return false;
            }
            // The index's doc compare-and-set with the child's raise: another mark of the same index
            // in between makes this one read again.
            NamedTransaction tx = transaction("mark child " + child + " of " + index);
            // Recorded still: a release in steps follows the doc it began with.
            tx.add("index", TransactWriteItem.builder().update(Update.builder().tableName(table)
                    .key(keyOf(repoPk(repository), manifestSk(index))).updateExpression("SET doc = :new")
                    .conditionExpression("doc = :old AND attribute_not_exists(#ws)")
                    .expressionAttributeNames(Map.of("#ws", WRITE_STATE))
                    .expressionAttributeValues(Map.of(":new", s(ManifestRecordJson.encode(r.withChildMirrored(child))),
                            ":old", s(str(item.get(), "doc")))).build()).build());
            List<ManifestReferences.Change> changes = ManifestReferences.childMarked(child);
            addChanges(tx, repository, changes, nowMicros());
            Set<String> failed = run(tx);
            failIfAChangeFailed(failed, repository, changes);
            if (failed.isEmpty()) {
                return true;
            }
        }
        throw new StoreException("index " + index + " in " + repository + " kept changing while marking " + child,
                null, true);
    }

    @Override
    public Page<ManifestRecord> listManifests(String repository, int limit, String pageToken) {
        return queryPrefix("manifests", repoPk(repository), "MANIFEST#", limit, pageToken,
                item -> recorded(item) ? manifest(item) : null);
    }

    @Override
    public boolean recordPull(String repository, Digest digest) {
        try {
            dynamo.updateItem(b -> b.tableName(table).key(keyOf(repoPk(repository), manifestSk(digest)))
                    .updateExpression("SET lastPulled = :now ADD pullCount :one")
                    .conditionExpression("attribute_exists(pk) AND attribute_not_exists(#ws)")
                    .expressionAttributeNames(Map.of("#ws", WRITE_STATE))
                    .expressionAttributeValues(Map.of(":now", n(nowMicros()), ":one", n(1))));
            return true;
        } catch (ConditionalCheckFailedException e) {
            return false;
        } catch (SdkException e) {
            throw translate("record pull of " + digest, e);
        }
    }

    private static boolean unreferenced(Map<String, AttributeValue> item) {
        return new ManifestReferences.Counts(num(item, "refTags", 0), num(item, "refPins", 0),
                num(item, "refParents", 0)).dangling();
    }

    @Override
    public Page<ManifestRecord> listDangling(Instant danglingBefore, int limit, String pageToken) {
        QueryRequest.Builder q = QueryRequest.builder().indexName(GSI)
                .keyConditionExpression("gsi1pk = :d AND gsi1sk < :cutoff")
                .expressionAttributeValues(Map.of(":d", s(DANGLING),
                        ":cutoff", s(pad(Timestamps.toMicros(danglingBefore)))));
        // Candidates that are referenced again are skipped (and cost a read each until their next count change).
        // Items of stepwise writes that were abandoned (or releases that were cut short) are listed too:
        // the sweep's delete releases them.
        return query("dangling", q, "gsi1pk", DANGLING, limit, pageToken,
                item -> unreferenced(item) ? manifest(item) : null);
    }

    @Override
    public Page<ManifestRecord> listDanglingIn(String repository, int limit, String pageToken) {
        // The repository's manifests, keeping the unreferenced: a query of one partition, no scan.
        return queryPrefix("dangling-in", repoPk(repository), "MANIFEST#", limit, pageToken,
                item -> recorded(item) && unreferenced(item) ? manifest(item) : null);
    }

    @Override
    public boolean deleteManifestIfDangling(String repository, Digest digest, Instant danglingBefore) {
        Optional<Map<String, AttributeValue>> found = get(repoPk(repository), manifestSk(digest));
        if (found.isEmpty()) {
            return false;
        }
        Map<String, AttributeValue> key = keyOf(repoPk(repository), manifestSk(digest));
        AttributeValue cutoff = s(pad(Timestamps.toMicros(danglingBefore)));
        if (!recorded(found.get())) {
            if (PENDING.equals(str(found.get(), WRITE_STATE))) {
                // A stepwise write dangling past the cutoff whose writer made no step for long: released.
                if (!updateManifestItem(key, "SET #ws = :releasing", "#ws = :pending AND gsi1sk < :cutoff "
                        + "AND stepAt < :abandoned", Map.of(":releasing", s(RELEASING), ":pending", s(PENDING),
                        ":cutoff", cutoff, ":abandoned", n(Timestamps.toMicros(clock.instant().minus(ABANDONED_AFTER)))))) {
                    return false;
                }
            }
            return releaseFromStore(repository, digest);
        }
        ManifestRecord m = manifest(found.get());
        Steps steps = Steps.of(m);
        if (steps.items() > MAX_MANIFEST_REFERENCES) {
            // Too large for one transaction: it stops being recorded now (under the same condition as
            // below), then its references go in steps.
            if (!updateManifestItem(key, "SET #ws = :releasing, #done = :all", "attribute_not_exists(#ws) AND "
                    + "refTags = :zero AND refPins = :zero AND refParents = :zero AND gsi1pk = :d AND gsi1sk < :cutoff "
                    + "AND doc = :doc", Map.of(":releasing", s(RELEASING), ":all", n(steps.total()), ":zero", n(0),
                            ":d", s(DANGLING), ":cutoff", cutoff, ":doc", found.get().get("doc")))) {
                return false;
            }
            releaseFromStore(repository, digest);
            return true;
        }
        long now = nowMicros();
        NamedTransaction tx = transaction("delete manifest " + digest);
        tx.add("manifest", TransactWriteItem.builder().delete(Delete.builder().tableName(table)
                .key(key)
                .conditionExpression("refTags = :zero AND refPins = :zero AND refParents = :zero "
                        + "AND gsi1pk = :d AND gsi1sk < :cutoff AND attribute_not_exists(#ws) AND doc = :doc")
                .expressionAttributeNames(Map.of("#ws", WRITE_STATE))
                // the record read: a child marked mirrored since (markChildMirrored) must be lowered too
                .expressionAttributeValues(Map.of(":zero", n(0), ":d", s(DANGLING), ":cutoff", cutoff,
                        ":doc", found.get().get("doc"))).build())
                .build());
        List<ManifestReferences.Change> changes = ManifestReferences.deleted(m);
        addChanges(tx, repository, changes, now);
        for (Digest b : m.referencedContent()) {
            tx.add("blob " + b, deleteRef(b, repository, digest));
            tx.add("mark " + b, markCandidate(b, now));
        }
        Set<String> failed = run(tx);
        if (failed.contains("manifest")) {
            return false;
        }
        failIfAChangeFailed(failed, repository, changes);
        return true;
    }

    /** Releases the item as it is now, if it is RELEASING; whether this call deleted it. */
    private boolean releaseFromStore(String repository, Digest digest) {
        Optional<Map<String, AttributeValue>> item = get(repoPk(repository), manifestSk(digest));
        return item.isPresent() && RELEASING.equals(str(item.get(), WRITE_STATE))
                && release(repository, digest, item.get());
    }

    /** One conditional update of a manifest item (names {@code #ws}, {@code #done}); {@code false} when its condition failed. */
    private boolean updateManifestItem(Map<String, AttributeValue> key, String update, String condition,
                                       Map<String, AttributeValue> vals) {
        Map<String, String> names = new HashMap<>();
        for (Map.Entry<String, String> e : STEP_NAMES.entrySet()) {
            if (update.contains(e.getKey()) || condition.contains(e.getKey())) {
                names.put(e.getKey(), e.getValue());
            }
        }
        try {
            dynamo.updateItem(b -> b.tableName(table).key(key).updateExpression(update).conditionExpression(condition)
                    .expressionAttributeNames(names).expressionAttributeValues(vals));
            return true;
        } catch (ConditionalCheckFailedException e) {
            return false;
        } catch (SdkException e) {
            throw translate("update manifest item " + key.get("sk").s(), e);
        }
    }

    @Override
    public Optional<ManifestReferences.Counts> referenceCounts(String repository, Digest digest) {
        return get(repoPk(repository), manifestSk(digest)).filter(DynamoIndex::recorded)
                .map(item -> new ManifestReferences.Counts(
                num(item, "refTags", 0), num(item, "refPins", 0), num(item, "refParents", 0)));
    }

    @Override
    public Page<String> listRepositories(int limit, String pageToken) {
        QueryRequest.Builder q = QueryRequest.builder().consistentRead(true).keyConditionExpression("pk = :pk")
                .expressionAttributeValues(Map.of(":pk", s("REPOS")));
        return query("repositories", q, "pk", "REPOS", limit, pageToken, item -> str(item, "sk"));
    }

    // ---- tags ----

    private static String tagSk(String tag) {
        return "TAG#" + tag;
    }

    private static TagRecord tagRecord(String repo, Map<String, AttributeValue> item) {
        Digest d = digestOf(item, "digest");
        // Items written before pulls were noted have no lastPulled: never pulled since.
        return d == null ? null : new TagRecord(repo, str(item, "sk").substring(4), d, time(item, "updatedAt"),
                time(item, "lastPulled"));
    }

    @Override
    public Optional<TagRecord> getTag(String repository, String tag) {
        return get(repoPk(repository), tagSk(tag)).map(item -> tagRecord(repository, item));
    }

    @Override
    public Page<TagRecord> listTags(String repository, int limit, String pageToken) {
        // Deleted tags stay as items without a digest (they keep the history's sequence) and are skipped.
        return queryPrefix("tags", repoPk(repository), "TAG#", limit, pageToken, item -> tagRecord(repository, item));
    }

    @Override
    public boolean recordTagPull(String repository, String tag) {
        // One small conditional update; callers write it at most once per TagIndex.PULL_NOTE_INTERVAL.
        try {
            dynamo.updateItem(b -> b.tableName(table).key(keyOf(repoPk(repository), tagSk(tag)))
                    .updateExpression("SET lastPulled = :now")
                    .conditionExpression("attribute_exists(digest)")
                    .expressionAttributeValues(Map.of(":now", n(nowMicros()))));
            return true;
        } catch (ConditionalCheckFailedException e) {
            return false;
        } catch (SdkException e) {
            throw translate("record pull of tag " + tag, e);
        }
    }

    private TransactWriteItem historyPut(String repo, String tag, long seq, Digest old, Digest neu, long now,
                                         String cause) {
        Map<String, AttributeValue> item = values("pk", repoPk(repo), "sk", "TAGLOG#" + tag + "#"
                + String.format("%012d", seq), "time", now, "cause", cause);
        if (old != null) {
            item.put("old", s(old.toString()));
        }
        if (neu != null) {
            item.put("new", s(neu.toString()));
        }
        return put(item, "attribute_not_exists(pk)", null);
    }

    @Override
    public boolean replaceTag(String repository, String tag, Digest current, Digest next, String cause) {
        Optional<Map<String, AttributeValue>> item = get(repoPk(repository), tagSk(tag));
        Digest now = item.map(i -> digestOf(i, "digest")).orElse(null);
        if (!Objects.equals(now, current)) {
            return false;
        }
        // A deleted tag stays as an item without a digest, so its sequence (the history's order) goes on.
        long seq = item.map(i -> num(i, "seq", 0)).orElse(0L);
        long time = nowMicros();
        Map<String, AttributeValue> tagItem = values("pk", repoPk(repository), "sk", tagSk(tag), "updatedAt", time,
                "seq", seq + 1);
        if (next != null) {
            tagItem.put("digest", s(next.toString()));
            item.map(i -> i.get("lastPulled")).ifPresent(p -> tagItem.put("lastPulled", p)); // a move keeps it
        }
        NamedTransaction tx = transaction((next == null ? "delete" : "set") + " tag " + tag);
        tx.add("tag", put(tagItem, item.isPresent() ? "seq = :seq" : "attribute_not_exists(pk)",
                item.isPresent() ? Map.of(":seq", n(seq)) : null));
        tx.add("history", historyPut(repository, tag, seq + 1, current, next, time, cause));
        List<ManifestReferences.Change> changes = ManifestReferences.tagMove(current, next);
        addChanges(tx, repository, changes, time);
        Set<String> failed = run(tx);
        if (failed.contains("tag") || failed.contains("history")) {
            return false; // moved since we read it
        }
        failIfAChangeFailed(failed, repository, changes);
        return true;
    }

    @Override
    public Page<TagEvent> tagHistory(String repository, String tag, int limit, String pageToken) {
        QueryRequest.Builder q = beginsWith(repoPk(repository), "TAGLOG#" + tag + "#").scanIndexForward(false);
        return query("history", q, "pk", repoPk(repository), limit, pageToken, item -> new TagEvent(repository, tag,
                digestOf(item, "old"),
                digestOf(item, "new"), time(item, "time"), str(item, "cause")));
    }

    // ---- pins ----

    @Override
    public boolean addPin(String repository, Digest digest) {
        long now = nowMicros();
        NamedTransaction tx = transaction("pin " + digest)
                .add("pin", put(values("pk", repoPk(repository), "sk", "PIN#" + digest, "time", now),
                        "attribute_not_exists(pk)", null));
        List<ManifestReferences.Change> changes = ManifestReferences.pinAdded(digest);
        addChanges(tx, repository, changes, now);
        Set<String> failed = run(tx);
        failIfAChangeFailed(failed, repository, changes);
        return failed.isEmpty(); // only "pin" failed: it was pinned already
    }

    @Override
    public boolean removePin(String repository, Digest digest) {
        NamedTransaction tx = transaction("unpin " + digest)
                .add("pin", TransactWriteItem.builder().delete(Delete.builder().tableName(table)
                        .key(keyOf(repoPk(repository), "PIN#" + digest))
                        .conditionExpression("attribute_exists(pk)").build()).build());
        List<ManifestReferences.Change> changes = ManifestReferences.pinRemoved(digest);
        addChanges(tx, repository, changes, nowMicros());
        Set<String> failed = run(tx);
        if (failed.contains("pin")) {
            return false; // no such pin, whether or not the manifest is recorded
        }
        failIfAChangeFailed(failed, repository, changes);
        return true;
    }

    @Override
    public Page<Pin> listPins(String repository, int limit, String pageToken) {
        return queryPrefix("pins", repoPk(repository), "PIN#", limit, pageToken, item -> new Pin(repository,
                Digest.parse(str(item, "sk").substring(4)), time(item, "time")));
    }

    // ---- blob records ----

    /** One conditional update of a blob record; {@code false} when its condition failed. */
    private boolean updateBlob(String what, Digest digest, String update, String condition,
                               Map<String, AttributeValue> vals) {
        try {
            dynamo.updateItem(b -> {
                Map<String, String> names = new HashMap<>();
                for (String name : List.of("sweep", "size", "ttl")) {
                    if (update.contains("#" + name) || condition.contains("#" + name)) {
                        names.put("#" + name, name);
                    }
                }
                b.tableName(table).key(keyOf(blobPk(digest), "BLOB")).updateExpression(update)
                        .conditionExpression(condition);
                if (!names.isEmpty()) {
                    b.expressionAttributeNames(names);
                }
                if (!vals.isEmpty()) {
                    b.expressionAttributeValues(vals);
                }
            });
            return true;
        } catch (ConditionalCheckFailedException e) {
            return false;
        } catch (SdkException e) {
            throw translate(what + " " + digest, e);
        }
    }

    /** A live record: recorded (not a stub left by a reference write), not being swept, not a tombstone. */
    private static boolean live(Map<String, AttributeValue> item) {
        return item.containsKey("lastTouched") && !item.containsKey("sweep");
    }

    @Override
    public boolean createBlobRecord(Digest digest, long size) {
        long now = nowMicros();
        // Always a candidate: recording a manifest that lists it (the usual next step) drops the mark.
        return updateBlob("create blob record", digest,
                "SET #size = :size, lastTouched = :now, gsi1pk = :cand, gsi1sk = :since REMOVE #sweep, #ttl",
                "attribute_not_exists(lastTouched) OR #sweep = :swept",
                Map.of(":size", n(size), ":now", n(now), ":cand", s(CANDIDATES), ":since", s(pad(now) + "#" + digest),
                        ":swept", s(SWEPT)));
    }

    @Override
    public Optional<BlobRecord> getBlobRecord(Digest digest) {
        return get(blobPk(digest), "BLOB").filter(DynamoIndex::live).map(item -> new BlobRecord(digest,
                num(item, "size", 0), time(item, "lastTouched")));
    }

    @Override
    public boolean touchBlob(Digest digest) {
        return updateBlob("touch blob", digest, "SET lastTouched = :now",
                "attribute_exists(lastTouched) AND attribute_not_exists(#sweep)", Map.of(":now", n(nowMicros())));
    }

    private static BlobCandidate candidate(Map<String, AttributeValue> item, String sinceAttr) {
        Digest d = Digest.parse(str(item, "pk").substring("BLOB#".length()));
        return new BlobCandidate(d, num(item, "size", 0), time(item, sinceAttr));
    }

    @Override
    public Page<BlobCandidate> listBlobCandidates(Instant before, int limit, String pageToken) {
        QueryRequest.Builder q = QueryRequest.builder().indexName(GSI)
                .keyConditionExpression("gsi1pk = :c AND gsi1sk < :cutoff")
                .expressionAttributeValues(Map.of(":c", s(CANDIDATES), ":cutoff", s(pad(Timestamps.toMicros(before)))));
        return query("candidates", q, "gsi1pk", CANDIDATES, limit, pageToken, item -> {
            String sk = str(item, "gsi1sk");
            Digest d = Digest.parse(str(item, "pk").substring("BLOB#".length()));
            return new BlobCandidate(d, num(item, "size", 0),
                    Timestamps.fromMicros(Long.parseLong(sk.substring(0, sk.indexOf('#')))));
        });
    }

    @Override
    public boolean dropBlobCandidate(Digest digest, Instant since) {
        return updateBlob("drop blob candidate", digest, "REMOVE gsi1pk, gsi1sk",
                "gsi1pk = :c AND gsi1sk = :sk",
                Map.of(":c", s(CANDIDATES), ":sk", s(pad(Timestamps.toMicros(since)) + "#" + digest)));
    }

    @Override
    public boolean beginBlobSweep(Digest digest, Instant cutoff) {
        return updateBlob("begin sweep of blob", digest,
                "SET #sweep = :sweeping, sweptAt = :now, gsi1pk = :sweeping, gsi1sk = :digest",
                "attribute_exists(lastTouched) AND attribute_not_exists(#sweep) AND lastTouched < :cutoff",
                Map.of(":sweeping", s(SWEEPING), ":now", n(nowMicros()), ":digest", s(digest.toString()),
                        ":cutoff", n(Timestamps.toMicros(cutoff))));
    }

    @Override
    public boolean cancelBlobSweep(Digest digest) {
        return updateBlob("cancel sweep of blob", digest, "SET lastTouched = :now REMOVE #sweep, sweptAt, gsi1pk, gsi1sk",
                "#sweep = :sweeping", Map.of(":now", n(nowMicros()), ":sweeping", s(SWEEPING)));
    }

    @Override
    public Page<BlobCandidate> listBlobSweeps(int limit, String pageToken) {
        QueryRequest.Builder q = QueryRequest.builder().indexName(GSI).keyConditionExpression("gsi1pk = :s")
                .expressionAttributeValues(Map.of(":s", s(SWEEPING)));
        return query("sweeps", q, "gsi1pk", SWEEPING, limit, pageToken,
                item -> SWEEPING.equals(str(item, "sweep")) ? candidate(item, "sweptAt") : null);
    }

    @Override
    public boolean finishBlobSweep(Digest digest) {
        long expires = clock.instant().plus(TOMBSTONE_TTL).getEpochSecond();
        return updateBlob("finish sweep of blob", digest, "SET #sweep = :swept, #ttl = :ttl REMOVE gsi1pk, gsi1sk",
                "#sweep = :sweeping", Map.of(":swept", s(SWEPT), ":ttl", n(expires), ":sweeping", s(SWEEPING)));
    }

    @Override
    public Page<BlobReference> referencingManifests(Digest blob, int limit, String pageToken) {
        requireCompleteReferences();
        return queryPrefix("refs", blobPk(blob), "REF#", limit, pageToken, item -> new BlobReference(blob,
                str(item, "repo"), Digest.parse(str(item, "manifest"))));
    }

    @Override
    public boolean isReferencedIn(Digest blob, String repository) {
        requireCompleteReferences();
        return anyWithPrefix(blobPk(blob), "REF#" + repository + "#");
    }

    @Override
    public boolean isReferenced(Digest blob) {
        requireCompleteReferences();
        return anyWithPrefix(blobPk(blob), "REF#");
    }

    /** One strongly consistent query for one key: whether any item of {@code pk} has a sort key starting with {@code prefix}. */
    private boolean anyWithPrefix(String pk, String prefix) {
        try {
            return dynamo.query(beginsWith(pk, prefix).tableName(table).limit(1).build()).count() > 0;
        } catch (SdkException e) {
            throw translate("query " + pk, e);
        }
    }

    // ---- jobs ----

    private static Map<String, AttributeValue> jobItem(Job j) {
        Map<String, AttributeValue> item = values("pk", "JOB#" + j.id(), "sk", "JOB", "id", j.id(), "kind", j.kind(),
                "status", j.status().name(), "request", j.request(), "progressDone", j.progressDone(),
                "progressTotal", j.progressTotal(), "created", Timestamps.toMicros(j.created()),
                "updated", Timestamps.toMicros(j.updated()), "expiresAt", Timestamps.toMicros(j.expiresAt()),
                // DynamoDB's TTL sweep reads epoch seconds; rounded up so it never removes a job early
                "ttl", j.expiresAt().getEpochSecond() + 1,
                "gsi1pk", JOBS, "gsi1sk", pad(Timestamps.toMicros(j.created())) + "#" + j.id());
        if (j.result() != null) {
            item.put("result", s(j.result()));
        }
        if (j.error() != null) {
            item.put("error", s(j.error()));
        }
        return item;
    }

    private static Job job(Map<String, AttributeValue> item) {
        return new Job(str(item, "id"), str(item, "kind"), JobStatus.valueOf(str(item, "status")), str(item, "request"),
                num(item, "progressDone", 0), num(item, "progressTotal", 0), str(item, "result"), str(item, "error"),
                time(item, "created"), time(item, "updated"), time(item, "expiresAt"));
    }

    @Override
    public boolean createJob(Job job) {
        try {
            dynamo.putItem(b -> b.tableName(table).item(jobItem(job))
                    .conditionExpression("attribute_not_exists(pk) OR expiresAt <= :now")
                    .expressionAttributeValues(Map.of(":now", n(nowMicros()))));
            return true;
        } catch (ConditionalCheckFailedException e) {
            return false;
        } catch (SdkException e) {
            throw translate("create job " + job.id(), e);
        }
    }

    @Override
    public Optional<Job> getJob(String id) {
        long now = nowMicros();
        return get("JOB#" + id, "JOB").filter(item -> num(item, "expiresAt", 0) > now).map(DynamoIndex::job);
    }

    @Override
    public boolean updateJob(Job job, JobStatus expectedStatus) {
        Map<String, AttributeValue> vals = new HashMap<>();
        vals.put(":now", n(nowMicros()));
        String condition = "attribute_exists(pk) AND expiresAt > :now";
        if (expectedStatus != null) {
            condition += " AND #status = :expected";
            vals.put(":expected", s(expectedStatus.name()));
        }
        String cond = condition;
        try {
            dynamo.putItem(b -> {
                b.tableName(table).item(jobItem(job)).conditionExpression(cond).expressionAttributeValues(vals);
                if (expectedStatus != null) {
                    b.expressionAttributeNames(Map.of("#status", "status"));
                }
            });
            return true;
        } catch (ConditionalCheckFailedException e) {
            return false;
        } catch (SdkException e) {
            throw translate("update job " + job.id(), e);
        }
    }

    @Override
    public Page<Job> listJobs(int limit, String pageToken) {
        QueryRequest.Builder q = QueryRequest.builder().indexName(GSI).scanIndexForward(false)
                .keyConditionExpression("gsi1pk = :jobs").filterExpression("expiresAt > :now")
                .expressionAttributeValues(Map.of(":jobs", s(JOBS), ":now", n(nowMicros())));
        return query("jobs", q, "gsi1pk", JOBS, limit, pageToken, DynamoIndex::job);
    }

    // ---- sync rules ----

    @Override
    public void putSyncRule(SyncRule rule) {
        try {
            dynamo.putItem(b -> b.tableName(table).item(values("pk", "RULES", "sk", rule.name(), "config",
                    rule.config(), "enabled", AttributeValue.fromBool(rule.enabled()))));
        } catch (SdkException e) {
            throw translate("put rule " + rule.name(), e);
        }
    }

    private static SyncRule rule(Map<String, AttributeValue> item) {
        AttributeValue enabled = item.get("enabled");
        return new SyncRule(str(item, "sk"), str(item, "config"), enabled != null && Boolean.TRUE.equals(enabled.bool()));
    }

    @Override
    public Optional<SyncRule> getSyncRule(String name) {
        return get("RULES", name).map(DynamoIndex::rule);
    }

    @Override
    public Page<SyncRule> listSyncRules(int limit, String pageToken) {
        QueryRequest.Builder q = QueryRequest.builder().consistentRead(true).keyConditionExpression("pk = :pk")
                .expressionAttributeValues(Map.of(":pk", s("RULES")));
        return query("rules", q, "pk", "RULES", limit, pageToken, DynamoIndex::rule);
    }

    @Override
    public boolean deleteSyncRule(String name) {
        try {
            Map<String, AttributeValue> old = dynamo.deleteItem(b -> b.tableName(table).key(keyOf("RULES", name))
                    .returnValues(ReturnValue.ALL_OLD)).attributes();
            return old != null && !old.isEmpty();
        } catch (SdkException e) {
            throw translate("delete rule " + name, e);
        }
    }

    @Override
    public Optional<RuleState> getRuleState(String name) {
        return get("RULE#" + name, "STATE").map(item -> new RuleState(name, time(item, "nextRunAt"),
                item.containsKey("claimedUntil") ? time(item, "claimedUntil") : null, str(item, "holder"),
                num(item, "version", 0)));
    }

    @Override
    public boolean replaceRuleState(RuleState next) {
        Map<String, AttributeValue> item = values("pk", "RULE#" + next.rule(), "sk", "STATE",
                "nextRunAt", Timestamps.toMicros(next.nextRunAt()), "version", next.version());
        if (next.claimedUntil() != null) {
            item.put("claimedUntil", n(Timestamps.toMicros(next.claimedUntil())));
            item.put("holder", s(next.holder()));
        }
        try {
            dynamo.putItem(b -> {
                b.tableName(table).item(item);
                if (next.version() == 1) {
                    b.conditionExpression("attribute_not_exists(pk)");
                } else {
                    b.conditionExpression("version = :expected")
                            .expressionAttributeValues(Map.of(":expected", n(next.version() - 1)));
                }
            });
            return true;
        } catch (ConditionalCheckFailedException e) {
            return false;
        } catch (SdkException e) {
            throw translate("replace state of rule " + next.rule(), e);
        }
    }

    @Override
    public void putSyncRun(SyncRunRecord run) {
        try {
            dynamo.putItem(b -> b.tableName(table).item(values("pk", "RULE#" + run.rule(), "sk", "RUN#" + run.id(),
                    "id", run.id(), "run", run.run(), "expiresAt", Timestamps.toMicros(run.expiresAt()),
                    // DynamoDB's TTL sweep reads epoch seconds; rounded up so it never removes a run early
                    "ttl", run.expiresAt().getEpochSecond() + 1)));
        } catch (SdkException e) {
            throw translate("put run " + run.id() + " of rule " + run.rule(), e);
        }
    }

    @Override
    public Page<SyncRunRecord> listSyncRuns(String rule, int limit, String pageToken) {
        QueryRequest.Builder q = beginsWith("RULE#" + rule, "RUN#").scanIndexForward(false)
                .filterExpression("expiresAt > :now");
        q.expressionAttributeValues(Map.of(":pk", s("RULE#" + rule), ":prefix", s("RUN#"), ":now", n(nowMicros())));
        return query("runs", q, "pk", "RULE#" + rule, limit, pageToken,
                item -> new SyncRunRecord(rule, str(item, "id"), str(item, "run"), time(item, "expiresAt")));
    }

    @Override
    public boolean deleteSyncRun(String rule, String id) {
        try {
            Map<String, AttributeValue> old = dynamo.deleteItem(b -> b.tableName(table)
                    .key(keyOf("RULE#" + rule, "RUN#" + id)).returnValues(ReturnValue.ALL_OLD)).attributes();
            return old != null && !old.isEmpty();
        } catch (SdkException e) {
            throw translate("delete run " + id + " of rule " + rule, e);
        }
    }
}
