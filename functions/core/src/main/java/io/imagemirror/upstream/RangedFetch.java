package io.imagemirror.upstream;

/**
 * How large blobs are fetched: a blob of at least {@code threshold} bytes is fetched as parts of
 * {@code partSize} bytes with up to {@code parallelism} ranged GETs at once when the upstream
 * honours {@code Range}, and as one stream otherwise. At most {@code parallelism + 2} parts are
 * held in memory at once (fetched but not yet hashed in order), so a fetch uses at most
 * {@link #maxBufferedBytes()} of heap whatever the blob's size.
 *
 * <p>Parallel parts pay when one connection is slower than the machine (a registry's CDN far
 * away); when it is not (an upstream on the same network), the extra connections only cost CPU.
 * So with {@code fastStream} set, the first part is fetched alone and its body timed (from the
 * answer's headers to its last byte: the wait for the headers is mostly a fresh JVM's first
 * request): if it arrived at least that fast, the rest of the blob streams over one more
 * connection; if not, the other parts are fetched in parallel.
 *
 * @param threshold blobs smaller than this are fetched as one stream (config {@code largeBlobs.threshold})
 * @param partSize bytes per ranged GET (config {@code largeBlobs.partSize})
 * @param parallelism ranged GETs in flight per blob; 1 turns ranged fetches off (config {@code largeBlobs.parallelism})
 * @param fastStream bytes per second: a first part that arrives at least this fast has the rest of
 *     the blob fetched as one stream; 0 fetches the parts in parallel from the start (config
 *     {@code largeBlobs.fastStream})
 */
public record RangedFetch(long threshold, int partSize, int parallelism, long fastStream) {

    /** 100 MiB/s: about what one connection to a registry's CDN gives at best; a LAN gives more. */
    public static final long FAST_STREAM = 100L << 20;
    /** 64 MiB, 8 MiB parts, 4 at once after a first part slower than 100 MiB/s: at most 48 MiB buffered per large blob. */
    public static final RangedFetch DEFAULTS = new RangedFetch(64L << 20, 8 << 20, 4, FAST_STREAM);
    /** Every blob as one stream. */
    public static final RangedFetch OFF = new RangedFetch(Long.MAX_VALUE, 8 << 20, 1, 0);

    /** Parts in parallel from the first one, whatever the speed of one connection. */
    public RangedFetch(long threshold, int partSize, int parallelism) {
        this(threshold, partSize, parallelism, 0);
    }

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
        if (fastStream < 0) {
            throw new IllegalArgumentException("largeBlobs.fastStream must be 0 or more bytes per second, got " + fastStream);
        }
    }

    /** Whether the first part decides between one stream and parallel parts. */
    public boolean adaptive() {
        return fastStream > 0;
    }

    /** Whether {@code bytes} that arrived in {@code nanos} came fast enough for one stream to fetch the rest. */
    public boolean fastEnough(long bytes, long nanos) {
        return adaptive() && (nanos <= 0 || bytes * 1_000_000_000.0 / nanos >= fastStream);
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
