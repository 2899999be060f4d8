package io.imagemirror.local.store;

import io.imagemirror.store.StoreException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.Consumer;

/**
 * One process at a time on a local store's directory: an exclusive lock on {@code <data>/lock},
 * which holds the owner's PID so a second process can say who has it. The operating system drops
 * the lock when its process ends, however it ends ({@code kill -9} included), so a stale lock never
 * needs clearing. Whoever takes it owns every temp file there: {@code tmp/} (partial puts) and
 * {@code spool/} (pull-through fills) are cleared at once, since only a dead process can have left
 * them. The lock file itself stays (deleting it would let two processes lock two different files).
 */
public final class DataDirectoryLock implements AutoCloseable {

    static final String FILE = "lock";
    private static final String[] SCRATCH = {"tmp", "spool"};

    private final FileChannel channel;
    private final FileLock lock;

    private DataDirectoryLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Takes the lock on {@code data} (creating the directory), then clears its scratch directories.
     *
     * @param wait whether to wait for the holder to finish instead of failing
     * @param waiting told once, with the holder's PID, when the call is about to wait
     * @throws StoreException when another process holds the lock and {@code wait} is false, naming it
     */
    public static DataDirectoryLock acquire(Path data, boolean wait, Consumer<String> waiting) {
        Path file = data.resolve(FILE);
        FileChannel channel = null;
        try {
            Files.createDirectories(data);
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException sameProcess) {
                throw new StoreException(data + " is already open in this process", sameProcess);
            }
            if (lock == null) {
                String holder = holder(channel);
                if (!wait) {
                    throw new StoreException(data + " is in use by another image-mirror process (PID " + holder
                            + "); stop it, use another --data directory, or pass --wait to wait for it", null);
                }
                waiting.accept("waiting for image-mirror process " + holder + " to release " + data);
                lock = channel.lock();
            }
            ByteBuffer pid = ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII));
            channel.truncate(0);
            for (long at = 0; pid.hasRemaining(); ) {
                at += channel.write(pid, at);
            }
            channel.force(true);
            DataDirectoryLock held = new DataDirectoryLock(channel, lock);
            held.clearScratch(data);
            return held;
        } catch (IOException e) {
            closeQuietly(channel);
            throw new StoreException("cannot lock " + file + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(channel);
            throw e;
        }
    }

    /** The PID the holder wrote, or "unknown" while it has not written it yet. */
    private static String holder(FileChannel channel) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(32);
        channel.read(buf, 0);
        String pid = new String(buf.array(), 0, buf.position(), StandardCharsets.US_ASCII).trim();
        return pid.matches("\\d+") ? pid : "unknown";
    }

    /** Removes everything in {@code tmp/} and {@code spool/}: no live process can be writing there now. */
    private void clearScratch(Path data) throws IOException {
        for (String name : SCRATCH) {
            Path dir = data.resolve(name);
            if (!Files.isDirectory(dir)) {
                continue;
            }
            try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
                for (Path f : files) {
                    if (Files.isRegularFile(f)) {
                        Files.deleteIfExists(f);
                    }
                }
            }
        }
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // already failing
            }
        }
    }

    @Override
    public void close() throws IOException {
        try {
            lock.release();
        } finally {
            channel.close();
        }
    }
}
