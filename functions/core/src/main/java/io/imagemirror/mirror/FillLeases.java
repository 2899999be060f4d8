package io.imagemirror.mirror;

import io.imagemirror.config.ConfigException;
import io.imagemirror.store.Lease;
import io.imagemirror.store.LeaseIndex;
import io.imagemirror.store.StoreException;
import java.io.InterruptedIOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Coalesces the fetch of one cold manifest or blob across every instance that shares the index
 * (Lambda instances, {@code serve} replicas on the aws store), as {@link BlobFills} does within one
 * process: the first instance takes a {@link Lease} on the key and fetches; the others wait for the
 * content to appear in the store, up to {@link Config#maxWait()}, and then serve it from there. The
 * holder renews its lease every third of {@link Config#ttl()} while it fetches (a heartbeat) and
 * releases it when done; a holder that dies stops renewing, its lease expires, and the next waiter
 * (or request) takes it over. A lease never holds a request longer than the wait: after it, the
 * caller decides (a pull-through on Lambda redirects to upstream's blob location; everything else
 * fetches on its own), and the event is counted ({@link #waitsElapsed()}).
 *
 * <p>Thread-safe. One instance per process or wiring: its holder id names it in every lease.
 */
public final class FillLeases implements AutoCloseable {

    /**
     * The {@code fills:} section of the configuration.
     *
     * @param ttl how long a lease holds without a heartbeat: a dead holder blocks others this long
     * @param maxWait how long a request waits for another instance's fetch before it gives up on it
     */
    public record Config(Duration ttl, Duration maxWait) {
        public static final Config DEFAULTS = new Config(Duration.ofSeconds(30), Duration.ofSeconds(20));

        public Config {
            if (ttl == null || ttl.compareTo(Duration.ofMillis(300)) < 0) {
                throw new ConfigException("fills.leaseTtl must be at least 300ms, got " + ttl);
            }
            if (maxWait == null || maxWait.isNegative()) {
                throw new ConfigException("fills.leaseWait must not be negative, got " + maxWait);
            }
        }
    }

    /** What {@link #acquire} came to. */
    public sealed interface Outcome extends AutoCloseable permits Held, Present, WaitElapsed {
        @Override
        default void close() {
        }
    }

    /** Another instance stored it while this one waited (or before it asked): read it from the store. */
    public record Present() implements Outcome {
    }

    /** Another instance still holds the lease after the whole wait. */
    public record WaitElapsed(String holder) implements Outcome {
    }

    /** This instance holds the lease: fetch, then close (releases it and stops the heartbeat). */
    public final class Held implements Outcome {
        private Lease lease;
        private final ScheduledFuture<?> heartbeat;
        private boolean lost;

        private Held(Lease lease) {
            this.lease = lease;
            long every = Math.max(50, config.ttl().toMillis() / 3);
            this.heartbeat = timer.scheduleWithFixedDelay(this::renew, every, every, TimeUnit.MILLISECONDS);
        }

        /** Whether another instance took the lease over (this one's heartbeats failed past its expiry). */
        public synchronized boolean lost() {
            return lost;
        }

        private synchronized void renew() {
            if (lost) {
                return;
            }
            Lease next = lease.next(holder, clock.instant().plus(config.ttl()));
            try {
                if (index.replaceLease(next)) {
                    lease = next;
                } else {
                    lost = true; // someone took it over after it expired: the fetch goes on, writes are idempotent
                    log.accept("lease on " + lease.key() + " was taken over while this instance fetched");
                }
            } catch (StoreException e) {
                // The next heartbeat tries again; if none gets through, the lease expires and another takes over.
                log.accept("renewing the lease on " + lease.key() + " failed: " + e.getMessage());
            }
        }

        @Override
        public void close() {
            heartbeat.cancel(false);
            synchronized (this) {
                if (!lost) {
                    release(lease);
                }
            }
        }
    }

    /** Pauses between looks at the store while waiting; a test may pass one that records. */
    @FunctionalInterface
    public interface Sleeper {
        void sleep(Duration d) throws InterruptedException;
    }

    private static final Duration FIRST_POLL = Duration.ofMillis(50);
    private static final Duration MAX_POLL = Duration.ofMillis(500);

    private final LeaseIndex index;
    private final Config config;
    private final Clock clock;
    private final Sleeper sleeper;
    private final Consumer<String> log;
    private final String holder;
    private final ScheduledExecutorService timer;
    private final AtomicLong taken = new AtomicLong();
    private final AtomicLong takenOver = new AtomicLong();
    private final AtomicLong waitedForOthers = new AtomicLong();
    private final AtomicLong waitsElapsed = new AtomicLong();

    public FillLeases(LeaseIndex index, Config config, Clock clock, Consumer<String> log) {
        this(index, config, clock, d -> Thread.sleep(Math.max(1, d.toMillis())), log);
    }

    public FillLeases(LeaseIndex index, Config config, Clock clock, Sleeper sleeper, Consumer<String> log) {
        this.index = index;
        this.config = config;
        this.clock = clock;
        this.sleeper = sleeper;
        this.log = log;
        this.holder = "fill-" + UUID.randomUUID();
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "lease-heartbeat");
            t.setDaemon(true);
            return t;
        });
    }

    /** This instance's id in the leases it writes. */
    public String holder() {
        return holder;
    }

    public Config config() {
        return config;
    }

    /**
     * Takes the lease on {@code key}, or waits for whoever holds it to store the content.
     *
     * @param present whether the content is in the store (asked before each attempt and while waiting)
     * @return {@link Present}, {@link Held} (close it when the fetch ends), or {@link WaitElapsed}
     */
    public Outcome acquire(String key, BooleanSupplier present) throws InterruptedIOException {
        Instant deadline = clock.instant().plus(config.maxWait());
        Duration pause = FIRST_POLL;
        boolean waited = false;
        while (true) {
            if (present.getAsBoolean()) {
                if (waited) {
                    waitedForOthers.incrementAndGet();
                }
                return new Present();
            }
            Instant now = clock.instant();
            Optional<Lease> current = index.getLease(key);
            if (current.isEmpty() || !current.get().heldAt(now)) {
                Lease mine = current.map(l -> l.next(holder, now.plus(config.ttl())))
                        .orElseGet(() -> new Lease(key, holder, now.plus(config.ttl()), 1));
                if (index.replaceLease(mine)) {
                    // It may have been stored (and the lease released) between the look above and
                    // the lease: look once more before fetching.
                    if (present.getAsBoolean()) {
                        release(mine);
                        return new Present();
                    }
                    taken.incrementAndGet();
                    if (current.isPresent() && current.get().expiresAt().isAfter(Instant.EPOCH)) {
                        // it expired while held (not released): its holder died or stalled
                        takenOver.incrementAndGet();
                        log.accept("took over the lease on " + key + " from " + current.get().holder()
                                + ", which let it expire");
                    }
                    return new Held(mine);
                }
                continue; // another instance wrote first: look again at once
            }
            if (!now.isBefore(deadline)) {
                waitsElapsed.incrementAndGet();
                log.accept("gave up waiting " + config.maxWait().toMillis() + " ms for " + current.get().holder()
                        + " to fetch " + key);
                return new WaitElapsed(current.get().holder());
            }
            waited = true;
            Duration left = Duration.between(now, deadline);
            Duration nap = pause.compareTo(left) < 0 ? pause : left;
            try {
                sleeper.sleep(nap);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted waiting for the fetch of " + key);
            }
            pause = pause.multipliedBy(2).compareTo(MAX_POLL) > 0 ? MAX_POLL : pause.multipliedBy(2);
        }
    }

    /** Released = expired now: the next request looks at the store, finds the content, and serves it. */
    private void release(Lease held) {
        try {
            index.replaceLease(held.next(holder, Instant.EPOCH));
        } catch (StoreException e) {
            log.accept("releasing the lease on " + held.key() + " failed (it expires by itself): " + e.getMessage());
        }
    }

    /** Leases this instance took to fetch (each one an upstream fetch). */
    public long taken() {
        return taken.get();
    }

    /** Of those, leases taken from a holder that let them expire. */
    public long takenOver() {
        return takenOver.get();
    }

    /** Requests that waited and then found the content another instance stored. */
    public long waitedForOthers() {
        return waitedForOthers.get();
    }

    /** Requests that gave up waiting for another instance's fetch. */
    public long waitsElapsed() {
        return waitsElapsed.get();
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
