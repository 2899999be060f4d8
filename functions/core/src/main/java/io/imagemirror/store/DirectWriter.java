package io.imagemirror.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Writes a blob file of known size with {@code O_DIRECT}: the bytes go from our buffer to the
 * disk without the page cache (a local store's uploads, a pull-through spool). A buffered write copies every byte into the page cache in the
 * kernel (about 1.2 CPU-seconds per 512 MiB on this project's VM, as much as hashing and
 * receiving together) and leaves the disk write to the final fsync; a direct write costs neither,
 * and the disk works while the transfer goes on. The fetcher writes at offsets that are multiples
 * of 1 MiB, so only the blob's last piece is not block-aligned: it is written padded to a block
 * and the file is cut to its size at {@link #finish()}. Writes that are not aligned (another
 * caller) go through a second, buffered channel. Thread-safe for writes to distinct ranges.
 */
public final class DirectWriter implements AutoCloseable {

    /** Bytes per direct write, through an aligned buffer of ours. */
    private static final int SLICE = 1 << 20;
    /**
     * Aligned direct buffers to copy heap bytes into. The JDK would do the copy itself, but its
     * per-thread cache of aligned temporary buffers fails on the next buffered read of the same
     * thread (an NPE freeing an aligned slice, JDK 17.0.15), so the copy is ours.
     */
    private final java.util.concurrent.ConcurrentLinkedQueue<ByteBuffer> aligned =
            new java.util.concurrent.ConcurrentLinkedQueue<>();

    private final FileChannel direct;
    private final FileChannel buffered;
    private final int block;
    private final long size;
    private final AtomicLong end = new AtomicLong();
    private volatile boolean padded;

    private DirectWriter(FileChannel direct, FileChannel buffered, int block, long size) {
        this.direct = direct;
        this.buffered = buffered;
        this.block = block;
        this.size = size;
    }

    /** Opens {@code file} for direct writes, or returns null where the file system does not allow them. */
    public static DirectWriter open(Path file, long size) {
        FileChannel d = null;
        try {
            long bs = Files.getFileStore(file).getBlockSize();
            if (bs <= 0 || bs > SLICE || Long.bitCount(bs) != 1) {
                return null;
            }
            d = FileChannel.open(file, StandardOpenOption.WRITE, com.sun.nio.file.ExtendedOpenOption.DIRECT);
            FileChannel b = FileChannel.open(file, StandardOpenOption.WRITE);
            return new DirectWriter(d, b, (int) bs, size);
        } catch (IOException | UnsupportedOperationException e) {
            if (d != null) {
                try {
                    d.close();
                } catch (IOException ignored) {
                    // not opened for use
                }
            }
            return null; // tmpfs and some others refuse O_DIRECT: the caller writes buffered
        }
    }

    public void write(long offset, ByteBuffer bytes) throws IOException {
        int n = bytes.remaining();
        end.accumulateAndGet(offset + n, Math::max);
        if (offset % block != 0) {
            writeFully(buffered, bytes, offset);
            return;
        }
        int whole = n - n % block;
        ByteBuffer b = bytes.duplicate();
        ByteBuffer buf = take();
        try {
            for (int done = 0; done < whole; done += SLICE) {
                int len = Math.min(SLICE, whole - done);
                b.limit(bytes.position() + done + len).position(bytes.position() + done);
                buf.clear();
                buf.put(b).flip();
                writeFully(direct, buf, offset + done);
            }
            int tail = n - whole;
            if (tail > 0) {
                b.limit(bytes.position() + n).position(bytes.position() + whole);
                if (offset + n == size) {
                    buf.clear();
                    buf.put(b);
                    while (buf.position() % block != 0) {
                        buf.put((byte) 0);
                    }
                    buf.flip();
                    writeFully(direct, buf, offset + whole);
                    padded = true;
                } else {
                    writeFully(buffered, b, offset + whole);
                }
            }
        } finally {
            aligned.add(buf);
        }
        bytes.position(bytes.limit());
    }

    private ByteBuffer take() {
        ByteBuffer b = aligned.poll();
        return b != null ? b : ByteBuffer.allocateDirect(SLICE + block).alignedSlice(block).limit(SLICE);
    }

    private static void writeFully(FileChannel ch, ByteBuffer b, long position) throws IOException {
        while (b.hasRemaining()) {
            position += ch.write(b, position);
        }
    }

    /** The end of the furthest write so far. */
    public long end() {
        return end.get();
    }

    /** Cuts the padding off and makes the file durable. */
    public void finish() throws IOException {
        if (padded) {
            buffered.truncate(size);
        }
        buffered.force(true);
    }

    @Override
    public void close() {
        for (FileChannel c : new FileChannel[] {direct, buffered}) {
            try {
                c.close();
            } catch (IOException ignored) {
                // closing after a failure or after finish()
            }
        }
    }
}
