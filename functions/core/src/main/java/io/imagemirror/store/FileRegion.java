package io.imagemirror.store;

import java.nio.channels.FileChannel;

/**
 * Implemented by a {@link BlobStore.Content} stream that is a region of a local file, so a server
 * can hand the region to the socket without copying it through the heap (a file-backed store's
 * blobs; see the local server). Reading the stream still works as usual; the stream owns the
 * channel and closing it closes the channel.
 */
public interface FileRegion {
    /** The open file; do not close it directly. */
    FileChannel channel();

    /** Where the region starts in the file. */
    long position();

    /** How many bytes it covers. */
    long length();

    /**
     * Waits until the file holds the region's bytes from {@code offset} (an absolute file position)
     * on, and returns the position up to which they may be sent. A complete file answers at once
     * with the region's end; a file still being written (a pull-through spool) blocks until more has
     * arrived, and fails if the write fails.
     */
    default long awaitAvailable(long offset) throws java.io.IOException {
        return position() + length();
    }
}
