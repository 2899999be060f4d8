package io.imagemirror.upstream;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import okhttp3.Call;

/**
 * A stall watchdog for blob bodies, in place of OkHttp's per-read timeout: Okio arms and disarms a
 * timeout on every read of at most 8 KiB (a queue insert and removal under a lock), which cost up
 * to half a second per 512 MiB here. Instead a reader counts its reads on a {@link Ticket}, and one
 * daemon thread looks at every ticket once a second and cancels the call of one that made no
 * progress for the limit; the cancelled read fails with an {@code IOException} and the reader
 * resumes as after any broken connection. Thread-safe.
 */
final class StallWatch {

    private static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "blob-stall-watch");
        t.setDaemon(true);
        return t;
    });

    private final long limitNanos;
    private final Set<Ticket> active = ConcurrentHashMap.newKeySet();
    private boolean scheduled;

    /** @param limit how long a body may make no progress; zero turns the watch off */
    StallWatch(Duration limit) {
        this.limitNanos = limit.toNanos();
    }

    /** Watches one request from before it is sent until {@link Ticket#close()}. */
    Ticket start() {
        Ticket t = new Ticket(System.nanoTime());
        if (limitNanos > 0) {
            active.add(t);
            schedule();
        }
        return t;
    }

    private synchronized void schedule() {
        if (!scheduled) {
            scheduled = true;
            long period = Math.max(TimeUnit.MILLISECONDS.toNanos(200), Math.min(limitNanos / 4, TimeUnit.SECONDS.toNanos(1)));
            TIMER.scheduleWithFixedDelay(this::scan, period, period, TimeUnit.NANOSECONDS);
        }
    }

    private void scan() {
        long now = System.nanoTime();
        for (Ticket t : active) {
            long p = t.progress;
            if (p != t.seen) {
                t.seen = p;
                t.seenAt = now;
            } else if (now - t.seenAt > limitNanos) {
                Call c = t.call;
                if (c != null) {
                    c.cancel();
                }
            }
        }
    }

    /** One watched request: the reader calls {@link #progress()} after each read. */
    final class Ticket implements AutoCloseable {
        private volatile Call call;
        private volatile long progress;
        private long seen;
        private long seenAt;

        private Ticket(long now) {
            this.seenAt = now;
        }

        /** The call now being made for this ticket (a redirect makes a new one). */
        void attach(Call c) {
            call = c;
            progress++;
        }

        /** Bytes arrived. Called by the one reading thread only. */
        void progress() {
            progress++;
        }

        @Override
        public void close() {
            active.remove(this);
        }
    }
}
