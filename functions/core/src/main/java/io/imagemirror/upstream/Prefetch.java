package io.imagemirror.upstream;

import io.imagemirror.oci.EchoedInput;
import java.util.Locale;

/**
 * What a pull through the cache fetches of a multi-platform index: only the platforms clients pull
 * ({@link #PULLED}, the default), or every platform in the background ({@link #ALL}). Set per
 * upstream ({@code prefetch:} in its configuration) and per sync rule (for the rule's repository).
 * {@code mirror} and sync copies are not affected: they copy what their {@code platforms} select.
 */
public enum Prefetch {
    /** The index is recorded with only the children clients pulled; the others are listed, not stored. */
    PULLED,
    /** The index is recorded with every child, fetched in the background after the first pull. */
    ALL;

    /** The default for pull-through. */
    public static final Prefetch DEFAULT = PULLED;

    /**
     * {@code pulled} or {@code all}.
     *
     * @throws IllegalArgumentException naming the accepted values
     */
    public static Prefetch parse(String text) {
        for (Prefetch p : values()) {
            if (p.toString().equals(text)) {
                return p;
            }
        }
        throw new IllegalArgumentException("must be pulled or all, got \"" + EchoedInput.of(text) + "\"");
    }

    /** As written in configuration: {@code pulled} or {@code all}. */
    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
