package io.imagemirror.store;

import java.time.Instant;
import java.util.Objects;

/**
 * One recorded run of a sync rule; like {@link SyncRule}, the run itself is the JSON the sync
 * module defines ({@code sync/SyncRun}). Hidden once {@code expiresAt} has passed, removed
 * eventually (DynamoDB TTL, SQLite on write).
 *
 * @param id orders the runs of a rule: a later run has a lexically greater id
 */
public record SyncRunRecord(String rule, String id, String run, Instant expiresAt) {
    public SyncRunRecord {
        Objects.requireNonNull(rule, "rule");
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(run, "run");
        Objects.requireNonNull(expiresAt, "expiresAt");
        if (id.isEmpty() || id.length() > 200) {
            throw new IllegalArgumentException("run id must be 1-200 characters");
        }
        expiresAt = Timestamps.truncate(expiresAt);
    }
}
