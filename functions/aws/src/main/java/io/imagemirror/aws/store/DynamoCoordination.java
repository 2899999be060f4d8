package io.imagemirror.aws.store;

import io.imagemirror.store.Lease;
import io.imagemirror.store.LeaseIndex;
import io.imagemirror.store.StoreException;
import io.imagemirror.store.Timestamps;
import io.imagemirror.store.UpstreamLedger;
import io.imagemirror.store.UpstreamState;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;

/**
 * Fill leases and the quota ledger in the index table, for every instance that shares it (Lambda
 * functions, {@code serve} replicas on the aws store):
 * <pre>
 *   pk = LEASE#&lt;key&gt;         sk = LEASE   holder, expiresAt (µs), version, ttl (epoch s, a day after expiry)
 *   pk = UPSTREAM#&lt;name&gt;     sk = STATE   limit, remaining, window (s), observedAt (µs), requests,
 *                                         manifestGets, failures, lastError, lastErrorAt (µs), version
 * </pre>
 * Both are written only by a conditional {@code PutItem} on {@code version} (or on the item's
 * absence for version 1), and read with consistent {@code GetItem}s: the functions need no
 * permission beyond those two. A lease item expired for a day is removed by DynamoDB's TTL; the next
 * lease of its key starts again at version 1. Thread-safe; the client is the caller's.
 */
public final class DynamoCoordination implements LeaseIndex, UpstreamLedger {

    /** How long an expired lease item stays before DynamoDB's TTL may remove it. */
    static final Duration LEASE_ITEM_KEPT = Duration.ofDays(1);

    private final DynamoDbClient dynamo;
    private final String table;

    public DynamoCoordination(DynamoDbClient dynamo, String table) {
        this.dynamo = Objects.requireNonNull(dynamo, "dynamo");
        this.table = Objects.requireNonNull(table, "table");
    }

    // ---- leases ----

    @Override
    public Optional<Lease> getLease(String key) {
        return get("LEASE#" + key, "LEASE", "read lease " + key).map(i -> new Lease(key, i.get("holder").s(),
                Timestamps.fromMicros(num(i, "expiresAt")), num(i, "version")));
    }

    @Override
    public boolean replaceLease(Lease next) {
        Map<String, AttributeValue> item = new HashMap<>();
        item.put("pk", s("LEASE#" + next.key()));
        item.put("sk", s("LEASE"));
        item.put("holder", s(next.holder()));
        item.put("expiresAt", n(Timestamps.toMicros(next.expiresAt())));
        item.put("version", n(next.version()));
        item.put("ttl", n(next.expiresAt().plus(LEASE_ITEM_KEPT).getEpochSecond()));
        return putIfVersion(item, next.version(), "write lease " + next.key());
    }

    // ---- the quota ledger ----

    @Override
    public Optional<UpstreamState> getUpstreamState(String upstream) {
        return get("UPSTREAM#" + upstream, "STATE", "read the ledger of " + upstream).map(i -> new UpstreamState(
                upstream, num(i, "limit"), num(i, "remaining"),
                i.containsKey("window") ? Duration.ofSeconds(num(i, "window")) : null,
                i.containsKey("observedAt") ? Timestamps.fromMicros(num(i, "observedAt")) : null,
                num(i, "requests"), num(i, "manifestGets"), num(i, "failures"),
                i.containsKey("lastError") ? i.get("lastError").s() : null,
                i.containsKey("lastErrorAt") ? Timestamps.fromMicros(num(i, "lastErrorAt")) : null,
                num(i, "version")));
    }

    @Override
    public boolean replaceUpstreamState(UpstreamState next) {
        Map<String, AttributeValue> item = new HashMap<>();
        item.put("pk", s("UPSTREAM#" + next.upstream()));
        item.put("sk", s("STATE"));
        item.put("limit", n(next.limit()));
        item.put("remaining", n(next.remaining()));
        if (next.window() != null) {
            item.put("window", n(next.window().toSeconds()));
        }
        if (next.observedAt() != null) {
            item.put("observedAt", n(Timestamps.toMicros(next.observedAt())));
        }
        item.put("requests", n(next.requests()));
        item.put("manifestGets", n(next.manifestGets()));
        item.put("failures", n(next.failures()));
        if (next.lastError() != null) {
            item.put("lastError", s(next.lastError()));
        }
        if (next.lastErrorAt() != null) {
            item.put("lastErrorAt", n(Timestamps.toMicros(next.lastErrorAt())));
        }
        item.put("version", n(next.version()));
        return putIfVersion(item, next.version(), "write the ledger of " + next.upstream());
    }

    // ---- items ----

    private boolean putIfVersion(Map<String, AttributeValue> item, long version, String what) {
        try {
            dynamo.putItem(b -> {
                b.tableName(table).item(item);
                if (version == 1) {
                    b.conditionExpression("attribute_not_exists(pk)");
                } else {
                    b.conditionExpression("version = :expected")
                            .expressionAttributeValues(Map.of(":expected", n(version - 1)));
                }
            });
            return true;
        } catch (ConditionalCheckFailedException e) {
            return false;
        } catch (SdkException e) {
            throw translate(what, e);
        }
    }

    private Optional<Map<String, AttributeValue>> get(String pk, String sk, String what) {
        try {
            Map<String, AttributeValue> item = dynamo.getItem(b -> b.tableName(table).consistentRead(true)
                    .key(Map.of("pk", s(pk), "sk", s(sk)))).item();
            return item == null || item.isEmpty() ? Optional.empty() : Optional.of(item);
        } catch (SdkException e) {
            throw translate(what, e);
        }
    }

    private StoreException translate(String what, SdkException e) {
        return DynamoIndex.translate(table, what, e);
    }

    private static long num(Map<String, AttributeValue> item, String name) {
        AttributeValue v = item.get(name);
        return v == null || v.n() == null ? -1 : Long.parseLong(v.n());
    }

    private static AttributeValue s(String v) {
        return AttributeValue.builder().s(v).build();
    }

    private static AttributeValue n(long v) {
        return AttributeValue.builder().n(Long.toString(v)).build();
    }
}
