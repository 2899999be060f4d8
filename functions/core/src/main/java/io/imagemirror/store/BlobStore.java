package io.imagemirror.store;

import io.imagemirror.oci.ContentMismatchException;
import io.imagemirror.oci.Digest;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * Immutable content addressed by digest: layers and configs in one store, raw manifest bytes in
 * another (see {@link Storage}). Nothing is ever visible under a digest unless its bytes hashed to
 * that digest and had the declared size (DESIGN.md §5, invariant 1).
 *
 * <p>Implementations are thread-safe; the same digest may be put by many threads or processes at
 * once. Every operation is idempotent. Backend failures surface as {@link StoreException}; "absent"
 * is an empty {@link Optional}, never an exception.
 */
public interface BlobStore {

    /**
     * What {@link #put} did. Both outcomes mean the content is now stored; use the difference for
     * reporting only ("already exists"), never for correctness: on S3 a PUT retried by the SDK
     * after its first attempt was stored reports {@link #ALREADY_EXISTS}.
     */
    enum PutResult {
        /** This call wrote the object. */
        STORED,
        /** The object was already there; nothing was written and the stream may be left unread. */
        ALREADY_EXISTS
    }

    /** A stored object: its digest, size and when it was written. */
    record Info(Digest digest, long size, Instant lastModified) {
    }

    /**
     * An open object, or a range of it. The caller closes it (closing {@link #stream()}).
     *
     * @param stream the bytes, exactly {@code length} of them
     * @param offset the position of the first byte in the whole object
     * @param length how many bytes the stream yields
     * @param size the size of the whole object
     */
    record Content(InputStream stream, long offset, long length, long size) implements Closeable {
        @Override
        public void close() throws IOException {
            stream.close();
        }

        /** Whether this is less than the whole object (an HTTP 206 rather than 200). */
        public boolean isPartial() {
            return offset != 0 || length != size;
        }
    }

    /** Whether an object is stored under {@code digest}. */
    default boolean exists(Digest digest) {
        return stat(digest).isPresent();
    }

    /** The stored object's size and time, or empty. */
    Optional<Info> stat(Digest digest);

    /**
     * Stores the bytes of {@code in}, which must be exactly {@code size} bytes hashing to
     * {@code digest}: they pass through a {@link io.imagemirror.oci.VerifyingInputStream} and
     * become visible only after it verified them. On any failure nothing becomes visible and the
     * temporary data is removed (or left to the backend's own cleanup, such as an aborted upload).
     * An object already present is not rewritten. The stream is read but not closed: the caller
     * owns it.
     *
     * @throws ContentMismatchException if the bytes are not what {@code digest} and {@code size} say
     * @throws IOException if reading {@code in} fails
     */
    PutResult put(Digest digest, long size, InputStream in) throws IOException;

    /**
     * Stores a complete local file whose bytes were already verified against {@code digest} and
     * {@code size} as they were written (a pull-through spool). A store on the same filesystem may
     * take the file over without copying it (the local store links it into place); the default
     * streams it through {@link #put}. The file is left for the caller to delete.
     */
    default PutResult putFile(Digest digest, long size, java.nio.file.Path file) throws IOException {
        try (InputStream in = java.nio.file.Files.newInputStream(file)) {
            return put(digest, size, in);
        }
    }

    /**
     * A blob being written at its offsets, in any order and from several threads at once (a fetch
     * with parallel ranged GETs, {@code RegistryClient#fetchBlob}), invisible until
     * {@link #commit()}. Closing it without a commit discards what was written. The writer
     * verifies the bytes; commit only after it returned (see {@link io.imagemirror.oci.BlobSink}).
     */
    interface Upload extends io.imagemirror.oci.BlobSink, Closeable {
        /** Makes the written, verified blob visible (durably); idempotent like {@link #put}. */
        PutResult commit() throws IOException;

        /** Discards the upload unless it was committed. */
        @Override
        void close();
    }

    /**
     * Starts an {@link Upload} of {@code digest}, or empty when this store cannot take a blob at
     * offsets (then use {@link #put}) or already has it (then there is nothing to write).
     */
    default Optional<Upload> startUpload(Digest digest, long size) throws IOException {
        return Optional.empty();
    }

    /**
     * Opens the object, or the given range of it.
     *
     * @return empty when nothing is stored under {@code digest}
     * @throws RangeNotSatisfiableException if the range starts at or past the end of the object
     */
    Optional<Content> open(Digest digest, ByteRange range);

    /** Opens the whole object. */
    default Optional<Content> open(Digest digest) {
        return open(digest, ByteRange.ALL);
    }

    /** Removes the object; removing an absent object is not an error. */
    void delete(Digest digest);

    /** Stored objects in digest order, with their size and last-modified time. */
    Page<Info> list(int limit, String pageToken);

    /**
     * A URL a client can GET the object from directly for {@code ttl}, where the backend can sign
     * one (S3); empty otherwise. It is not checked that the object exists.
     */
    Optional<URI> presignGet(Digest digest, Duration ttl);
}
