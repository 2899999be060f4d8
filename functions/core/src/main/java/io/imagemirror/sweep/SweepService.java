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
    private final Metrics metrics;

    public SweepService(Storage storage, SweepConfig config, Clock clock) {
        this(storage, config, clock, Metrics.NONE);
    }

    /** @param metrics what each sweep (not a dry run) reports to ({@link Meter#SWEEPS} and the deleted counts) */
    public SweepService(Storage storage, SweepConfig config, Clock clock, Metrics metrics) {
        this.metrics = metrics;
        this.sweeper = new Sweeper(storage, clock);
        this.records = new SweepRecords(storage.jobs(), clock);
        this.config = Objects.requireNonNull(config, "config");
        this.remover = new ImageRemover(storage, clock);
    }

    /** What {@code DELETE /v1/images/<ref>} and {@code rm} do. */
    public ImageRemover remover() {
        return remover;
    }

    public SweepConfig config() {
        return config;
    }

    /** Runs one sweep ({@code grace} null: the configured one) and records it unless a dry run. */
    public SweepReport sweep(Duration grace, boolean dryRun, Predicate<io.imagemirror.store.ManifestRecord> filter,
                             Sweeper.Listener listener) {
        running.lock();
        long start = System.nanoTime();
        try {
            SweepReport r = sweeper.run(grace == null ? config.grace() : grace, dryRun, Sweeper.DEFAULT_PAGE_SIZE,
                    filter, listener);
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

    /** The recorded sweeps, newest first. */
    public List<SweepReport> recent(int limit) {
        return records.recent(limit);
    }
}
