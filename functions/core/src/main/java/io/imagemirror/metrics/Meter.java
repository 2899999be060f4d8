package io.imagemirror.metrics;

import java.util.List;

/**
 * Every measurement image-mirror makes, named once: what {@code serve}'s {@code /metrics}
 * exposes in Prometheus' text format and what the Lambda functions write as CloudWatch
 * embedded-metric-format lines (docs/operations.md lists both spellings and what each answers).
 * Tag values are passed in the order of {@link #tags()}; each tag has a small, closed set of
 * values (never a repository, tag, digest or URL), so the number of series stays bounded.
 */
public enum Meter {
    /** API requests answered, with the time until the answer (its headers) was ready. */
    HTTP_REQUESTS("http.requests", Kind.TIMER, Unit.SECONDS, "API requests by route, method and status",
            "route", "method", "status"),
    /** Pull-through lookups: {@code hit} (answered from the store), {@code miss} (fetched), {@code stale}. */
    CACHE_LOOKUPS("cache.lookups", Kind.COUNTER, Unit.NONE, "pull-through lookups by kind (manifest, blob) and result (hit, miss, stale)",
            "kind", "result"),
    /** Blob bytes answered to clients, by where they came from ({@code store} or {@code upstream}). */
    BLOB_BYTES_SERVED("blob.served", Kind.COUNTER, Unit.BYTES, "blob bytes answered to clients, from the store or from upstream",
            "source"),
    /** Blob bytes fetched from upstream into the store. */
    UPSTREAM_BYTES("upstream.fetched", Kind.COUNTER, Unit.BYTES, "blob bytes fetched from upstream registries into the store"),
    /** Requests made to upstream registries (each network request: redirects and auth retries count). */
    UPSTREAM_REQUESTS("upstream.requests", Kind.TIMER, Unit.SECONDS, "upstream requests by registry, method and status (error: no answer)",
            "registry", "method", "status"),
    /** Blob fills: {@code fetched}, {@code failed}, {@code coalesced} (joined one in flight), {@code found_stored}. */
    BLOB_FILLS("blob.fills", Kind.COUNTER, Unit.NONE, "blob fills by outcome; coalesced = joined a fill in flight",
            "outcome"),
    /** The pull quota an upstream stated in its last {@code ratelimit-remaining} header. */
    QUOTA_REMAINING("upstream.quota.remaining", Kind.GAUGE, Unit.NONE, "pulls left in the upstream's window (ratelimit-remaining)",
            "registry"),
    /** The pull quota per window an upstream stated in its last {@code ratelimit-limit} header. */
    QUOTA_LIMIT("upstream.quota.limit", Kind.GAUGE, Unit.NONE, "pulls allowed per window (ratelimit-limit)",
            "registry"),
    /** Jobs run by a worker, by kind and outcome ({@code succeeded}, {@code failed}). */
    JOBS("jobs", Kind.TIMER, Unit.SECONDS, "jobs run by kind (mirror, pull-through, sync) and outcome",
            "kind", "outcome"),
    /** Sync rule runs, by outcome ({@code ok}, {@code failed}: the run or one of its tags failed). */
    SYNC_RUNS("sync.runs", Kind.TIMER, Unit.SECONDS, "sync rule runs by outcome", "outcome"),
    /** Tags a sync run looked at, by result ({@code unchanged}, {@code changed}, {@code deferred}, {@code failed}). */
    SYNC_TAGS("sync.tags", Kind.COUNTER, Unit.NONE, "tags checked by sync runs, by result", "result"),
    /** Sweeps, by outcome ({@code finished}, {@code paused}: continues at the next run, {@code failed}). */
    SWEEPS("sweeps", Kind.TIMER, Unit.SECONDS, "sweeps (or sweep invocations) by outcome", "outcome"),
    /** What sweeps deleted, by kind ({@code manifest}, {@code blob}). */
    SWEEP_DELETED("sweep.deleted", Kind.COUNTER, Unit.NONE, "manifests and blobs deleted by sweeps", "kind"),
    /** Bytes of blobs sweeps deleted. */
    SWEEP_RECLAIMED("sweep.reclaimed", Kind.COUNTER, Unit.BYTES, "blob bytes deleted by sweeps");

    /** How a meter aggregates. */
    public enum Kind {
        /** A running total ({@link Metrics#add}). */
        COUNTER,
        /** A distribution of durations ({@link Metrics#observe}, seconds): count, sum and buckets. */
        TIMER,
        /** The last value set ({@link Metrics#set}). */
        GAUGE
    }

    /** The base unit of a meter's values. */
    public enum Unit {
        NONE, BYTES, SECONDS
    }

    private final String key;
    private final Kind kind;
    private final Unit unit;
    private final String description;
    private final List<String> tags;

    Meter(String key, Kind kind, Unit unit, String description, String... tags) {
        this.key = key;
        this.kind = kind;
        this.unit = unit;
        this.description = description;
        this.tags = List.of(tags);
    }

    /** The dotted name, e.g. {@code cache.lookups} (Prometheus: {@code imagemirror_cache_lookups_total}). */
    public String key() {
        return key;
    }

    public Kind kind() {
        return kind;
    }

    public Unit unit() {
        return unit;
    }

    public String description() {
        return description;
    }

    /** The tag keys, in the order values are passed. */
    public List<String> tags() {
        return tags;
    }

    /**
     * Checks a call's tag values against {@link #tags()}.
     *
     * @throws IllegalArgumentException when the count differs or a value is null (a bug at the call site)
     */
    public void check(String... values) {
        if (values.length != tags.size()) {
            throw new IllegalArgumentException(key + " takes tags " + tags + ", got " + values.length + " value(s)");
        }
        for (String v : values) {
            if (v == null) {
                throw new IllegalArgumentException(key + ": null tag value");
            }
        }
    }
}
