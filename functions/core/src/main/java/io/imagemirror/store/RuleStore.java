package io.imagemirror.store;

import java.util.Optional;

/** Named sync rules. Thread-safe. */
public interface RuleStore {

    /** Creates or replaces a rule. */
    void putSyncRule(SyncRule rule);

    Optional<SyncRule> getSyncRule(String name);

    /** Rules in name order. */
    Page<SyncRule> listSyncRules(int limit, String pageToken);

    /** @return whether a rule was deleted */
    boolean deleteSyncRule(String name);
}
