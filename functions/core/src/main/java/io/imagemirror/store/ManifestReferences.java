package io.imagemirror.store;

import io.imagemirror.oci.Digest;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The reference counting rules of the index, decided here once for every adapter: what refers to
 * a manifest ({@link Kind}), which write adds or removes which reference ({@link #tagMove},
 * {@link #pinAdded}, {@link #recorded}, ...), and when a manifest is dangling ({@link Counts#dangling}).
 * An adapter applies the {@link Change}s a write causes in the same atomic step as the write,
 * and does nothing else with references: a raise of a manifest that is not recorded fails the
 * write ({@link MissingManifestException}, invariants 2 and 3), a lower of one is a broken index.
 */
public final class ManifestReferences {
    private ManifestReferences() {
    }

    /** What refers to a manifest of the same repository. */
    public enum Kind {
        /** A tag points at it. */
        TAG,
        /** It is pinned (mirrored by digest). */
        PIN,
        /** A recorded index names it as a mirrored child. */
        PARENT
    }

    /** One reference of {@code manifest} added ({@code +1}) or removed ({@code -1}). */
    public record Change(Digest manifest, Kind kind, int delta) {
        public Change {
            Objects.requireNonNull(manifest, "manifest");
            Objects.requireNonNull(kind, "kind");
            if (delta != 1 && delta != -1) {
                throw new IllegalArgumentException("a change adds or removes one reference, not " + delta);
            }
        }

        public boolean raises() {
            return delta > 0;
        }

        /** A stable name for this change within one write (DynamoDB names its transaction items so). */
        public String name() {
            return (raises() ? "raise " : "lower ") + kind.name().toLowerCase(java.util.Locale.ROOT) + " " + manifest;
        }
    }

    /** A manifest's references. */
    public record Counts(long tags, long pins, long parents) {
        public static final Counts NONE = new Counts(0, 0, 0);

        /** Dangling: nothing refers to it. */
        public boolean dangling() {
            return tags == 0 && pins == 0 && parents == 0;
        }

        public Counts plus(Change c) {
            return switch (c.kind()) {
                case TAG -> new Counts(tags + c.delta(), pins, parents);
                case PIN -> new Counts(tags, pins + c.delta(), parents);
                case PARENT -> new Counts(tags, pins, parents + c.delta());
            };
        }
    }

    /** A tag moving from {@code current} to {@code next} (either may be null: created, deleted). The raise comes first. */
    public static List<Change> tagMove(Digest current, Digest next) {
        List<Change> out = new ArrayList<>(2);
        if (next != null) {
            out.add(new Change(next, Kind.TAG, 1));
        }
        if (current != null) {
            out.add(new Change(current, Kind.TAG, -1));
        }
        return out;
    }

    public static List<Change> pinAdded(Digest manifest) {
        return List.of(new Change(manifest, Kind.PIN, 1));
    }

    public static List<Change> pinRemoved(Digest manifest) {
        return List.of(new Change(manifest, Kind.PIN, -1));
    }

    /** Recording {@code r} refers to each of its mirrored children once. */
    public static List<Change> recorded(ManifestRecord r) {
        return r.mirroredChildDigests().stream().map(c -> new Change(c, Kind.PARENT, 1)).toList();
    }

    /** An index marking {@code child} mirrored after it was recorded refers to it once more. */
    public static List<Change> childMarked(Digest child) {
        return List.of(new Change(child, Kind.PARENT, 1));
    }

    /** Deleting {@code r} removes what recording it added. */
    public static List<Change> deleted(ManifestRecord r) {
        return r.mirroredChildDigests().stream().map(c -> new Change(c, Kind.PARENT, -1)).toList();
    }
}
