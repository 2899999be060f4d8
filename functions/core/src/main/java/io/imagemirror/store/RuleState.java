package io.imagemirror.store;

import java.time.Instant;
import java.util.Objects;

/**
 * The planner's state of one sync rule, written only by compare-and-set on {@link #version()}
 * ({@link RuleStore#replaceRuleState}), so two planners never both claim a rule. What a claim and a
 * due rule mean is decided by the planner ({@code sync/SyncPlanner}); stores only persist this.
 *
 * @param rule the rule's name
 * @param nextRunAt when the rule is due next
 * @param claimedUntil until when {@code holder} runs it, or null when nobody does
 * @param holder who claimed it (a planner's id), or null
 * @param version 1 for the first state written, one more with every write
 */
public record RuleState(String rule, Instant nextRunAt, Instant claimedUntil, String holder, long version) {
    public RuleState {
        Objects.requireNonNull(rule, "rule");
        Objects.requireNonNull(nextRunAt, "nextRunAt");
        if (version < 1) {
            throw new IllegalArgumentException("version must be at least 1, got " + version);
        }
        if ((claimedUntil == null) != (holder == null)) {
            throw new IllegalArgumentException("claimedUntil and holder go together");
        }
        nextRunAt = Timestamps.truncate(nextRunAt);
        claimedUntil = claimedUntil == null ? null : Timestamps.truncate(claimedUntil);
    }

    /** The state that follows this one (the version one higher). */
    public RuleState next(Instant nextRun, Instant until, String by) {
        return new RuleState(rule, nextRun, until, by, version + 1);
    }
}
