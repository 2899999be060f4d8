package io.imagemirror.store;

import io.imagemirror.oci.Digest;

/**
 * A write named a manifest that is not recorded in the repository: a tag, a pin or an index
 * pointing at it would break invariants 2 and 3 (DESIGN.md §5). Usually a caller bug, or a
 * prune that removed a dangling manifest between its recording and its tagging: record it again.
 */
public final class MissingManifestException extends StoreException {
    private static final long serialVersionUID = 1L;

    private final String repository;
    private final transient Digest digest;

    public MissingManifestException(String repository, Digest digest) {
        super("manifest " + digest + " is not recorded in " + repository, null, false);
        this.repository = repository;
        this.digest = digest;
    }

    public String repository() {
        return repository;
    }

    public Digest digest() {
        return digest;
    }
}
