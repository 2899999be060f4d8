package io.imagemirror.oci;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

/**
 * A content digest, {@code algorithm:hex}, as the OCI image spec defines it. Only the registered
 * algorithms {@code sha256} and {@code sha512} are accepted, with lowercase hex of the exact length.
 * Immutable; equality is on the canonical string.
 */
public final class Digest implements Comparable<Digest> {

    /** The registered digest algorithms, with their hex length. */
    public enum Algorithm {
        SHA256("sha256", "SHA-256", 64),
        SHA512("sha512", "SHA-512", 128);

        private final String id;
        private final String jcaName;
        private final int hexLength;

        Algorithm(String id, String jcaName, int hexLength) {
            this.id = id;
            this.jcaName = jcaName;
            this.hexLength = hexLength;
        }

        public String id() {
            return id;
        }

        public int hexLength() {
            return hexLength;
        }

        /** A fresh hasher for this algorithm. */
        public MessageDigest newHasher() {
            try {
                return MessageDigest.getInstance(jcaName);
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("JDK lacks " + jcaName, e);
            }
        }

        static Algorithm fromId(String id) {
            for (Algorithm a : values()) {
                if (a.id.equals(id)) {
                    return a;
                }
            }
            return null;
        }
    }

    private static final HexFormat HEX = HexFormat.of();

    private final Algorithm algorithm;
    private final String hex;

    private Digest(Algorithm algorithm, String hex) {
        this.algorithm = algorithm;
        this.hex = hex;
    }

    /**
     * Parses {@code algorithm:hex}.
     *
     * @throws InvalidDigestException naming the problem: missing separator, unknown algorithm,
     *     wrong length, or characters that are not lowercase hex
     */
    public static Digest parse(String value) {
        Objects.requireNonNull(value, "digest");
        int colon = value.indexOf(':');
        if (colon < 0) {
            throw new InvalidDigestException("invalid digest \"" + EchoedInput.of(value) + "\": missing \"algorithm:\" prefix");
        }
        String algorithmId = value.substring(0, colon);
        Algorithm algorithm = Algorithm.fromId(algorithmId);
        if (algorithm == null) {
            throw new InvalidDigestException("invalid digest \"" + EchoedInput.of(value)
                    + "\": unsupported algorithm \"" + EchoedInput.of(algorithmId) + "\" (sha256 or sha512)");
        }
        return of(algorithm, value.substring(colon + 1));
    }

    /** A digest from its parts; the hex must be lowercase and of the algorithm's length. */
    public static Digest of(Algorithm algorithm, String hex) {
        Objects.requireNonNull(algorithm, "algorithm");
        Objects.requireNonNull(hex, "hex");
        if (hex.length() != algorithm.hexLength) {
            throw new InvalidDigestException("invalid digest \"" + algorithm.id + ":" + EchoedInput.of(hex) + "\": "
                    + algorithm.id + " needs " + algorithm.hexLength + " hex characters, got " + hex.length());
        }
        for (int i = 0; i < hex.length(); i++) {
            char c = hex.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                throw new InvalidDigestException("invalid digest \"" + algorithm.id + ":" + EchoedInput.of(hex)
                        + "\": character '" + c + "' at " + i + " is not lowercase hex");
            }
        }
        return new Digest(algorithm, hex);
    }

    /** Whether {@code value} parses as a digest. */
    public static boolean isValid(String value) {
        try {
            parse(value);
            return true;
        } catch (InvalidDigestException e) {
            return false;
        }
    }

    /** The sha256 digest of {@code bytes}. */
    public static Digest sha256(byte[] bytes) {
        return compute(Algorithm.SHA256, bytes);
    }

    /** The digest of {@code bytes} with {@code algorithm}. */
    public static Digest compute(Algorithm algorithm, byte[] bytes) {
        return fromHash(algorithm, algorithm.newHasher().digest(bytes));
    }

    /** A digest from a finished hash value. */
    public static Digest fromHash(Algorithm algorithm, byte[] hash) {
        return new Digest(algorithm, HEX.formatHex(hash));
    }

    public Algorithm algorithm() {
        return algorithm;
    }

    /** The lowercase hex part. */
    public String hex() {
        return hex;
    }

    /** The first 12 hex characters, as {@code docker image ls} shows an image ID. */
    public String shortHex() {
        return hex.substring(0, 12);
    }

    /** A fresh hasher for this digest's algorithm. */
    public MessageDigest newHasher() {
        return algorithm.newHasher();
    }

    /** Whether {@code bytes} hash to this digest. */
    public boolean matches(byte[] bytes) {
        return compute(algorithm, bytes).equals(this);
    }

    @Override
    public int compareTo(Digest other) {
        return toString().compareTo(other.toString());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Digest d && d.algorithm == algorithm && d.hex.equals(hex);
    }

    @Override
    public int hashCode() {
        return algorithm.hashCode() * 31 + hex.hashCode();
    }

    /** The canonical {@code algorithm:hex} form. */
    @Override
    public String toString() {
        return algorithm.id + ":" + hex;
    }
}
