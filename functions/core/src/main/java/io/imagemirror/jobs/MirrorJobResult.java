package io.imagemirror.jobs;

import io.imagemirror.mirror.BlobOutcome;
import io.imagemirror.mirror.MirrorResult;
import io.imagemirror.oci.Digest;
import java.util.List;

/**
 * What a mirror or a pull-through recording copied, as a job's result and as {@code image-mirror
 * mirror --json} prints it.
 *
 * @param images one per reference mirrored
 * @param bytesCopied bytes fetched from upstream by this run
 * @param bytesReused bytes of blobs that were stored already
 * @param durationMs wall time of the run
 */
public record MirrorJobResult(List<Image> images, long bytesCopied, long bytesReused, long durationMs)
        implements JobResult {

    public MirrorJobResult {
        images = List.copyOf(images);
    }

    /**
     * One mirrored reference.
     *
     * @param reference the canonical reference
     * @param digest the manifest (or index) it resolved to
     * @param previousDigest where the tag pointed before, or null
     * @param manifests the manifests this run recorded, children before their index
     */
    public record Image(String reference, Digest digest, String mediaType, boolean upToDate, Digest previousDigest,
                        List<Digest> manifests, List<Blob> blobs, long bytesCopied, long bytesReused) {
        public Image {
            manifests = List.copyOf(manifests);
            blobs = List.copyOf(blobs);
        }
    }

    /** One blob considered, and what was done to it. */
    public record Blob(Digest digest, long size, BlobOutcome.Status status, long bytesCopied) {
    }

    public static MirrorJobResult of(MirrorResult r) {
        List<Image> images = r.images().stream().map(i -> new Image(i.reference(), i.digest(), i.mediaType(),
                i.upToDate(), i.previousDigest(), i.manifests(),
                i.blobs().stream().map(b -> new Blob(b.digest(), b.size(), b.status(), b.bytesCopied())).toList(),
                i.bytesCopied(), i.bytesReused())).toList();
        return new MirrorJobResult(images, r.bytesCopied(), r.bytesReused(), r.duration().toMillis());
    }
}
