package io.imagemirror.mirror;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imagemirror.oci.Digest;
import io.imagemirror.store.InMemoryBlobStore;
import io.imagemirror.store.InMemoryIndex;
import io.imagemirror.store.InProcessCoordination;
import io.imagemirror.upstream.MutableClock;
import java.io.ByteArrayInputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

/**
 * Fill leases between "instances" (one {@link FillLeases} each) over one lease index: one holder,
 * waiters served from the store, a dead holder taken over after its lease expired, a wait that
 * never outlasts its bound. Time is a {@link MutableClock} the waiters' sleeper advances, so expiry
 * and deadlines are exact.
 */
class FillLeasesTest {

    private static final FillLeases.Config CONFIG = new FillLeases.Config(Duration.ofSeconds(30), Duration.ofSeconds(20));

    private final InProcessCoordination index = new InProcessCoordination();
    private final MutableClock clock = new MutableClock(Instant.parse("2026-12-02T00:00:00Z"));
    private final List<String> log = new CopyOnWriteArrayList<>();
    private final ExecutorService pool = Executors.newCachedThreadPool();

    /** An instance whose waits advance the shared clock instead of sleeping. */
    private FillLeases instance() {
        return new FillLeases(index, CONFIG, clock, d -> clock.advance(d), log::add);
    }

    @AfterEach
    void stop() {
        pool.shutdownNow();
    }

    @Test
    void oneInstanceHoldsAndAnotherFindsTheContentWhenItIsStored() throws Exception {
        FillLeases a = instance();
        FillLeases b = instance();
        AtomicBoolean stored = new AtomicBoolean();
        FillLeases.Outcome held = a.acquire("manifest sha256:1", stored::get);
        assertThat(held).isInstanceOf(FillLeases.Held.class);
        // b waits; the content appears after its third look
        AtomicInteger looks = new AtomicInteger();
        FillLeases.Outcome waited = b.acquire("manifest sha256:1", () -> {
            if (looks.incrementAndGet() == 3) {
                stored.set(true);
            }
            return stored.get();
        });
        assertThat(waited).isInstanceOf(FillLeases.Present.class);
        held.close();
        assertThat(index.getLease("manifest sha256:1").orElseThrow().heldAt(clock.instant())).as("released").isFalse();
        assertThat(a.taken()).isEqualTo(1);
        assertThat(b.taken()).isZero();
        assertThat(b.waitedForOthers()).isEqualTo(1);
        a.close();
        b.close();
    }

    @Test
    void aHolderThatDiesIsTakenOverOnceItsLeaseExpires() throws Exception {
        FillLeases dead = instance();
        FillLeases.Outcome held = dead.acquire("blob sha256:2", () -> false);
        assertThat(held).isInstanceOf(FillLeases.Held.class);
        dead.close(); // its heartbeat stops, and it never releases: as if its process were killed
        Instant expiry = index.getLease("blob sha256:2").orElseThrow().expiresAt();

        FillLeases next = new FillLeases(index, new FillLeases.Config(Duration.ofSeconds(30), Duration.ofSeconds(45)),
                clock, d -> clock.advance(d), log::add);
        FillLeases.Outcome mine = next.acquire("blob sha256:2", () -> false);
        assertThat(mine).isInstanceOf(FillLeases.Held.class);
        assertThat(clock.instant()).as("taken only after the expiry").isAfterOrEqualTo(expiry);
        assertThat(next.takenOver()).isEqualTo(1);
        assertThat(index.getLease("blob sha256:2").orElseThrow().holder()).isEqualTo(next.holder());
        assertThat(log).anyMatch(l -> l.contains("took over the lease on blob sha256:2"));
        mine.close();
        next.close();
    }

    @Test
    void aWaitNeverOutlastsItsBound() throws Exception {
        FillLeases a = instance();
        FillLeases b = instance();
        FillLeases.Outcome held = a.acquire("blob sha256:3", () -> false);
        Instant start = clock.instant();
        FillLeases.Outcome gaveUp = b.acquire("blob sha256:3", () -> false);
        assertThat(gaveUp).isInstanceOf(FillLeases.WaitElapsed.class);
        assertThat(((FillLeases.WaitElapsed) gaveUp).holder()).isEqualTo(a.holder());
        assertThat(Duration.between(start, clock.instant())).isEqualTo(CONFIG.maxWait());
        assertThat(b.waitsElapsed()).isEqualTo(1);
        held.close();
        a.close();
        b.close();
    }

    @RepeatedTest(5)
    void racingInstancesFetchABlobOnceAndTheOthersServeItFromTheStore() throws Exception {
        InMemoryBlobStore blobs = new InMemoryBlobStore();
        InMemoryIndex metadata = new InMemoryIndex(clock);
        byte[] bytes = BlobFillsTest.data(300_000);
        Digest digest = Digest.sha256(bytes);
        AtomicInteger opens = new AtomicInteger();
        CountDownLatch fetching = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        BlobFills.Source upstream = () -> {
            opens.incrementAndGet();
            fetching.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new java.io.InterruptedIOException();
            }
            return new ByteArrayInputStream(bytes);
        };
        // Real time here: waiters poll until the holder's put lands.
        FillLeases.Config config = new FillLeases.Config(Duration.ofSeconds(30), Duration.ofSeconds(30));
        List<FillLeases> instances = List.of(
                new FillLeases(index, config, java.time.Clock.systemUTC(), log::add),
                new FillLeases(index, config, java.time.Clock.systemUTC(), log::add),
                new FillLeases(index, config, java.time.Clock.systemUTC(), log::add),
                new FillLeases(index, config, java.time.Clock.systemUTC(), log::add));
        List<Future<Long>> fills = new java.util.ArrayList<>();
        for (FillLeases l : instances) {
            BlobFills f = new BlobFills(blobs, metadata, null, pool, l);
            fills.add(pool.submit(() -> f.fill(digest, bytes.length, upstream).await()));
        }
        fetching.await();
        release.countDown();
        long transferred = 0;
        for (Future<Long> f : fills) {
            transferred += f.get();
        }
        assertThat(opens).hasValue(1);
        assertThat(transferred).isEqualTo(bytes.length);
        assertThat(blobs.open(digest, io.imagemirror.store.ByteRange.ALL).orElseThrow().stream().readAllBytes()).isEqualTo(bytes);
        assertThat(instances.stream().mapToLong(FillLeases::taken).sum()).isEqualTo(1);
        instances.forEach(FillLeases::close);
    }

    @Test
    void aCallerThatMayRedirectGivesUpAfterTheWaitInsteadOfFetchingAgain() throws Exception {
        InMemoryBlobStore blobs = new InMemoryBlobStore();
        InMemoryIndex metadata = new InMemoryIndex(clock);
        byte[] bytes = BlobFillsTest.data(1000);
        Digest digest = Digest.sha256(bytes);
        FillLeases holder = instance();
        FillLeases.Outcome held = holder.acquire(BlobFills.leaseKey(digest), () -> false);
        AtomicInteger opens = new AtomicInteger();
        BlobFills other = new BlobFills(blobs, metadata, null, pool, instance());
        BlobFills.Source upstream = () -> {
            opens.incrementAndGet();
            return new ByteArrayInputStream(bytes);
        };
        assertThatThrownBy(() -> other.fill(digest, bytes.length, upstream, true))
                .isInstanceOf(FetchedElsewhereException.class).hasMessageContaining(holder.holder());
        assertThat(opens).hasValue(0);
        // a copy (no redirect possible) fetches after the wait, so it never fails for a slow holder
        assertThat(other.fill(digest, bytes.length, upstream).await()).isEqualTo(bytes.length);
        assertThat(opens).hasValue(1);
        held.close();
        holder.close();
    }
}
