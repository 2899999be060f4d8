package io.imagemirror.store;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Why a tag moved, as tag history keeps it: {@code api} ({@code POST /v1/mirror}), {@code cli}
 * ({@code image-mirror mirror}), {@code pull-through} (recorded after a pull through the cache),
 * {@code sync rule <name>}, {@code sweep}, {@code rm}, {@code retention}. Closed: only these values exist, and
 * {@link #value()} is the text the stores persist and {@link #parse} reads back.
 *
 * <p>{@link #MIRROR} is what releases before typed causes recorded for every mirror, whatever asked
 * for it; it stays readable so old history and jobs queued by such a release keep their meaning.
 */
public final class Cause {

    public static final Cause API = new Cause("api");
    public static final Cause CLI = new Cause("cli");
    public static final Cause PULL_THROUGH = new Cause("pull-through");
    public static final Cause SWEEP = new Cause("sweep");
    public static final Cause RM = new Cause("rm");
    /** A retention policy (or {@code prune --all}) untagged it. */
    public static final Cause RETENTION = new Cause("retention");
    /** Recorded by earlier releases for any mirror; not written any more. */
    public static final Cause MIRROR = new Cause("mirror");

    private static final String SYNC_RULE = "sync rule ";
    /** A sync rule's name: it becomes part of the history text, so its grammar lives with it here. */
    private static final Pattern RULE_NAME = Pattern.compile("[a-z0-9-]{1,63}");

    private final String value;

    private Cause(String value) {
        this.value = value;
    }

    /**
     * The cause of a tag move made by sync rule {@code rule}.
     *
     * @throws IllegalArgumentException when {@code rule} is not a rule name ({@link #isRuleName})
     */
    public static Cause syncRule(String rule) {
        Objects.requireNonNull(rule, "rule");
        if (!isRuleName(rule)) {
            throw new IllegalArgumentException("invalid sync rule name \"" + rule + "\": expected [a-z0-9-]{1,63}");
        }
        return new Cause(SYNC_RULE + rule);
    }

    /** Whether {@code name} may name a sync rule: 1-63 characters of a-z, 0-9 and -. */
    public static boolean isRuleName(String name) {
        return RULE_NAME.matcher(name).matches();
    }

    /**
     * A cause from its stored text.
     *
     * @throws IllegalArgumentException when {@code text} is none of the causes
     */
    @JsonCreator
    public static Cause parse(String text) {
        Objects.requireNonNull(text, "cause");
        for (Cause c : new Cause[] {API, CLI, PULL_THROUGH, SWEEP, RM, RETENTION, MIRROR}) {
            if (c.value.equals(text)) {
                return c;
            }
        }
        if (text.startsWith(SYNC_RULE)) {
            return syncRule(text.substring(SYNC_RULE.length()));
        }
        throw new IllegalArgumentException("unknown cause \"" + text + "\" (known: api, cli, pull-through, "
                + "sync rule <name>, sweep, rm, retention)");
    }

    /** The text tag history keeps. */
    @JsonValue
    public String value() {
        return value;
    }

    /** The rule's name when a sync rule caused it. */
    public Optional<String> syncRule() {
        return value.startsWith(SYNC_RULE) ? Optional.of(value.substring(SYNC_RULE.length())) : Optional.empty();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Cause c && c.value.equals(value);
    }

    @Override
    public int hashCode() {
        return value.hashCode();
    }

    @Override
    public String toString() {
        return value;
    }
}
