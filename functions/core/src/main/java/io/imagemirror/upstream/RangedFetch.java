package io.imagemirror.upstream;

/**
 * How large blobs are fetched: a blob of at least {@code threshold} bytes is fetched as parts of
 * {@code partSize} bytes with up to {@code parallelism} ranged GETs at once when the upstream
 * honours {@code Range}, and as one stream otherwise. At most {@code parallelism + 2} parts are
 * held in memory at once (fetched but not yet hashed in order), so a fetch uses at most
 * {@link #maxBufferedBytes()} of heap whatever the blob's size.
 *
 * @param threshold blobs smaller than this are fetched as one stream (config {@code largeBlobs.threshold})
 * @param partSize bytes per ranged GET (config {@code largeBlobs.partSize})
 * @param parallelism ranged GETs in flight per blob; 1 turns ranged fetches off (config {@code largeBlobs.parallelism})
 */
public record RangedFetch(long threshold, int partSize, int parallelism) {

    /** 64 MiB, 8 MiB parts, 4 at once: at most 48 MiB buffered per large blob. */
    public static final RangedFetch DEFAULTS = new RangedFetch(64L << 20, 8 << 20, 4);
    /** Every blob as one stream. */
    public static final RangedFetch OFF = new RangedFetch(Long.MAX_VALUE, 8 << 20, 1);

    public RangedFetch {
        if (threshold < 1) {
            throw new IllegalArgumentException("largeBlobs.threshold must be positive, got " + threshold);
        }
        if (partSize < (64 << 10) || partSize > (256 << 20)) {
            throw new IllegalArgumentException("largeBlobs.partSize must be between 64 KiB and 256 MiB, got " + partSize);
        }
        if (parallelism < 1 || parallelism > 32) {
            throw new IllegalArgumentException("largeBlobs.parallelism must be between 1 and 32, got " + parallelism);
        }
    }

    /** Whether a blob of {@code size} bytes is fetched in ranged parts. */
    public boolean ranged(long size) {
        return parallelism > 1 && size >= threshold && size > partSize;
    }

    /** Parts held at most (in flight plus waiting to be hashed). */
    public int window() {
        return parallelism + 2;
    }

    /** The most heap one ranged fetch holds for parts. */
    public long maxBufferedBytes() {
        return (long) window() * partSize;
    }
}
