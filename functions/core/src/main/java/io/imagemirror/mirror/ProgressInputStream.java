package io.imagemirror.mirror;

import io.imagemirror.oci.Digest;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/** Counts bytes as they pass and reports them to a listener at most every 1 MiB (and at the end). */
final class ProgressInputStream extends FilterInputStream implements io.imagemirror.oci.Verified {
    private static final long STEP = 1 << 20;

    private final Digest digest;
    private final long size;
    private final MirrorListener listener;
    private long done;
    private long reported;

    ProgressInputStream(InputStream in, Digest digest, long size, MirrorListener listener) {
        super(in);
        this.digest = digest;
        this.size = size;
        this.listener = listener;
    }

    @Override
    public boolean verifies(Digest d, long n) {
        return in instanceof io.imagemirror.oci.Verified v && v.verifies(d, n);
    }

    @Override
    public int read() throws IOException {
        int b = super.read();
        if (b >= 0) {
            advance(1);
        }
        return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = super.read(b, off, len);
        if (n > 0) {
            advance(n);
        } else if (n < 0 && reported != done) {
            reported = done;
            listener.blobProgress(digest, done, size);
        }
        return n;
    }

    private void advance(int n) {
        done += n;
        if (done - reported >= STEP || done == size) {
            reported = done;
            listener.blobProgress(digest, done, size);
        }
    }

    long bytes() {
        return done;
    }

    /** {@code sink}, reporting its hashed prefix to {@code listener} at most every 1 MiB (and at the end). */
    static io.imagemirror.oci.BlobSink reporting(io.imagemirror.oci.BlobSink sink, Digest digest, long size,
                                                 MirrorListener listener) {
        return new io.imagemirror.oci.BlobSink() {
            private long reported;

            @Override
            public void write(long offset, java.nio.ByteBuffer bytes) throws IOException {
                sink.write(offset, bytes);
            }

            @Override
            public void hashed(long length) throws IOException {
                sink.hashed(length);
                if (length - reported >= STEP || length == size) {
                    reported = length;
                    listener.blobProgress(digest, length, size);
                }
            }
        };
    }
}
