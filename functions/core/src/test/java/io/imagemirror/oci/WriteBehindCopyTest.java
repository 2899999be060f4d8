package io.imagemirror.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** {@link BlobSink#copyInOrderBehind}: reads on the caller's thread, writes on the writer's, nothing after it returns. */
class WriteBehindCopyTest {

    private static final int CHUNK = 1024;

    /** Keeps the bytes at their offsets, the prefixes reported and which threads wrote. */
    static class Recorder implements BlobSink {
        final byte[] bytes;
        final List<Long> prefixes = new ArrayList<>();
        final List<String> threads = new ArrayList<>();

        Recorder(int size) {
            bytes = new byte[size];
        }

        @Override
        public synchronized void write(long offset, ByteBuffer b) throws IOException {
            threads.add(Thread.currentThread().getName());
            b.get(bytes, (int) offset, b.remaining());
        }

        @Override
        public synchronized void hashed(long length) {
            prefixes.add(length);
        }
    }

    /** Never ends; counts its reads. */
    static InputStream endless(AtomicInteger reads) {
        return new InputStream() {
            @Override
            public int read() {
                throw new UnsupportedOperationException();
            }

            @Override
            public int read(byte[] b, int off, int len) {
                reads.incrementAndGet();
                return len;
            }
        };
    }

    /** {@code chunks} full chunks, then fails the next read; {@code beforeFailing} runs right before. */
    static InputStream failingAfter(int chunks, Runnable beforeFailing) {
        return new InputStream() {
            long served;

            @Override
            public int read() {
                throw new UnsupportedOperationException();
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (served == (long) chunks * CHUNK) {
                    beforeFailing.run();
                    throw new IOException("connection reset");
                }
                int n = (int) Math.min(len, (long) chunks * CHUNK - served);
                served += n;
                return n;
            }
        };
    }

    @Test
    void everyByteLandsAtItsOffsetWrittenByTheWriterWithPrefixesInOrder() throws Exception {
        byte[] blob = new byte[10 * CHUNK + 123];
        new Random(7).nextBytes(blob);
        Recorder sink = new Recorder(blob.length);

        long end = BlobSink.copyInOrderBehind(new ByteArrayInputStream(blob), sink, CHUNK, 0, 3, "test-writer");

        assertThat(end).isEqualTo(blob.length);
        assertThat(sink.bytes).isEqualTo(blob);
        assertThat(sink.prefixes).hasSize(11).isSorted().doesNotHaveDuplicates().endsWith((long) blob.length);
        assertThat(sink.threads).as("every write on the writer thread").containsOnly("test-writer");
    }

    @Test
    void aStartOffsetShiftsEveryWriteAndTheEnd() throws Exception {
        byte[] rest = new byte[2 * CHUNK];
        new Random(8).nextBytes(rest);
        Recorder sink = new Recorder(5 * CHUNK);

        long end = BlobSink.copyInOrderBehind(new ByteArrayInputStream(rest), sink, CHUNK, 3 * CHUNK, 2, "w");

        assertThat(end).isEqualTo(5 * CHUNK);
        assertThat(java.util.Arrays.copyOfRange(sink.bytes, 3 * CHUNK, 5 * CHUNK)).isEqualTo(rest);
        assertThat(sink.prefixes).containsExactly(4L * CHUNK, 5L * CHUNK);
    }

    @Test
    void aWriteThatFailsStopsTheReadsAndReachesTheCaller() {
        AtomicInteger reads = new AtomicInteger();
        InputStream endless = endless(reads);
        IOException diskFull = new IOException("No space left on device");
        BlobSink sink = new Recorder(0) {
            @Override
            public synchronized void write(long offset, ByteBuffer b) throws IOException {
                throw diskFull;
            }
        };

        assertThatThrownBy(() -> BlobSink.copyInOrderBehind(endless, sink, CHUNK, 0, 3, "w")).isSameAs(diskFull);
        // the reader holds at most 3 chunks and reads one chunk per free buffer
        assertThat(reads.get()).as("one read per buffer, none after the failure").isLessThanOrEqualTo(3);
    }

    static void awaitLatch(CountDownLatch latch) {
        try {
            assertThat(latch.await(10, TimeUnit.SECONDS)).isTrue();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /** Whether {@code t} waits in the copy's stop: the reader failed and the writer was told to end. */
    static boolean stopping(Thread t) {
        return t.getState() == Thread.State.WAITING && java.util.Arrays.stream(t.getStackTrace())
                .anyMatch(f -> f.getMethodName().equals("stopAndJoin"));
    }

    @Test
    void aFailedReadReturnsOnlyAfterTheWriteInProgressEndedAndWritesNothingQueuedAfterIt() {
        Thread caller = Thread.currentThread();
        CountDownLatch writing = new CountDownLatch(1);
        AtomicInteger writesDone = new AtomicInteger();
        Recorder sink = new Recorder(3 * CHUNK) {
            @Override
            public void write(long offset, ByteBuffer b) throws IOException {
                writing.countDown();
                // the first write is still going on when the read fails and the caller stops the copy
                await().atMost(Duration.ofSeconds(10)).until(() -> stopping(caller));
                super.write(offset, b);
                writesDone.incrementAndGet();
            }
        };

        assertThatThrownBy(() -> BlobSink.copyInOrderBehind(failingAfter(2, () -> awaitLatch(writing)), sink, CHUNK, 0, 3, "w"))
                .hasMessage("connection reset");

        assertThat(writesDone.get()).as("the write in progress finished before the copy returned").isEqualTo(1);
        assertThat(sink.prefixes).as("the second chunk, queued, was not written after the failure")
                .containsExactly((long) CHUNK);
    }

    @Test
    void anInterruptedCallerInterruptsTheWriteInProgressAndKeepsItsInterruptFlag() throws Exception {
        AtomicInteger reads = new AtomicInteger();
        InputStream endless = endless(reads);
        CountDownLatch never = new CountDownLatch(1);
        CountDownLatch writing = new CountDownLatch(1);
        CompletableFuture<Boolean> writeInterrupted = new CompletableFuture<>();
        Recorder sink = new Recorder(4 * CHUNK) {
            @Override
            public void write(long offset, ByteBuffer b) throws IOException {
                writing.countDown();
                try {
                    never.await(); // a write that would not end on its own (a stuck upload)
                } catch (InterruptedException e) {
                    writeInterrupted.complete(true);
                    throw new InterruptedIOException();
                }
                super.write(offset, b);
            }
        };
        CompletableFuture<Throwable> thrown = new CompletableFuture<>();
        CompletableFuture<Boolean> interruptedAfter = new CompletableFuture<>();
        Thread caller = new Thread(() -> {
            try {
                BlobSink.copyInOrderBehind(endless, sink, CHUNK, 0, 2, "w");
                thrown.complete(null);
            } catch (Throwable t) {
                thrown.complete(t);
            }
            interruptedAfter.complete(Thread.currentThread().isInterrupted());
        });
        caller.start();
        // the writer stuck in its first write, both buffers read: the caller waits for a free buffer
        awaitLatch(writing);
        await().atMost(Duration.ofSeconds(10)).until(() -> reads.get() == 2 && caller.getState() == Thread.State.WAITING);

        caller.interrupt();

        assertThat(thrown.get(10, TimeUnit.SECONDS)).isInstanceOf(InterruptedIOException.class);
        assertThat(interruptedAfter.get(10, TimeUnit.SECONDS)).as("the caller's flag is kept").isTrue();
        assertThat(writeInterrupted).as("the write in progress was interrupted").isCompletedWithValue(true);
        assertThat(sink.prefixes).as("nothing written after it").isEmpty();
    }
}
