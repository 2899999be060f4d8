package io.imagemirror.oci;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * {@link BlobSink#copyInOrder} with the sink's writes on a second thread: the calling thread reads
 * (and so hashes, for a verifying stream) the next chunks while the writer puts the earlier ones
 * on disk, at most {@code depth} chunks in memory. A direct write blocks its thread until the
 * device has the bytes, so one thread alternating between the network and the disk leaves each
 * idle half the time; two overlap them.
 *
 * <p>The writer thread is this copy's own, not a pool's: the reader waits for free buffers, so a
 * writer that an executor queued behind other work would stall it. The copy returns only after the
 * writer wrote every chunk read and stopped; a failure on either side stops both, the writer after
 * the write it is in. An interrupted caller (a cancelled or timed-out copy) interrupts that write
 * too, as it would have interrupted its own write without the writer thread. {@link
 * BlobSink#hashed} is called by the writer, after each chunk was written, in order.
 */
final class WriteBehindCopy implements Runnable {

    private record Chunk(byte[] bytes, long offset, int length) {
    }

    private final BlobSink sink;
    // all guarded by `this`
    private final ArrayDeque<byte[]> free = new ArrayDeque<>();
    private final ArrayDeque<Chunk> queued = new ArrayDeque<>();
    private boolean readDone;
    private boolean stop;
    private boolean writerRunning = true;
    private Throwable writeFailure;

    private WriteBehindCopy(BlobSink sink, int chunk, int depth) {
        this.sink = sink;
        for (int i = 0; i < depth; i++) {
            free.add(new byte[chunk]);
        }
    }

    static long copy(InputStream in, BlobSink sink, int chunk, long start, int depth, String threadName)
            throws IOException {
        WriteBehindCopy copy = new WriteBehindCopy(sink, chunk, depth);
        Thread writer = new Thread(copy, threadName);
        writer.setDaemon(true);
        writer.start();
        long position = start;
        try {
            while (true) {
                byte[] buf = copy.takeFree();
                int n = in.readNBytes(buf, 0, buf.length);
                copy.queue(buf, position, n);
                position += n;
                if (n < buf.length) {
                    copy.awaitWritten();
                    return position;
                }
            }
        } catch (IOException | RuntimeException | Error e) {
            copy.stopAndJoin(writer, e instanceof InterruptedIOException || Thread.currentThread().isInterrupted());
            throw e;
        }
    }

    private synchronized byte[] takeFree() throws IOException {
        while (free.isEmpty() && writeFailure == null) {
            waitInterruptibly();
        }
        rethrowWriteFailure();
        return free.poll();
    }

    private synchronized void queue(byte[] buf, long offset, int n) {
        if (n > 0) {
            queued.add(new Chunk(buf, offset, n));
        } else {
            free.add(buf);
        }
        if (n < buf.length) {
            readDone = true;
        }
        notifyAll();
    }

    /** After the last read: waits until the writer wrote everything queued. */
    private synchronized void awaitWritten() throws IOException {
        while (writerRunning && writeFailure == null) {
            waitInterruptibly();
        }
        rethrowWriteFailure();
    }

    private void waitInterruptibly() throws InterruptedIOException {
        try {
            wait();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while writing a blob");
        }
    }

    private void rethrowWriteFailure() throws IOException {
        Throwable t = writeFailure;
        if (t instanceof IOException e) {
            throw e;
        }
        if (t instanceof RuntimeException e) {
            throw e;
        }
        if (t instanceof Error e) {
            throw e;
        }
    }

    /**
     * The reader failed: the writer ends after the write it is in (interrupted when {@code
     * interrupt}), and the caller waits for that.
     */
    private synchronized void stopAndJoin(Thread writer, boolean interrupt) {
        stop = true;
        notifyAll();
        if (interrupt) {
            writer.interrupt();
        }
        boolean interrupted = Thread.interrupted();
        while (writerRunning) {
            try {
                wait();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void run() {
        try {
            while (true) {
                Chunk c;
                synchronized (this) {
                    while (queued.isEmpty() && !readDone && !stop) {
                        wait();
                    }
                    if (stop || queued.isEmpty()) {
                        return;
                    }
                    c = queued.poll();
                }
                sink.write(c.offset, ByteBuffer.wrap(c.bytes, 0, c.length));
                sink.hashed(c.offset + c.length);
                synchronized (this) {
                    free.add(c.bytes);
                    notifyAll();
                }
            }
        } catch (Throwable t) {
            synchronized (this) {
                writeFailure = t instanceof InterruptedException
                        ? new InterruptedIOException("blob writer interrupted") : t;
            }
        } finally {
            synchronized (this) {
                writerRunning = false;
                notifyAll();
            }
        }
    }
}
