package io.imagemirror.oci;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;

/**
 * Where a fetch writes a blob's bytes at their offsets: a temp file, a spool, a multipart upload.
 * A fetch over parallel ranged GETs calls {@link #write} from several threads at once, for
 * distinct ranges, in any order; the bytes are not verified yet when they arrive. The fetch hashes
 * them in order as the contiguous prefix grows and reports that prefix with {@link #hashed}; it
 * returns only after the whole blob matched its digest and size, and throws otherwise. So a sink
 * must not make anything visible before the fetch returned (commit after it, discard on failure).
 *
 * <p>Implementations must be thread-safe for writes to distinct ranges.
 */
public interface BlobSink {

    /**
     * Writes {@code bytes} (from its position to its limit) at {@code offset} of the blob. The
     * buffer is the caller's again when this returns.
     */
    void write(long offset, ByteBuffer bytes) throws IOException;

    /**
     * The first {@code length} bytes have been written and hashed in order. Called with growing
     * values, one at a time; the last call ({@code length} = size) comes before the fetch returns
     * (before the digest check, or after it where the writes run behind the reads).
     */
    default void hashed(long length) throws IOException {
    }

    /**
     * Copies {@code in} into {@code sink} in order, from offset 0, reporting each written prefix as
     * hashed; returns the size at the end. For a verifying stream the end comes only after its check
     * ({@code readNBytes} is short only there).
     */
    static long copyInOrder(InputStream in, BlobSink sink, int chunk) throws IOException {
        return copyInOrder(in, sink, chunk, 0);
    }

    /** {@link #copyInOrder(InputStream, BlobSink, int)} of bytes from {@code start} on; returns the end position. */
    static long copyInOrder(InputStream in, BlobSink sink, int chunk, long start) throws IOException {
        byte[] buf = new byte[chunk];
        long position = start;
        while (true) {
            int n = in.readNBytes(buf, 0, buf.length);
            if (n > 0) {
                sink.write(position, ByteBuffer.wrap(buf, 0, n));
                position += n;
                sink.hashed(position);
            }
            if (n < buf.length) {
                return position;
            }
        }
    }

    /**
     * {@link #copyInOrder(InputStream, BlobSink, int, long)} with the sink's writes on a thread of
     * their own (named {@code writerName}), up to {@code depth} chunks behind the reads, so reading
     * and writing overlap; {@link #hashed} is then reported from that thread, after each write, and
     * its last call may follow the stream's digest check. Returns only after every chunk read was
     * written and the writer stopped, also when it fails.
     */
    static long copyInOrderBehind(InputStream in, BlobSink sink, int chunk, long start, int depth, String writerName)
            throws IOException {
        return WriteBehindCopy.copy(in, sink, chunk, start, depth, writerName);
    }
}
