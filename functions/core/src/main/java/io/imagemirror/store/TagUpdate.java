package io.imagemirror.store;

/** The outcome of a tag compare-and-set or delete. */
public enum TagUpdate {
    /** The tag moved (or was created or deleted) and one history event was appended. */
    UPDATED,
    /** The tag already was what was asked for (a retry): nothing changed, no history. */
    UNCHANGED,
    /** The tag was not at the expected digest: someone else moved it. Nothing changed. */
    CONFLICT
}
