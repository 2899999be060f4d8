package io.imagemirror.sweep;

import io.imagemirror.config.ConfigException;
import io.imagemirror.config.MirrorConfig;
import io.imagemirror.store.ManifestRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * The {@code --filter} values of {@code prune} ({@code "filters"} of {@code POST /v1/prune}), read
 * as {@code docker image prune} reads them: {@code until=DURATION} (only what is at least that old:
 * dangling that long, or for {@code --all} tags set that long ago) and {@code label=KEY} /
 * {@code label=KEY=VALUE} (only manifests with that label). All given filters must hold. Immutable.
 */
public final class PruneFilters {

    /** A label filter: the key, and the value or null for any. */
    private record Label(String key, String value) {
        boolean on(ManifestRecord m) {
            return m.labels().containsKey(key) && (value == null || value.equals(m.labels().get(key)));
        }
    }

    private final Duration until;
    private final List<Label> labels;
    private final Instant now;

    private PruneFilters(Duration until, List<Label> labels, Instant now) {
        this.until = until;
        this.labels = List.copyOf(labels);
        this.now = now;
    }

    /**
     * Reads the filters, as of {@code now}.
     *
     * @throws IllegalArgumentException naming the filter that is malformed or unknown
     */
    public static PruneFilters parse(List<String> filters, Instant now) {
        Objects.requireNonNull(now, "now");
        Duration until = null;
        List<Label> labels = new ArrayList<>();
        for (String f : filters) {
            int eq = f.indexOf('=');
            String key = eq < 0 ? f : f.substring(0, eq);
            String value = eq < 0 ? "" : f.substring(eq + 1);
            switch (key) {
                case "until" -> {
                    Duration d;
                    try {
                        d = MirrorConfig.parseDuration(value, "--filter until");
                    } catch (ConfigException e) {
                        throw new IllegalArgumentException(e.getMessage(), e);
                    }
                    if (d.isNegative()) {
                        throw new IllegalArgumentException("--filter until cannot be negative");
                    }
                    until = until == null || d.compareTo(until) > 0 ? d : until;
                }
                case "label" -> {
                    if (value.isEmpty()) {
                        throw new IllegalArgumentException("--filter label needs KEY or KEY=VALUE");
                    }
                    int e = value.indexOf('=');
                    labels.add(new Label(e < 0 ? value : value.substring(0, e), e < 0 ? null : value.substring(e + 1)));
                }
                default -> throw new IllegalArgumentException("--filter " + key
                        + " is not supported (until=DURATION, label=KEY[=VALUE])");
            }
        }
        return new PruneFilters(until, labels, now);
    }

    /** Whether no filter was given. */
    public boolean isEmpty() {
        return until == null && labels.isEmpty();
    }

    /** The grace period a prune uses: {@code grace}, or {@code until} if that is longer. */
    public Duration grace(Duration grace) {
        return until != null && until.compareTo(grace) > 0 ? until : grace;
    }

    /** Which dangling manifests the prune deletes (the label filters). */
    public Predicate<ManifestRecord> manifests() {
        return m -> labels.stream().allMatch(l -> l.on(m));
    }

    /**
     * What {@code --all} untags besides the retention policies: with no filter, nothing (a mirror has
     * no "unused image" of its own, so {@code --all} alone applies retention only); with filters, every
     * tag whose manifest has the labels and that was set at least {@code until} ago.
     */
    public Retention.TagFilter tagFilter() {
        if (isEmpty()) {
            return null;
        }
        return (tag, manifest) -> (until == null || !tag.updatedAt().isAfter(now.minus(until)))
                && labels.stream().allMatch(l -> l.on(manifest));
    }
}
