package io.imagemirror.oci;

import java.util.Arrays;
import org.bouncycastle.crypto.digests.SHA256Digest;

/**
 * A SHA-256 computation whose state can be saved as bytes and restored in another process: what a
 * copy needs that stops at a part boundary in one Lambda invocation and goes on hashing in the next.
 * The JDK's {@code MessageDigest} can be cloned but not exported, so this is Bouncy Castle's
 * {@code SHA256Digest} (its encoded state is a documented, versioned format). Slower than the JDK's
 * (no SHA extensions), so only resumable copies use it. Not thread-safe.
 */
public final class Sha256State {

    private final SHA256Digest digest;

    private Sha256State(SHA256Digest digest) {
        this.digest = digest;
    }

    /** A hash over no bytes yet. */
    public static Sha256State start() {
        return new Sha256State(new SHA256Digest());
    }

    /**
     * The hash as {@link #saved()} left it.
     *
     * @throws IllegalArgumentException if {@code saved} is not a saved SHA-256 state
     */
    public static Sha256State restore(byte[] saved) {
        try {
            return new Sha256State(new SHA256Digest(saved));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("not a saved SHA-256 state: " + e.getMessage(), e);
        }
    }

    public void update(byte[] bytes, int offset, int length) {
        digest.update(bytes, offset, length);
    }

    /** The state so far, for {@link #restore}; the hash goes on unchanged. */
    public byte[] saved() {
        return digest.getEncodedState();
    }

    /** Whether {@code other} has hashed exactly the same bytes (compared by saved state). */
    public boolean sameAs(Sha256State other) {
        return Arrays.equals(saved(), other.saved());
    }

    /** The digest of everything hashed; the state is reset. */
    public Digest finish() {
        byte[] out = new byte[digest.getDigestSize()];
        digest.doFinal(out, 0);
        return Digest.fromHash(Digest.Algorithm.SHA256, out);
    }
}
