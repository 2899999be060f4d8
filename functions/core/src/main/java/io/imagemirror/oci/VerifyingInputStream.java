package io.imagemirror.oci;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;

/**
 * Passes bytes through while hashing and counting them, and refuses content that is not what was
 * asked for: reading past the expected size fails at once, and reaching the end of the underlying
 * stream with a short count or a different digest fails with a {@link ContentMismatchException}.
 * The end-of-stream ({@code -1}) is only ever returned after the check passed, so a consumer that
 * reads to the end has verified bytes. This is the only way bytes enter storage.
 *
 * <p>Not thread-safe. Closing closes the underlying stream. {@link #mark} is not supported.
 */
public final class VerifyingInputStream extends FilterInputStream implements Verified {

    private final Digest expected;
    private final long expectedSize;
    private final MessageDigest hasher;
    private long count;
    private boolean verified;

    /**
     * @param in the bytes to check
     * @param expected the digest they must hash to
     * @param expectedSize their exact size, or -1 when unknown (then only the digest is checked)
     */
    public VerifyingInputStream(InputStream in, Digest expected, long expectedSize) {
        super(in);
        this.expected = expected;
        this.expectedSize = expectedSize;
        this.hasher = expected.newHasher();
    }

    /**
     * {@code in} itself when it already verifies {@code digest} and {@code size} (so bytes are hashed
     * once, not twice, on their way from upstream into a store), else a new verifying stream over it.
     */
    public static java.io.InputStream over(java.io.InputStream in, Digest digest, long size) {
        if (in instanceof Verified v && v.verifies(digest, size)) {
            return in;
        }
        return new VerifyingInputStream(in, digest, size);
    }

    @Override
    public boolean verifies(Digest digest, long size) {
        return expected.equals(digest) && (size < 0 || size == expectedSize);
    }

    /**
     * Continues a verification that already consumed {@code alreadyRead} bytes through
     * {@code hasher} — used to resume a download with a {@code Range} request.
     */
    public static VerifyingInputStream resume(InputStream rest, Digest expected, long expectedSize,
                                              MessageDigest hasher, long alreadyRead) {
        VerifyingInputStream s = new VerifyingInputStream(rest, expected, expectedSize, hasher);
        s.count = alreadyRead;
        return s;
    }

    private VerifyingInputStream(InputStream in, Digest expected, long expectedSize, MessageDigest hasher) {
        super(in);
        this.expected = expected;
        this.expectedSize = expectedSize;
        this.hasher = hasher;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        int want = len;
        if (expectedSize >= 0) {
            long left = expectedSize - count;
            if (left <= 0) {
                // Exactly the declared size has been read: the next byte must be the end.
                int extra = in.read();
                if (extra >= 0) {
                    throw new ContentMismatchException(ContentMismatchException.Kind.TOO_LONG, expected, null,
                            expectedSize, count + 1);
                }
                return finish();
            }
            want = (int) Math.min(len, left);
        }
        int n = in.read(b, off, want);
        if (n < 0) {
            return finish();
        }
        hasher.update(b, off, n);
        count += n;
        return n;
    }

    private int finish() throws ContentMismatchException {
        if (!verified) {
            if (expectedSize >= 0 && count < expectedSize) {
                throw new ContentMismatchException(ContentMismatchException.Kind.TOO_SHORT, expected, null,
                        expectedSize, count);
            }
            Digest got = Digest.fromHash(expected.algorithm(), hasher.digest());
            if (!got.equals(expected)) {
                throw new ContentMismatchException(ContentMismatchException.Kind.DIGEST, expected, got,
                        expectedSize, count);
            }
            verified = true;
        }
        return -1;
    }

    @Override
    public long skip(long n) throws IOException {
        // Skipped bytes must still be hashed.
        byte[] buf = new byte[(int) Math.min(8192, Math.max(n, 1))];
        long skipped = 0;
        while (skipped < n) {
            int r = read(buf, 0, (int) Math.min(buf.length, n - skipped));
            if (r < 0) {
                break;
            }
            skipped += r;
        }
        return skipped;
    }

    @Override
    public int available() throws IOException {
        return verified ? 0 : super.available();
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    @Override
    public synchronized void mark(int readlimit) {
        // not supported
    }

    @Override
    public synchronized void reset() throws IOException {
        throw new IOException("mark/reset not supported");
    }

    /** Reads what is left and verifies it; returns the total number of bytes read. */
    public long drainAndVerify() throws IOException {
        byte[] buf = new byte[64 * 1024];
        while (read(buf, 0, buf.length) >= 0) {
            // keep reading
        }
        return count;
    }

    /** Whether the end was reached and the content matched. */
    public boolean isVerified() {
        return verified;
    }

    /** Bytes read so far (including any counted before a resume). */
    public long bytesRead() {
        return count;
    }

    /**
     * A copy of the hash state so far, for resuming after a broken connection.
     *
     * @throws IllegalStateException if the JDK's hasher cannot be cloned (the SHA-2 ones can)
     */
    public MessageDigest hasherSnapshot() {
        try {
            return (MessageDigest) hasher.clone();
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException("hasher not cloneable", e);
        }
    }

    public Digest expectedDigest() {
        return expected;
    }

    public long expectedSize() {
        return expectedSize;
    }
}
