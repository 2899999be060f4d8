package io.imagemirror.oci;

/**
 * A stream that itself verifies what it yields: it reports end-of-stream only after all its bytes
 * matched a digest and size. A consumer that would verify the same digest and size again (a blob
 * store's {@code put}) may trust it instead of hashing every byte a second time; see
 * {@link VerifyingInputStream#over}.
 */
public interface Verified {
    /** Whether this stream checks exactly {@code digest} and {@code size} (-1: digest only) before its end. */
    boolean verifies(Digest digest, long size);
}
