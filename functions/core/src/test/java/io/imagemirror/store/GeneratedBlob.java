package io.imagemirror.store;

import io.imagemirror.oci.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.Random;

/**
 * A large blob that exists only as a generator: a seeded 1 MiB block repeated with a varying
 * counter mixed in, so a test can stream hundreds of MiB without holding them in memory.
 */
public final class GeneratedBlob {
    private static final int BLOCK = 1 << 20;

    private final long size;
    private final byte[] block;

    public GeneratedBlob(long size, long seed) {
        this.size = size;
        this.block = new byte[BLOCK];
        new Random(seed).nextBytes(block);
    }

    public long size() {
        return size;
    }

    /** A fresh stream of the content. */
    public InputStream stream() {
        return new InputStream() {
            private long pos;

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (pos >= size) {
                    return -1;
                }
                int inBlock = (int) (pos % BLOCK);
                int n = (int) Math.min(Math.min(len, BLOCK - inBlock), size - pos);
                System.arraycopy(block, inBlock, b, off, n);
                if (inBlock == 0 && n > 0) {
                    b[off] = (byte) (pos / BLOCK); // each block differs from the last
                }
                pos += n;
                return n;
            }
        };
    }

    /** The sha256 digest of the content (streams it once). */
    public Digest digest() {
        try (InputStream in = stream()) {
            MessageDigest md = Digest.Algorithm.SHA256.newHasher();
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) >= 0) {
                md.update(buf, 0, n);
            }
            return Digest.fromHash(Digest.Algorithm.SHA256, md.digest());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
