package io.imagemirror.aws.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.imagemirror.oci.Digest;
import io.imagemirror.store.BlobRecord;
import io.imagemirror.store.Job;
import io.imagemirror.store.JobStatus;
import io.imagemirror.store.ManifestRecord;
import io.imagemirror.store.ManifestRecordJson;
import io.imagemirror.store.MetadataStore;
import io.imagemirror.store.MissingManifestException;
import io.imagemirror.store.Page;
import io.imagemirror.store.Pin;
import io.imagemirror.store.StoreException;
import io.imagemirror.store.SyncRule;
import io.imagemirror.store.TagEvent;
import io.imagemirror.store.TagRecord;
import io.imagemirror.store.TagUpdate;
import io.imagemirror.store.Timestamps;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.CancellationReason;
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
import software.amazon.awssdk.services.dynamodb.model.ResourceNotFoundException;
import software.amazon.awssdk.services.dynamodb.model.ReturnValue;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;
import software.amazon.awssdk.services.dynamodb.model.Update;

/**
 * The {@link MetadataStore} in one DynamoDB table (keys in {@code docs/storage.md}):
 * <pre>
 *   pk = REPO#&lt;repo&gt;   sk = MANIFEST#&lt;digest&gt;        manifest record + reference counts
 *   pk = REPO#&lt;repo&gt;   sk = TAG#&lt;tag&gt;                current digest (absent: deleted) + seq
 *   pk = REPO#&lt;repo&gt;   sk = TAGLOG#&lt;tag&gt;#&lt;seq&gt;      one tag move
 *   pk = REPO#&lt;repo&gt;   sk = PIN#&lt;digest&gt;
 *   pk = REPOS         sk = &lt;repo&gt;                   the catalog
 *   pk = BLOB#&lt;digest&gt; sk = BLOB                     size, lastTouched
 *   pk = JOB#&lt;id&gt;      sk = JOB                      job, ttl (epoch seconds) for DynamoDB's TTL
 *   pk = RULES         sk = &lt;name&gt;                   sync rule
 *   GSI gsi1 (gsi1pk, gsi1sk), sparse: DANGLING / &lt;since&gt;#&lt;repo&gt;#&lt;digest&gt; on manifests that may
 *   be dangling; JOBS / &lt;created&gt;#&lt;id&gt; on jobs.
 * </pre>
 * Each manifest counts the tags, pins and recorded parent indexes naming it. Whatever lowers a
 * count sets the manifest's {@code gsi1pk = DANGLING} (a candidate); whatever raises one removes
 * it; both in the same transaction as the change, so a manifest whose counts are all zero always
 * carries the key. {@link #listDangling} reads the candidates and keeps those whose counts are
 * zero, and the delete is conditional on the counts. A tag compare-and-set is one
 * {@code TransactWriteItems}: the tag (conditional on its sequence number), the history entry,
 * and both manifests' counts.
 *
 * <p>Thread-safe. The client is the caller's. GSI reads ({@link #listDangling}, {@link #listJobs})
 * are eventually consistent on AWS; the conditional writes are what keep the invariants.
 */
public final class DynamoMetadataStore implements MetadataStore {

    static final String GSI = "gsi1";
    private static final String DANGLING = "DANGLING";
    private static final String JOBS = "JOBS";
    private static final int MAX_ATTEMPTS = 25;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final DynamoDbClient dynamo;
    private final String table;
    private final Clock clock;

    public DynamoMetadataStore(DynamoDbClient dynamo, String table, Clock clock) {
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

    /** Creates the table with its GSI and TTL (on-demand billing) and waits until it is active. */
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
        if (e instanceof ResourceNotFoundException) {
            return new StoreException("DynamoDB table " + table + " does not exist (" + what + ")", e, false);
        }
        boolean retryable = e instanceof SdkClientException || e.retryable()
                || (e instanceof DynamoDbException d && (d.statusCode() >= 500 || d.isThrottlingException()));
        return new StoreException(what + " in DynamoDB table " + table + " failed: " + e.getMessage(), e, retryable);
    }

    // ---- transactions ----

    /** Which item of a cancelled transaction failed its condition, or -1 for a conflict to retry. */
    private static int failedCondition(TransactionCanceledException e) {
        List<CancellationReason> reasons = e.cancellationReasons();
        for (int i = 0; i < reasons.size(); i++) {
            if ("ConditionalCheckFailed".equals(reasons.get(i).code())) {
                return i;
            }
        }
        return -1;
    }

    /** Runs a transaction; {@code -1} when it committed, else the index of the item whose condition failed. */
    private int transact(String what, List<TransactWriteItem> items) {
        if (items.size() > 100) {
            throw new StoreException(what + ": more than 100 items in one transaction", null, false);
        }
        for (int attempt = 1; ; attempt++) {
            try {
                dynamo.transactWriteItems(b -> b.transactItems(items));
                return -1;
            } catch (TransactionCanceledException e) {
                int failed = failedCondition(e);
                if (failed >= 0) {
                    return failed;
                }
                if (attempt >= MAX_ATTEMPTS) {
                    throw new StoreException(what + ": transaction kept conflicting", e, true);
                }
                backoff(attempt);
            } catch (SdkException e) {
                throw translate(what, e);
            }
        }
    }

    private static void backoff(int attempt) {
        try {
            Thread.sleep(ThreadLocalRandom.current().nextLong(1, 5L * Math.min(attempt, 10)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreException("interrupted", e, true);
        }
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

    /** Raises a manifest's count: it is no longer a dangling candidate. Fails if the manifest is not recorded. */
    private TransactWriteItem raise(String repo, Digest digest, String counter) {
        return TransactWriteItem.builder().update(Update.builder().tableName(table).key(keyOf(repoPk(repo),
                        manifestSk(digest)))
                .updateExpression("ADD " + counter + " :one REMOVE gsi1pk, gsi1sk")
                .conditionExpression("attribute_exists(pk)")
                .expressionAttributeValues(Map.of(":one", n(1))).build()).build();
    }

    /** Lowers a manifest's count and marks it a dangling candidate as of now. */
    private TransactWriteItem lower(String repo, Digest digest, String counter, long now) {
        return TransactWriteItem.builder().update(Update.builder().tableName(table).key(keyOf(repoPk(repo),
                        manifestSk(digest)))
                .updateExpression("ADD " + counter + " :minus SET gsi1pk = :d, gsi1sk = :since")
                .conditionExpression("attribute_exists(pk)")
                .expressionAttributeValues(Map.of(":minus", n(-1), ":d", s(DANGLING),
                        ":since", s(danglingSortKey(now, repo, digest)))).build()).build();
    }

    private static String danglingSortKey(long since, String repo, Digest digest) {
        return pad(since) + "#" + repo + "#" + digest;
    }

    // ---- paging ----

    private static String encodeToken(Map<String, AttributeValue> lastKey) {
        if (lastKey == null || lastKey.isEmpty()) {
            return null;
        }
        Map<String, String> plain = new LinkedHashMap<>();
        lastKey.forEach((k, v) -> plain.put(k, v.s()));
        try {
            return Base64.getUrlEncoder().withoutPadding().encodeToString(JSON.writeValueAsBytes(plain));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, AttributeValue> decodeToken(String token) {
        if (token == null) {
            return null;
        }
        try {
            Map<String, String> plain = JSON.readValue(Base64.getUrlDecoder().decode(token),
                    new TypeReference<Map<String, String>>() { });
            Map<String, AttributeValue> key = new HashMap<>();
            plain.forEach((k, v) -> key.put(k, s(v)));
            return key;
        } catch (java.io.IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid page token", e);
        }
    }

    private <T> Page<T> query(QueryRequest.Builder q, int limit, String pageToken,
                              Function<Map<String, AttributeValue>, T> row) {
        q.tableName(table).limit(Page.checkLimit(limit)).exclusiveStartKey(decodeToken(pageToken));
        QueryResponse r;
        try {
            r = dynamo.query(q.build());
        } catch (SdkException e) {
            throw translate("query", e);
        }
        List<T> items = new ArrayList<>();
        for (Map<String, AttributeValue> item : r.items()) {
            T t = row.apply(item);
            if (t != null) {
                items.add(t);
            }
        }
        return new Page<>(items, r.hasLastEvaluatedKey() ? encodeToken(r.lastEvaluatedKey()) : null);
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

    @Override
    public boolean putManifest(ManifestRecord r) {
        String repo = r.repository();
        if (get(repoPk(repo), manifestSk(r.digest())).isPresent()) {
            return false;
        }
        try {
            // The catalog entry first and on its own: every manifest write touching one hot item would conflict.
            dynamo.putItem(b -> b.tableName(table).item(values("pk", "REPOS", "sk", repo)));
        } catch (SdkException e) {
            throw translate("put repository " + repo, e);
        }
        long now = nowMicros();
        Map<String, AttributeValue> item = values("pk", repoPk(repo), "sk", manifestSk(r.digest()),
                "doc", ManifestRecordJson.encode(r), "pullCount", r.pullCount(), "refTags", 0, "refPins", 0,
                "refParents", 0, "gsi1pk", DANGLING, "gsi1sk", danglingSortKey(now, repo, r.digest()));
        if (r.lastPulled() != null) {
            item.put("lastPulled", n(Timestamps.toMicros(r.lastPulled())));
        }
        List<TransactWriteItem> tx = new ArrayList<>();
        tx.add(put(item, "attribute_not_exists(pk)", null));
        List<Digest> children = r.mirroredChildDigests();
        for (Digest c : children) {
            tx.add(raise(repo, c, "refParents"));
        }
        int failed = transact("put manifest " + r.digest(), tx);
        if (failed == 0) {
            return false;
        }
        if (failed > 0) {
            throw new MissingManifestException(repo, children.get(failed - 1));
        }
        return true;
    }

    @Override
    public Optional<ManifestRecord> getManifest(String repository, Digest digest) {
        return get(repoPk(repository), manifestSk(digest)).map(DynamoMetadataStore::manifest);
    }

    @Override
    public Page<ManifestRecord> listManifests(String repository, int limit, String pageToken) {
        return query(beginsWith(repoPk(repository), "MANIFEST#"), limit, pageToken, DynamoMetadataStore::manifest);
    }

    @Override
    public boolean recordPull(String repository, Digest digest) {
        try {
            dynamo.updateItem(b -> b.tableName(table).key(keyOf(repoPk(repository), manifestSk(digest)))
                    .updateExpression("SET lastPulled = :now ADD pullCount :one")
                    .conditionExpression("attribute_exists(pk)")
                    .expressionAttributeValues(Map.of(":now", n(nowMicros()), ":one", n(1))));
            return true;
        } catch (ConditionalCheckFailedException e) {
            return false;
        } catch (SdkException e) {
            throw translate("record pull of " + digest, e);
        }
    }

    private static boolean unreferenced(Map<String, AttributeValue> item) {
        return num(item, "refTags", 0) == 0 && num(item, "refPins", 0) == 0 && num(item, "refParents", 0) == 0;
    }

    @Override
    public Page<ManifestRecord> listDangling(Instant danglingBefore, int limit, String pageToken) {
        QueryRequest.Builder q = QueryRequest.builder().indexName(GSI)
                .keyConditionExpression("gsi1pk = :d AND gsi1sk < :cutoff")
                .expressionAttributeValues(Map.of(":d", s(DANGLING),
                        ":cutoff", s(pad(Timestamps.toMicros(danglingBefore)))));
        // Candidates that are referenced again are skipped (and cost a read each until their next count change).
        return query(q, limit, pageToken, item -> unreferenced(item) ? manifest(item) : null);
    }

    @Override
    public boolean deleteManifestIfDangling(String repository, Digest digest, Instant danglingBefore) {
        Optional<ManifestRecord> m = getManifest(repository, digest);
        if (m.isEmpty()) {
            return false;
        }
        long now = nowMicros();
        List<TransactWriteItem> tx = new ArrayList<>();
        tx.add(TransactWriteItem.builder().delete(Delete.builder().tableName(table)
                .key(keyOf(repoPk(repository), manifestSk(digest)))
                .conditionExpression("refTags = :zero AND refPins = :zero AND refParents = :zero "
                        + "AND gsi1pk = :d AND gsi1sk < :cutoff")
                .expressionAttributeValues(Map.of(":zero", n(0), ":d", s(DANGLING),
                        ":cutoff", s(pad(Timestamps.toMicros(danglingBefore))))).build()).build());
        List<Digest> children = m.get().mirroredChildDigests();
        for (Digest c : children) {
            tx.add(lower(repository, c, "refParents", now));
        }
        int failed = transact("delete manifest " + digest, tx);
        if (failed == 0) {
            return false;
        }
        if (failed > 0) {
            throw new StoreException("index " + digest + " in " + repository + " names child "
                    + children.get(failed - 1) + " that is not recorded", null, false);
        }
        return true;
    }

    @Override
    public Page<String> listRepositories(int limit, String pageToken) {
        QueryRequest.Builder q = QueryRequest.builder().consistentRead(true).keyConditionExpression("pk = :pk")
                .expressionAttributeValues(Map.of(":pk", s("REPOS")));
        return query(q, limit, pageToken, item -> str(item, "sk"));
    }

    // ---- tags ----

    private static String tagSk(String tag) {
        return "TAG#" + tag;
    }

    private static TagRecord tagRecord(String repo, Map<String, AttributeValue> item) {
        Digest d = digestOf(item, "digest");
        return d == null ? null : new TagRecord(repo, str(item, "sk").substring(4), d, time(item, "updatedAt"));
    }

    @Override
    public Optional<TagRecord> getTag(String repository, String tag) {
        return get(repoPk(repository), tagSk(tag)).map(item -> tagRecord(repository, item));
    }

    @Override
    public Page<TagRecord> listTags(String repository, int limit, String pageToken) {
        // Deleted tags stay as items without a digest (they keep the history's sequence) and are skipped.
        return query(beginsWith(repoPk(repository), "TAG#"), limit, pageToken, item -> tagRecord(repository, item));
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
    public TagUpdate setTag(String repository, String tag, Digest expected, Digest digest, String cause) {
        Objects.requireNonNull(digest, "digest");
        for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
            Optional<Map<String, AttributeValue>> item = get(repoPk(repository), tagSk(tag));
            Digest current = item.map(i -> digestOf(i, "digest")).orElse(null);
            if (digest.equals(current)) {
                return TagUpdate.UNCHANGED;
            }
            if (!Objects.equals(current, expected)) {
                return TagUpdate.CONFLICT;
            }
            long seq = item.map(i -> num(i, "seq", 0)).orElse(0L);
            long now = nowMicros();
            List<TransactWriteItem> tx = new ArrayList<>();
            tx.add(put(values("pk", repoPk(repository), "sk", tagSk(tag), "digest", digest.toString(),
                            "updatedAt", now, "seq", seq + 1),
                    item.isPresent() ? "seq = :seq" : "attribute_not_exists(pk)",
                    item.isPresent() ? Map.of(":seq", n(seq)) : null));
            tx.add(historyPut(repository, tag, seq + 1, current, digest, now, cause));
            tx.add(raise(repository, digest, "refTags"));
            if (current != null) {
                tx.add(lower(repository, current, "refTags", now));
            }
            int failed = transact("set tag " + tag, tx);
            if (failed < 0) {
                return TagUpdate.UPDATED;
            }
            if (failed == 2) {
                throw new MissingManifestException(repository, digest);
            }
            if (failed == 3) {
                throw new StoreException("tag " + tag + " of " + repository + " points at unrecorded " + current,
                        null, false);
            }
            // the tag moved since we read it: read again and decide
        }
        throw new StoreException("set tag " + tag + ": kept conflicting", null, true);
    }

    @Override
    public TagUpdate deleteTag(String repository, String tag, Digest expected, String cause) {
        Objects.requireNonNull(expected, "expected");
        for (int attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
            Optional<Map<String, AttributeValue>> item = get(repoPk(repository), tagSk(tag));
            Digest current = item.map(i -> digestOf(i, "digest")).orElse(null);
            if (current == null) {
                return TagUpdate.UNCHANGED;
            }
            if (!current.equals(expected)) {
                return TagUpdate.CONFLICT;
            }
            long seq = num(item.get(), "seq", 0);
            long now = nowMicros();
            List<TransactWriteItem> tx = new ArrayList<>();
            tx.add(put(values("pk", repoPk(repository), "sk", tagSk(tag), "updatedAt", now, "seq", seq + 1),
                    "seq = :seq", Map.of(":seq", n(seq))));
            tx.add(historyPut(repository, tag, seq + 1, current, null, now, cause));
            tx.add(lower(repository, current, "refTags", now));
            int failed = transact("delete tag " + tag, tx);
            if (failed < 0) {
                return TagUpdate.UPDATED;
            }
            if (failed == 2) {
                throw new StoreException("tag " + tag + " of " + repository + " points at unrecorded " + current,
                        null, false);
            }
        }
        throw new StoreException("delete tag " + tag + ": kept conflicting", null, true);
    }

    @Override
    public Page<TagEvent> tagHistory(String repository, String tag, int limit, String pageToken) {
        QueryRequest.Builder q = beginsWith(repoPk(repository), "TAGLOG#" + tag + "#").scanIndexForward(false);
        return query(q, limit, pageToken, item -> new TagEvent(repository, tag, digestOf(item, "old"),
                digestOf(item, "new"), time(item, "time"), str(item, "cause")));
    }

    // ---- pins ----

    @Override
    public boolean addPin(String repository, Digest digest) {
        long now = nowMicros();
        List<TransactWriteItem> tx = List.of(
                put(values("pk", repoPk(repository), "sk", "PIN#" + digest, "time", now), "attribute_not_exists(pk)",
                        null),
                raise(repository, digest, "refPins"));
        int failed = transact("pin " + digest, tx);
        if (failed == 1 || (failed == 0 && getManifest(repository, digest).isEmpty())) {
            throw new MissingManifestException(repository, digest);
        }
        return failed < 0;
    }

    @Override
    public boolean removePin(String repository, Digest digest) {
        List<TransactWriteItem> tx = List.of(
                TransactWriteItem.builder().delete(Delete.builder().tableName(table)
                        .key(keyOf(repoPk(repository), "PIN#" + digest))
                        .conditionExpression("attribute_exists(pk)").build()).build(),
                lower(repository, digest, "refPins", nowMicros()));
        int failed = transact("unpin " + digest, tx);
        if (failed == 1) {
            throw new StoreException("pin of unrecorded manifest " + digest + " in " + repository, null, false);
        }
        return failed < 0;
    }

    @Override
    public Page<Pin> listPins(String repository, int limit, String pageToken) {
        return query(beginsWith(repoPk(repository), "PIN#"), limit, pageToken, item -> new Pin(repository,
                Digest.parse(str(item, "sk").substring(4)), time(item, "time")));
    }

    // ---- blob records ----

    private static String blobPk(Digest d) {
        return "BLOB#" + d;
    }

    @Override
    public boolean createBlobRecord(Digest digest, long size) {
        try {
            dynamo.putItem(b -> b.tableName(table).item(values("pk", blobPk(digest), "sk", "BLOB", "size", size,
                    "lastTouched", nowMicros())).conditionExpression("attribute_not_exists(pk)"));
            return true;
        } catch (ConditionalCheckFailedException e) {
            return false;
        } catch (SdkException e) {
            throw translate("create blob record " + digest, e);
        }
    }

    @Override
    public Optional<BlobRecord> getBlobRecord(Digest digest) {
        return get(blobPk(digest), "BLOB").map(item -> new BlobRecord(digest, num(item, "size", 0),
                time(item, "lastTouched")));
    }

    @Override
    public boolean touchBlob(Digest digest) {
        try {
            dynamo.updateItem(b -> b.tableName(table).key(keyOf(blobPk(digest), "BLOB"))
                    .updateExpression("SET lastTouched = :now").conditionExpression("attribute_exists(pk)")
                    .expressionAttributeValues(Map.of(":now", n(nowMicros()))));
            return true;
        } catch (ConditionalCheckFailedException e) {
            return false;
        } catch (SdkException e) {
            throw translate("touch blob " + digest, e);
        }
    }

    @Override
    public boolean deleteBlobRecordIfNotTouchedSince(Digest digest, Instant cutoff) {
        try {
            dynamo.deleteItem(b -> b.tableName(table).key(keyOf(blobPk(digest), "BLOB"))
                    .conditionExpression("lastTouched < :cutoff")
                    .expressionAttributeValues(Map.of(":cutoff", n(Timestamps.toMicros(cutoff)))));
            return true;
        } catch (ConditionalCheckFailedException e) {
            return false;
        } catch (SdkException e) {
            throw translate("delete blob record " + digest, e);
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
        return get("JOB#" + id, "JOB").filter(item -> num(item, "expiresAt", 0) > now).map(DynamoMetadataStore::job);
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
        return query(q, limit, pageToken, DynamoMetadataStore::job);
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
        return get("RULES", name).map(DynamoMetadataStore::rule);
    }

    @Override
    public Page<SyncRule> listSyncRules(int limit, String pageToken) {
        QueryRequest.Builder q = QueryRequest.builder().consistentRead(true).keyConditionExpression("pk = :pk")
                .expressionAttributeValues(Map.of(":pk", s("RULES")));
        return query(q, limit, pageToken, DynamoMetadataStore::rule);
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

}
