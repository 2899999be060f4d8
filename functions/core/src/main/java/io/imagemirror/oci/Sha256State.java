package io.imagemirror.oci;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.MessageDigestSpi;
import java.security.NoSuchAlgorithmException;
import java.security.Provider;
import java.security.Security;
import java.util.Arrays;
import org.bouncycastle.crypto.digests.SHA256Digest;

/**
 * A SHA-256 computation whose state can be saved as bytes and restored in another process: what a
 * copy needs that stops at a part boundary in one Lambda invocation and goes on hashing in the next.
 *
 * <p>The JDK's {@code MessageDigest} can be cloned but not exported. Where the JVM opens its SHA-2
 * implementation to us ({@code --add-opens=java.base/sun.security.provider=ALL-UNNAMED}, which the
 * CopyWorker's {@code JAVA_TOOL_OPTIONS} carries), this hashes with the JDK's own SHA-256, which
 * uses the CPU's SHA instructions under C2 (about 1.3 GB/s here), and reads and writes its chaining
 * state through method and var handles. Elsewhere it falls back to Bouncy Castle's
 * {@code SHA256Digest}, whose state is public but which hashes in plain Java (about 0.25 GB/s). A
 * self-test at class initialisation must pass before the JDK path is used: a save and restore
 * across both implementations, at and between block boundaries, against {@code MessageDigest}.
 *
 * <p>Saved states have one format whichever implementation wrote them, so a copy may go on in a JVM
 * that hashes the other way: {@code "IMSHA256"}, the eight chaining words (big-endian), the count
 * of bytes hashed (big-endian long), then the {@code count % 64} bytes of the block not yet
 * compressed. {@link #restore} also reads Bouncy Castle's own encoded state, which copies saved
 * before this format existed carry. Not thread-safe.
 */
public abstract sealed class Sha256State permits Sha256State.Jdk, Sha256State.Bc {

    private static final byte[] MAGIC = "IMSHA256".getBytes(StandardCharsets.US_ASCII);
    private static final int BLOCK = 64;
    private static final int HEADER = MAGIC.length + 8 * Integer.BYTES + Long.BYTES;

    /** How this JVM hashes: "JDK ..." or "Bouncy Castle ... (why not the JDK)". */
    private static final String IMPLEMENTATION;
    /** Whether {@link #start} and {@link #restore} hash with the JDK's SHA-256. */
    private static final boolean USE_JDK;

    static {
        String why = Jdk.unavailable();
        if (why == null) {
            why = selfTest();
        }
        USE_JDK = why == null;
        IMPLEMENTATION = why == null ? "JDK SHA-256 (state through sun.security.provider)"
                : "Bouncy Castle SHA256Digest (about 5x slower than the JDK's): " + why;
    }

    private Sha256State() {
    }

    /** A hash over no bytes yet: the JDK's when it can be saved, else Bouncy Castle's. */
    public static Sha256State start() {
        return USE_JDK ? new Jdk() : new Bc(new SHA256Digest());
    }

    /** Bouncy Castle's hash over no bytes yet, whatever this JVM allows (for tests of the fallback). */
    static Sha256State startBouncyCastle() {
        return new Bc(new SHA256Digest());
    }

    /** Whether {@link #start} and {@link #restore} hash with the JDK's SHA-256. */
    public static boolean usesJdk() {
        return USE_JDK;
    }

    /** What hashes here, and when it is Bouncy Castle why, for a function's log at init. */
    public static String implementation() {
        return IMPLEMENTATION;
    }

    /**
     * The hash as {@link #saved()} left it (in this JVM or another).
     *
     * @throws IllegalArgumentException if {@code saved} is not a saved SHA-256 state
     */
    public static Sha256State restore(byte[] saved) {
        return restore(saved, USE_JDK);
    }

    static Sha256State restore(byte[] saved, boolean jdk) {
        if (!startsWithMagic(saved)) {
            Bc legacy;
            try {
                legacy = new Bc(new SHA256Digest(saved));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("not a saved SHA-256 state: " + e.getMessage(), e);
            }
            return jdk ? restore(legacy.saved(), true) : legacy;
        }
        ByteBuffer in = ByteBuffer.wrap(saved, MAGIC.length, saved.length - MAGIC.length);
        if (saved.length < HEADER) {
            throw new IllegalArgumentException("not a saved SHA-256 state: " + saved.length + " bytes");
        }
        int[] h = new int[8];
        for (int i = 0; i < 8; i++) {
            h[i] = in.getInt();
        }
        long count = in.getLong();
        int tail = (int) (count % BLOCK);
        if (count < 0 || saved.length != HEADER + tail) {
            throw new IllegalArgumentException("not a saved SHA-256 state: " + saved.length
                    + " bytes for a count of " + count);
        }
        byte[] pending = Arrays.copyOfRange(saved, HEADER, saved.length);
        return jdk ? Jdk.of(h, count, pending) : Bc.of(h, count, pending);
    }

    public abstract void update(byte[] bytes, int offset, int length);

    /** The state so far, for {@link #restore}; the hash goes on unchanged. */
    public abstract byte[] saved();

    /** Whether {@code other} has hashed exactly the same bytes (compared by saved state). */
    public boolean sameAs(Sha256State other) {
        return Arrays.equals(saved(), other.saved());
    }

    /** The digest of everything hashed; the state is reset. */
    public Digest finish() {
        return Digest.fromHash(Digest.Algorithm.SHA256, digest());
    }

    abstract byte[] digest();

    private static boolean startsWithMagic(byte[] saved) {
        return saved.length >= MAGIC.length && Arrays.equals(saved, 0, MAGIC.length, MAGIC, 0, MAGIC.length);
    }

    static byte[] format(int[] h, long count, byte[] pending, int pendingLength) {
        ByteBuffer out = ByteBuffer.allocate(HEADER + pendingLength);
        out.put(MAGIC);
        for (int word : h) {
            out.putInt(word);
        }
        out.putLong(count);
        out.put(pending, 0, pendingLength);
        return out.array();
    }

    /**
     * Null when a save in one implementation and a restore in either hashes as {@code MessageDigest}
     * does, at a block boundary and between two; else what went wrong.
     */
    private static String selfTest() {
        try {
            byte[] data = new byte[3 * BLOCK + 37];
            for (int i = 0; i < data.length; i++) {
                data[i] = (byte) (i * 31 + 7);
            }
            byte[] expected = MessageDigest.getInstance("SHA-256").digest(data);
            for (int split : new int[] {0, BLOCK, 2 * BLOCK + 5, data.length}) {
                for (boolean fromJdk : new boolean[] {true, false}) {
                    Sha256State first = fromJdk ? new Jdk() : new Bc(new SHA256Digest());
                    first.update(data, 0, split);
                    byte[] saved = first.saved();
                    for (boolean toJdk : new boolean[] {true, false}) {
                        Sha256State second = restore(saved, toJdk);
                        second.update(data, split, data.length - split);
                        if (!Arrays.equals(second.digest(), expected)) {
                            return "self-test failed (saved " + (fromJdk ? "JDK" : "BC") + " at " + split
                                    + ", restored " + (toJdk ? "JDK" : "BC") + ")";
                        }
                    }
                    first.update(data, split, data.length - split);
                    if (!Arrays.equals(first.digest(), expected)) {
                        return "self-test failed (digest after a save)";
                    }
                }
            }
            return null;
        } catch (NoSuchAlgorithmException | RuntimeException | LinkageError e) {
            return "self-test failed: " + e;
        }
    }

    /** The JDK's SHA-256 ({@code sun.security.provider.SHA2$SHA256}), its state through handles. */
    static final class Jdk extends Sha256State {
        private static final String WHY_NOT;
        private static final Provider.Service SERVICE;
        private static final MethodHandle UPDATE;
        private static final MethodHandle DIGEST;
        private static final VarHandle STATE;
        private static final VarHandle BUFFER;
        private static final VarHandle BUF_OFS;
        private static final VarHandle BYTES_PROCESSED;

        static {
            String why = null;
            Provider.Service service = null;
            MethodHandle update = null;
            MethodHandle digest = null;
            VarHandle state = null;
            VarHandle buffer = null;
            VarHandle bufOfs = null;
            VarHandle processed = null;
            try {
                Provider sun = Security.getProvider("SUN");
                service = sun == null ? null : sun.getService("MessageDigest", "SHA-256");
                if (service == null) {
                    why = "the SUN provider has no SHA-256";
                } else if (!"sun.security.provider.SHA2$SHA256".equals(service.getClassName())) {
                    why = "SHA-256 is " + service.getClassName() + ", not sun.security.provider.SHA2$SHA256";
                } else {
                    Class<?> base = Class.forName("sun.security.provider.DigestBase");
                    Class<?> sha2 = Class.forName("sun.security.provider.SHA2");
                    MethodHandles.Lookup lookup = MethodHandles.privateLookupIn(base, MethodHandles.lookup());
                    MethodHandles.Lookup lookup2 = MethodHandles.privateLookupIn(sha2, MethodHandles.lookup());
                    update = lookup.findVirtual(base, "engineUpdate",
                            MethodType.methodType(void.class, byte[].class, int.class, int.class))
                            .asType(MethodType.methodType(void.class, MessageDigestSpi.class, byte[].class,
                                    int.class, int.class));
                    digest = lookup.findVirtual(base, "engineDigest", MethodType.methodType(byte[].class))
                            .asType(MethodType.methodType(byte[].class, MessageDigestSpi.class));
                    state = lookup2.findVarHandle(sha2, "state", int[].class);
                    buffer = lookup.findVarHandle(base, "buffer", byte[].class);
                    bufOfs = lookup.findVarHandle(base, "bufOfs", int.class);
                    processed = lookup.findVarHandle(base, "bytesProcessed", long.class);
                }
            } catch (IllegalAccessException e) {
                why = "the JVM does not open sun.security.provider (add --add-opens="
                        + "java.base/sun.security.provider=ALL-UNNAMED to JAVA_TOOL_OPTIONS)";
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                why = "this JDK's SHA-256 has another shape: " + e;
            }
            WHY_NOT = why;
            SERVICE = service;
            UPDATE = update;
            DIGEST = digest;
            STATE = state;
            BUFFER = buffer;
            BUF_OFS = bufOfs;
            BYTES_PROCESSED = processed;
        }

        private final MessageDigestSpi spi;

        Jdk() {
            try {
                this.spi = (MessageDigestSpi) SERVICE.newInstance(null);
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("SHA-256 vanished from the SUN provider", e);
            }
        }

        static String unavailable() {
            return WHY_NOT;
        }

        static Jdk of(int[] h, long count, byte[] pending) {
            Jdk j = new Jdk();
            int[] state = (int[]) STATE.get(j.spi);
            if (state.length != h.length) {
                throw new IllegalStateException("the JDK's SHA-256 state has " + state.length + " words");
            }
            System.arraycopy(h, 0, state, 0, h.length);
            System.arraycopy(pending, 0, (byte[]) BUFFER.get(j.spi), 0, pending.length);
            BUF_OFS.set(j.spi, pending.length);
            BYTES_PROCESSED.set(j.spi, count);
            return j;
        }

        @Override
        public void update(byte[] bytes, int offset, int length) {
            try {
                UPDATE.invokeExact(spi, bytes, offset, length);
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }

        @Override
        public byte[] saved() {
            return format((int[]) STATE.get(spi), (long) BYTES_PROCESSED.get(spi), (byte[]) BUFFER.get(spi),
                    (int) BUF_OFS.get(spi));
        }

        @Override
        byte[] digest() {
            try {
                return (byte[]) DIGEST.invokeExact(spi);
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }
    }

    /**
     * Bouncy Castle's {@code SHA256Digest}. Its encoded state: the partial word ({@code xBuf}, 4
     * bytes), how much of it is filled (int), the byte count (long), the eight chaining words, the
     * number of whole words of the block pending ({@code xOff}, int), those words, and a purpose byte.
     */
    static final class Bc extends Sha256State {
        private static final int H_AT = 16;
        private static final int X_OFF_AT = 48;
        private final SHA256Digest digest;

        Bc(SHA256Digest digest) {
            this.digest = digest;
        }

        static Bc of(int[] h, long count, byte[] pending) {
            byte[] fresh = new SHA256Digest().getEncodedState();
            ByteBuffer b = ByteBuffer.wrap(fresh);
            if (fresh.length < X_OFF_AT + 4 || b.getLong(8) != 0 || b.getInt(X_OFF_AT) != 0
                    || b.getInt(H_AT) != 0x6a09e667) {
                throw new IllegalStateException("Bouncy Castle's SHA-256 state has another layout");
            }
            b.putLong(8, count - pending.length);
            for (int i = 0; i < 8; i++) {
                b.putInt(H_AT + 4 * i, h[i]);
            }
            Bc bc = new Bc(new SHA256Digest(fresh));
            bc.update(pending, 0, pending.length);
            return bc;
        }

        @Override
        public void update(byte[] bytes, int offset, int length) {
            digest.update(bytes, offset, length);
        }

        @Override
        public byte[] saved() {
            ByteBuffer b = ByteBuffer.wrap(digest.getEncodedState());
            int partial = b.getInt(4);
            long count = b.getLong(8);
            int[] h = new int[8];
            for (int i = 0; i < 8; i++) {
                h[i] = b.getInt(H_AT + 4 * i);
            }
            int words = b.getInt(X_OFF_AT);
            ByteBuffer pending = ByteBuffer.allocate(words * 4 + partial);
            for (int i = 0; i < words; i++) {
                pending.putInt(b.getInt(X_OFF_AT + 4 + 4 * i));
            }
            pending.put(b.array(), 0, partial);
            if (pending.position() != count % BLOCK) {
                throw new IllegalStateException("Bouncy Castle's SHA-256 state has another layout: "
                        + pending.position() + " bytes pending after " + count);
            }
            return format(h, count, pending.array(), pending.position());
        }

        @Override
        byte[] digest() {
            byte[] out = new byte[digest.getDigestSize()];
            digest.doFinal(out, 0);
            return out;
        }
    }
}
