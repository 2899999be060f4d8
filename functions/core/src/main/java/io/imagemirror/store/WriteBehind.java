package io.imagemirror.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Writes a file at offsets and flushes it to disk behind the writer: every {@value #STEP_MIB} MiB
 * written, a background thread forces the file while the writes go on, so the fsync that must
 * come before the file becomes visible ({@link #finish()}) finds little left to write. Without it
 * the disk only starts on a large blob when the transfer is over (about a second per 512 MiB on a
 * virtio disk). Writes from several threads to distinct ranges are fine; {@link #finish()} comes
 * after the last of them. The caller owns and closes the channel.
 */
public final class WriteBehind {

    static final int STEP_MIB = 16;
    private static final int SLICE = 1 << 20;
    private static final long STEP = (long) STEP_MIB << 20;
    private static final ExecutorService FLUSHER = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "write-behind");
        t.setDaemon(true);
        return t;
    });

    private final FileChannel channel;
    private final AtomicLong sinceFlush = new AtomicLong();
    private final AtomicBoolean flushing = new AtomicBoolean();
    private final AtomicLong size = new AtomicLong();

    public WriteBehind(FileChannel channel) {
        this.channel = channel;
    }

    /** Writes all of {@code bytes} at {@code offset}. */
    public void write(long offset, ByteBuffer bytes) throws IOException {
        long position = offset;
        int n = bytes.remaining();
        int limit = bytes.limit();
        // At most 1 MiB per write: the JDK copies a heap buffer through a temporary direct buffer
        // of the same size, cached per thread, and 8 MiB parts on 4 threads would keep 32 MiB of them.
        while (bytes.position() < limit) {
            bytes.limit(Math.min(limit, bytes.position() + SLICE));
            while (bytes.hasRemaining()) {
                position += channel.write(bytes, position);
            }
            bytes.limit(limit);
        }
        size.accumulateAndGet(position, Math::max);
        if (sinceFlush.addAndGet(n) >= STEP && flushing.compareAndSet(false, true)) {
            sinceFlush.set(0);
            FLUSHER.execute(() -> {
                try {
                    channel.force(false);
                } catch (IOException e) {
                    // closed or failing: the final force in finish() reports what matters
                } finally {
                    flushing.set(false);
                }
            });
        }
    }

    /** The end of the furthest write so far. */
    public long size() {
        return size.get();
    }

    /** Forces the file's data and metadata to disk (what is left of them). */
    public void finish() throws IOException {
        channel.force(true);
    }
}
