package io.imagemirror.local.store;

import io.imagemirror.oci.BlobSink;
import io.imagemirror.oci.Digest;
import io.imagemirror.oci.InvalidDigestException;
import io.imagemirror.oci.VerifyingInputStream;
import io.imagemirror.store.BlobStore;
import io.imagemirror.store.ByteRange;
import io.imagemirror.store.Page;
import io.imagemirror.store.RangeNotSatisfiableException;
import io.imagemirror.store.StoreException;
import io.imagemirror.store.DirectWriter;
import io.imagemirror.store.WriteBehind;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A {@link BlobStore} in a directory: {@code <data>/<namespace>/<algorithm>/<first two hex>/<hex>},
 * e.g. {@code <data>/blobs/sha256/ab/ab12…}. A put streams through a
 * {@link VerifyingInputStream} into a temp file under {@code <data>/tmp}, fsyncs it, and only
 * when the digest matched hard-links it into place; {@code link(2)} fails if the name exists, so
 * an object is never rewritten and concurrent puts of one digest create it once. Temp files are
 * removed on every failure; ones left by a killed process are cleared when the data directory is
 * opened ({@link DataDirectoryLock}: one process at a time).
 *
 * <p>Thread-safe. Streams from
 * {@link #open} are the caller's to close.
 */
public final class FileBlobStore implements BlobStore {

    private static final String TEMP_SUFFIX = ".part";
    /** Bytes per write of a streamed put: few system calls, and the write-behind sees large steps. */
    private static final int WRITE_CHUNK = 1 << 20;

    private final Path root;
    private final Path tmp;

    /**
     * @param data the data directory ({@code --data})
     * @param namespace the subdirectory, {@code blobs} or {@code manifests}
     */
    public FileBlobStore(Path data, String namespace) {
        if (!namespace.matches("[a-z]+")) {
            throw new IllegalArgumentException("namespace must be lowercase letters: " + namespace);
        }
        this.root = data.resolve(namespace);
        this.tmp = data.resolve("tmp");
        try {
            Files.createDirectories(root);
            Files.createDirectories(tmp);
        } catch (IOException e) {
            throw new StoreException("cannot create " + root + " or " + tmp + ": " + e.getMessage(), e);
        }
        // Part files a dead process left are cleared by DataDirectoryLock when the directory is opened.
    }

    /** The store for layers and configs under {@code <data>/blobs}. */
    public static FileBlobStore blobs(Path data) {
        return new FileBlobStore(data, "blobs");
    }

    /** The store for raw manifests under {@code <data>/manifests}. */
    public static FileBlobStore manifests(Path data) {
        return new FileBlobStore(data, "manifests");
    }

    /** Where the object for {@code digest} lives (whether or not it exists). */
    public Path pathOf(Digest digest) {
        return root.resolve(digest.algorithm().id()).resolve(digest.hex().substring(0, 2)).resolve(digest.hex());
    }

    @Override
    public Optional<Info> stat(Digest digest) {
        try {
            BasicFileAttributes a = Files.readAttributes(pathOf(digest), BasicFileAttributes.class);
            return Optional.of(new Info(digest, a.size(), a.lastModifiedTime().toInstant()));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw failure("stat", digest, e);
        }
    }

    /**
     * Links an already verified, fsynced file (a pull-through spool on the same filesystem) into
     * place instead of copying it; elsewhere, or if links are not possible, it is copied and
     * verified through {@link #put}.
     */
    @Override
    public PutResult putFile(Digest digest, long size, Path file) throws IOException {
        Path target = pathOf(digest);
        if (Files.exists(target)) {
            return PutResult.ALREADY_EXISTS;
        }
        if (Files.size(file) != size) {
            throw new IOException("file for " + digest + " has " + Files.size(file) + " bytes, not " + size);
        }
        Files.createDirectories(target.getParent());
        try {
            Files.createLink(target, file);
        } catch (FileAlreadyExistsException e) {
            return PutResult.ALREADY_EXISTS;
        } catch (UnsupportedOperationException | IOException e) {
            // another filesystem, or no hard links: copy and verify
            try (InputStream in = Files.newInputStream(file)) {
                return put(digest, size, in);
            }
        }
        syncDirectory(target.getParent());
        return PutResult.STORED;
    }

    @Override
    public PutResult put(Digest digest, long size, InputStream in) throws IOException {
        Path target = pathOf(digest);
        if (Files.exists(target)) {
            return PutResult.ALREADY_EXISTS;
        }
        Path temp = Files.createTempFile(tmp, digest.hex().substring(0, 12) + "-", TEMP_SUFFIX);
        try {
            // The caller owns `in`: the verifying wrapper is not closed, as that would close it.
            // Hashed here unless `in` verifies this digest and size itself (a blob from upstream does).
            InputStream verifying = VerifyingInputStream.over(in, digest, size);
            try (FileChannel out = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                WriteBehind disk = new WriteBehind(out);
                // A small blob in one read (one byte more, to see its end); the end is reported only
                // after the bytes were verified.
                BlobSink.copyInOrder(verifying, disk::write,
                        size >= 0 && size < WRITE_CHUNK ? (int) size + 1 : WRITE_CHUNK);
                disk.finish();
            }
            return publish(temp, target);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /**
     * An upload into a temp file written at offsets, linked into place by {@link Upload#commit()}
     * (see {@link #put}). Written with {@code O_DIRECT} where the file system allows it
     * ({@link DirectWriter}: no page-cache copy, the disk busy during the transfer), else buffered
     * with the disk flushed behind the writers ({@link WriteBehind}).
     */
    @Override
    public Optional<Upload> startUpload(Digest digest, long size) throws IOException {
        Path target = pathOf(digest);
        if (size < 0 || Files.exists(target)) {
            return Optional.empty();
        }
        Path temp = Files.createTempFile(tmp, digest.hex().substring(0, 12) + "-", TEMP_SUFFIX);
        DirectWriter direct = DirectWriter.open(temp, size);
        FileChannel out = null;
        WriteBehind buffered = null;
        if (direct == null) {
            try {
                out = FileChannel.open(temp, StandardOpenOption.WRITE);
            } catch (IOException e) {
                Files.deleteIfExists(temp);
                throw e;
            }
            buffered = new WriteBehind(out);
        }
        FileChannel channel = out;
        WriteBehind disk = buffered;
        return Optional.of(new Upload() {
            private boolean closed;

            @Override
            public void write(long offset, ByteBuffer bytes) throws IOException {
                if (offset < 0 || offset + bytes.remaining() > size) {
                    throw new IOException("write past the end of " + digest + " (" + size + " bytes)");
                }
                if (direct != null) {
                    direct.write(offset, bytes);
                } else {
                    disk.write(offset, bytes);
                }
            }

            @Override
            public synchronized PutResult commit() throws IOException {
                if (closed) {
                    throw new IllegalStateException("upload of " + digest + " is closed");
                }
                long written = direct != null ? direct.end() : disk.size();
                if (written != size) {
                    throw new IOException("upload of " + digest + " has " + written + " bytes, not " + size);
                }
                if (direct != null) {
                    direct.finish();
                    direct.close();
                } else {
                    disk.finish();
                    channel.close();
                }
                try {
                    return publish(temp, target);
                } finally {
                    close();
                }
            }

            @Override
            public synchronized void close() {
                if (closed) {
                    return;
                }
                closed = true;
                if (direct != null) {
                    direct.close();
                } else {
                    closeQuietly(channel);
                }
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException e) {
                    // left for DataDirectoryLock to clear at the next start
                }
            }
        });
    }

    /** Links a verified, fsynced temp file into place (never replacing an object) and syncs the directory. */
    private PutResult publish(Path temp, Path target) throws IOException {
        Files.createDirectories(target.getParent());
        PutResult result;
        try {
            Files.createLink(target, temp);
            result = PutResult.STORED;
        } catch (FileAlreadyExistsException e) {
            result = PutResult.ALREADY_EXISTS;
        } catch (UnsupportedOperationException e) {
            // No hard links here: rename, which may replace an identical, already verified file.
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            result = PutResult.STORED;
        }
        syncDirectory(target.getParent());
        return result;
    }

    private static void syncDirectory(Path dir) {
        // Makes the new name durable; not every platform lets a directory be opened for this.
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // best effort
        }
    }

    @Override
    public Optional<Content> open(Digest digest, ByteRange range) {
        FileChannel ch;
        try {
            ch = FileChannel.open(pathOf(digest), StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw failure("open", digest, e);
        }
        try {
            long size = ch.size();
            if (!range.satisfiableWithin(size)) {
                throw new RangeNotSatisfiableException(range, size);
            }
            long length = range.lengthWithin(size);
            ch.position(range.first());
            return Optional.of(new Content(new RegionStream(ch, range.first(), length), range.first(), length, size));
        } catch (IOException e) {
            closeQuietly(ch);
            throw failure("open", digest, e);
        } catch (RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing to do
        }
    }

    @Override
    public void delete(Digest digest) {
        try {
            Files.deleteIfExists(pathOf(digest));
        } catch (IOException e) {
            throw failure("delete", digest, e);
        }
    }

    @Override
    public Page<Info> list(int limit, String pageToken) {
        int max = Page.checkLimit(limit);
        Digest after = pageToken == null ? null : Digest.parse(pageToken);
        List<Info> items = new ArrayList<>();
        try {
            for (Path algDir : sortedChildren(root)) {
                String alg = algDir.getFileName().toString();
                if (after != null && alg.compareTo(after.algorithm().id()) < 0) {
                    continue;
                }
                for (Path prefixDir : sortedChildren(algDir)) {
                    String prefix = prefixDir.getFileName().toString();
                    if (after != null && alg.equals(after.algorithm().id())
                            && prefix.compareTo(after.hex().substring(0, 2)) < 0) {
                        continue;
                    }
                    for (Path file : sortedChildren(prefixDir)) {
                        Digest d;
                        try {
                            d = Digest.parse(alg + ":" + file.getFileName());
                        } catch (InvalidDigestException e) {
                            continue; // not ours
                        }
                        if (after != null && d.compareTo(after) <= 0) {
                            continue;
                        }
                        Optional<Info> info = stat(d);
                        if (info.isEmpty()) {
                            continue; // deleted meanwhile
                        }
                        if (items.size() == max) {
                            return new Page<>(items, items.get(max - 1).digest().toString());
                        }
                        items.add(info.get());
                    }
                }
            }
        } catch (IOException | UncheckedIOException e) {
            throw new StoreException("cannot list " + root + ": " + e.getMessage(), e);
        }
        return Page.last(items);
    }

    private static List<Path> sortedChildren(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        } catch (NoSuchFileException e) {
            return List.of();
        }
    }

    @Override
    public Optional<URI> presignGet(Digest digest, Duration ttl) {
        return Optional.empty();
    }

    private StoreException failure(String op, Digest digest, IOException e) {
        return new StoreException(op + " " + digest + " in " + root + " failed: " + e.getMessage(), e);
    }

    /** Yields at most {@code limit} bytes of the underlying stream. */
    /** A stored blob's bytes as a stream that also offers its file region, for zero-copy serving. */
    private static final class RegionStream extends LimitedInputStream implements io.imagemirror.store.FileRegion {
        private final FileChannel channel;
        private final long position;
        private final long length;

        RegionStream(FileChannel channel, long position, long length) {
            super(Channels.newInputStream(channel), length);
            this.channel = channel;
            this.position = position;
            this.length = length;
        }

        @Override
        public FileChannel channel() {
            return channel;
        }

        @Override
        public long position() {
            return position;
        }

        @Override
        public long length() {
            return length;
        }
    }

    private static class LimitedInputStream extends java.io.FilterInputStream {
        private long left;

        LimitedInputStream(InputStream in, long limit) {
            super(in);
            this.left = limit;
        }

        @Override
        public int read() throws IOException {
            if (left <= 0) {
                return -1;
            }
            int b = in.read();
            if (b >= 0) {
                left--;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (left <= 0) {
                return len == 0 ? 0 : -1;
            }
            int n = in.read(b, off, (int) Math.min(len, left));
            if (n > 0) {
                left -= n;
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            long s = in.skip(Math.min(n, left));
            left -= s;
            return s;
        }

        @Override
        public int available() throws IOException {
            return (int) Math.min(in.available(), left);
        }
    }
}
