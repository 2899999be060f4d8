package io.imagemirror.mirror;

import io.imagemirror.oci.Digest;
import java.io.IOException;

/**
 * A blob copy stopped at a part boundary because its {@link TimeBudget} was spent: not a failure.
 * Its state is in the {@link ResumableCopies.Session} that ran it, for a follow-up to go on from.
 */
public final class CopySuspendedException extends IOException {
    private static final long serialVersionUID = 1L;

    public CopySuspendedException(Digest digest, long offset, long size) {
        super("copy of " + digest + " suspended at byte " + offset + " of " + size + " (time budget spent)");
    }
}
