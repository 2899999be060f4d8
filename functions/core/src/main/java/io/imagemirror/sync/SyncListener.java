package io.imagemirror.sync;

import io.imagemirror.oci.Digest;

/** What a planner pass reports while it runs (the CLI prints it); every method defaults to nothing. */
public interface SyncListener {

    SyncListener NONE = new SyncListener() {
    };

    /** A rule was claimed and its run starts. */
    default void ruleStarted(Rule rule) {
    }

    /** The upstream listed {@code listed} tags, of which the rule selected {@code selected}. */
    default void tagsListed(Rule rule, int listed, int selected) {
    }

    /** One selected tag was checked: {@code outcome} is unchanged, changed, deferred or failed. */
    default void tagChecked(Rule rule, String tag, Digest upstream, String outcome, String detail) {
    }

    /** The run is recorded. */
    default void ruleFinished(SyncRun run) {
    }
}
