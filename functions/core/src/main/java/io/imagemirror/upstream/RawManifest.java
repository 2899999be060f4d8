package io.imagemirror.upstream;

import io.imagemirror.oci.Digest;
import java.util.Objects;

/**
 * Manifest bytes exactly as the registry sent them, their media type, and the digest computed over
 * those bytes (never taken from a header). Immutable: the bytes are copied in and out.
 */
public final class RawManifest {
    private final byte[] bytes;
    private final String mediaType;
    private final Digest digest;

    RawManifest(byte[] bytes, String mediaType, Digest digest) {
        this.bytes = bytes.clone();
        this.mediaType = Objects.requireNonNull(mediaType, "mediaType");
        this.digest = Objects.requireNonNull(digest, "digest");
    }

    /** A copy of the exact bytes. */
    public byte[] bytes() {
        return bytes.clone();
    }

    public String mediaType() {
        return mediaType;
    }

    public Digest digest() {
        return digest;
    }

    public long size() {
        return bytes.length;
    }

    public ManifestDescriptor descriptor() {
        return new ManifestDescriptor(digest, mediaType, bytes.length);
    }

    @Override
    public String toString() {
        return "RawManifest[" + mediaType + " " + digest + " " + bytes.length + " bytes]";
    }
}
