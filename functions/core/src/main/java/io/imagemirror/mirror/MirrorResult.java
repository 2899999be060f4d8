package io.imagemirror.mirror;

import io.imagemirror.oci.Digest;
import java.time.Duration;
import java.util.List;

/**
 * The outcome of one mirror run: one {@link Image} per reference mirrored (one, or every tag).
 *
 * @param images per reference, in the order mirrored
 * @param duration wall time of the whole run
 */
public record MirrorResult(List<Image> images, Duration duration) {

    public MirrorResult {
        images = List.copyOf(images);
    }

    /**
     * One mirrored reference.
     *
     * @param reference canonical reference mirrored
     * @param digest the manifest (or index) digest it resolved to
     * @param mediaType that manifest's media type
     * @param upToDate whether the tag already pointed there and nothing was fetched
     * @param previousDigest where the tag pointed before, or null
     * @param manifests the manifests recorded by this run (bottom-up: children before their index)
     * @param blobs every blob considered, with what was done to it
     */
    public record Image(String reference, Digest digest, String mediaType, boolean upToDate, Digest previousDigest,
                        List<Digest> manifests, List<BlobOutcome> blobs) {
        public Image {
            manifests = List.copyOf(manifests);
            blobs = List.copyOf(blobs);
        }

        public long bytesCopied() {
            return blobs.stream().mapToLong(BlobOutcome::bytesCopied).sum();
        }

        public long bytesReused() {
            return blobs.stream().mapToLong(BlobOutcome::bytesReused).sum();
        }
    }

    public long bytesCopied() {
        return images.stream().mapToLong(Image::bytesCopied).sum();
    }

    public long bytesReused() {
        return images.stream().mapToLong(Image::bytesReused).sum();
    }
}
