package io.imagemirror.store;

import java.util.Optional;

/**
 * Named sync rules, the planner's state of each ({@link RuleState}) and the records of their runs.
 * Thread-safe; {@link #replaceRuleState} is atomic across processes sharing the backend.
 */
public interface RuleStore {

    /** Creates or replaces a rule. */
    void putSyncRule(SyncRule rule);

    Optional<SyncRule> getSyncRule(String name);

    /** Rules in name order. */
    Page<SyncRule> listSyncRules(int limit, String pageToken);

    /** @return whether a rule was deleted */
    boolean deleteSyncRule(String name);

    /** The planner's state of rule {@code name}, if one was written. */
    Optional<RuleState> getRuleState(String name);

    /**
     * Compare-and-set: writes {@code next} if the stored state of its rule has version
     * {@code next.version() - 1} (for version 1: if there is none).
     *
     * @return {@code false}, changing nothing, when another write came first
     */
    boolean replaceRuleState(RuleState next);

    /** Creates or replaces a run record (by rule and id). */
    void putSyncRun(SyncRunRecord run);

    /** The unexpired runs of {@code rule}, newest (greatest id) first. */
    Page<SyncRunRecord> listSyncRuns(String rule, int limit, String pageToken);

    /** @return whether a run record was deleted */
    boolean deleteSyncRun(String rule, String id);
}
