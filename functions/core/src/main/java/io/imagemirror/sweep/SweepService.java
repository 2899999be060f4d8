package io.imagemirror.sweep;

import io.imagemirror.metrics.Meter;
import io.imagemirror.metrics.Metrics;
import io.imagemirror.store.Storage;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;

/**
 * The sweeper of one process with its records: what {@code serve}'s timer, {@code POST /v1/prune}
 * and {@code GET /v1/sweeps} share. One sweep at a time in this process (a second waits); sweeps
 * of other processes are safe anyway, every delete being conditional.
 */
public final class SweepService {
    private final Sweeper sweeper;
    private final SweepRecords records;
    private final SweepConfig config;
    private final ReentrantLock running = new ReentrantLock();
    private final ImageRemover remover;
    private final Retention retention;
    private final Clock clock;
    private final Storage storage;
    private final Metrics metrics;

    public SweepService(Storage storage, SweepConfig config, Clock clock) {
        this(storage, config, Retention.NONE, clock);
    }

    /**
     * @param retention the configured policies ({@link Retention#of}), run first in every scheduled
     *     sweep ({@link #scheduledSweep}) and in {@code prune --all}; a plain prune deletes what dangles
     */
    public SweepService(Storage storage, SweepConfig config, Retention retention, Clock clock) {
        this(storage, config, retention, clock, Metrics.NONE);
    }

    /** @param metrics what each sweep (not a dry run) reports to ({@link Meter#SWEEPS} and the deleted counts) */
    public SweepService(Storage storage, SweepConfig config, Clock clock, Metrics metrics) {
        this(storage, config, Retention.NONE, clock, metrics);
    }

    /**
     * @param retention the configured policies ({@link Retention#of}), run first in every scheduled
     *     sweep ({@link #scheduledSweep}) and in {@code prune --all}; a plain prune deletes what dangles
     * @param metrics what each sweep (not a dry run) reports to ({@link Meter#SWEEPS} and the deleted counts)
     */
    public SweepService(Storage storage, SweepConfig config, Retention retention, Clock clock, Metrics metrics) {
        this.metrics = metrics;
        this.sweeper = new Sweeper(storage, clock);
        this.records = new SweepRecords(storage.jobs(), clock);
        this.config = Objects.requireNonNull(config, "config");
        this.remover = new ImageRemover(storage, clock);
        this.retention = retention;
        this.clock = clock;
        this.storage = storage;
    }

    /** What {@code DELETE /v1/images/<ref>} and {@code rm} do. */
    public ImageRemover remover() {
        return remover;
    }

    /** The sweeper's clock's now (what {@code until} filters count from). */
    public java.time.Instant now() {
        return clock.instant();
    }

    /** {@code rm ARG} / {@code DELETE /v1/images/ARG}: a reference or an image ID ({@link ImageRemover#remove(String, boolean, io.imagemirror.cache.NameRouter, io.imagemirror.listing.ImageListing)}). */
    public ImageRemover.Outcome remove(String written, boolean force, io.imagemirror.cache.NameRouter names) {
        return remover.remove(written, force, names, new io.imagemirror.listing.ImageListing(storage.tagIndex(),
                storage.manifestIndex(), names));
    }

    public SweepConfig config() {
        return config;
    }

    /** Runs one sweep ({@code grace} null: the configured one) and records it unless a dry run. */
    public SweepReport sweep(Duration grace, boolean dryRun, Predicate<io.imagemirror.store.ManifestRecord> filter,
                             Sweeper.Listener listener) {
        return sweep(grace, dryRun, filter, null, listener);
    }

    /**
     * The sweep of a schedule ({@code serve}'s timer): the configured retention first (its untagged
     * manifests go after the grace period), then what dangles.
     */
    public SweepReport scheduledSweep(Sweeper.Listener listener) {
        return runRecorded(sweeper.withRetention(retention), config.grace(), false, m -> true, listener);
    }

    /**
     * Runs one sweep; {@code all} non-null makes it {@code prune --all}: the configured retention plus
     * the tags {@code all} selects are untagged and what that leaves dangling goes at once.
     */
    public SweepReport sweep(Duration grace, boolean dryRun, Predicate<io.imagemirror.store.ManifestRecord> filter,
                             PruneFilters all, Sweeper.Listener listener) {
        Sweeper s = all == null ? sweeper : sweeper.withRetention(retention.alsoUntagging(all.tagFilter()));
        return runRecorded(s, grace == null ? config.grace() : grace, dryRun, filter, listener);
    }

    /** Runs {@code s} alone (one sweep at a time here), records it, and reports it unless a dry run. */
    private SweepReport runRecorded(Sweeper s, Duration grace, boolean dryRun,
                                    Predicate<io.imagemirror.store.ManifestRecord> filter, Sweeper.Listener listener) {
        running.lock();
        long start = System.nanoTime();
        try {
            SweepReport r = s.run(grace, dryRun, Sweeper.DEFAULT_PAGE_SIZE, filter, listener);
            records.record(r);
            if (!dryRun) {
                r.recordTo(metrics, "finished", start);
            }
            return r;
        } catch (RuntimeException e) {
            metrics.since(Meter.SWEEPS, start, "failed");
            throw e;
        } finally {
            running.unlock();
        }
    }

    /** The same service sweeping records only ({@link Sweeper#recordsOnly()}): the AWS MirrorApi's. */
    public SweepService recordsOnly() {
        return new SweepService(this, sweeper.recordsOnly());
    }

    /** Whether its sweeps leave byte deletions to a full sweep elsewhere (the Sweeper function). */
    public boolean deletesRecordsOnly() {
        return sweeper.deletesRecordsOnly();
    }

    private SweepService(SweepService base, Sweeper sweeper) {
        this.sweeper = sweeper;
        this.records = base.records;
        this.config = base.config;
        this.remover = base.remover;
        this.retention = base.retention;
        this.clock = base.clock;
        this.storage = base.storage;
        this.metrics = base.metrics;
    }

    /** The recorded sweeps, newest first. */
    public List<SweepReport> recent(int limit) {
        return records.recent(limit);
    }
}
