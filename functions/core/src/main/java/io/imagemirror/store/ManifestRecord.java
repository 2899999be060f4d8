package io.imagemirror.store;

import io.imagemirror.oci.Digest;
import java.time.Instant;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * What is known about one manifest stored in one repository. The raw bytes live in the manifest
 * {@link BlobStore}; this is the parsed view the index keeps. Times are truncated to microseconds.
 *
 * @param repository canonical {@code <registry>/<repo>}, e.g. {@code docker.io/library/alpine}
 * @param configDigest the config blob (the image ID), or {@code null} for an index
 * @param blobs the config and layers it references (empty for an index)
 * @param children the manifests an index names (empty for an image manifest)
 * @param subject the {@code subject} descriptor's digest, or {@code null}
 * @param artifactType the {@code artifactType}, or {@code null}
 * @param created the image's creation time from its config, or {@code null}
 * @param labels the config's labels (never null)
 * @param recordedAt when it was mirrored
 * @param lastPulled when it was last served, or {@code null}
 * @param pullCount how often it was served
 */
public record ManifestRecord(String repository, Digest digest, String mediaType, long size, Digest configDigest,
                             List<BlobRef> blobs, List<ChildManifest> children, Digest subject,
                             String artifactType, Instant created, Map<String, String> labels, Instant recordedAt,
                             Instant lastPulled, long pullCount) {

    public ManifestRecord {
        Objects.requireNonNull(repository, "repository");
        Objects.requireNonNull(digest, "digest");
        Objects.requireNonNull(mediaType, "mediaType");
        Objects.requireNonNull(recordedAt, "recordedAt");
        if (size < 0 || pullCount < 0) {
            throw new IllegalArgumentException("negative size or pull count");
        }
        blobs = List.copyOf(blobs == null ? List.of() : blobs);
        children = List.copyOf(children == null ? List.of() : children);
        labels = Collections.unmodifiableMap(new TreeMap<>(labels == null ? Map.of() : labels));
        created = Timestamps.truncate(created);
        recordedAt = Timestamps.truncate(recordedAt);
        lastPulled = Timestamps.truncate(lastPulled);
    }

    /**
     * The distinct digests of the children that were mirrored (and so are recorded in this
     * repository): what keeps them from dangling while this record exists.
     */
    public List<Digest> mirroredChildDigests() {
        return children.stream().filter(ChildManifest::mirrored).map(ChildManifest::digest).distinct().toList();
    }

    /** The distinct blobs it lists (config and layers): what its blob references are. */
    public List<Digest> blobDigests() {
        return blobs.stream().map(BlobRef::digest).distinct().toList();
    }

    /** Whether it lists {@code child} as a child that was not mirrored (and none of that digest as mirrored). */
    public boolean listsUnmirrored(Digest child) {
        return children.stream().anyMatch(c -> c.digest().equals(child))
                && children.stream().noneMatch(c -> c.digest().equals(child) && c.mirrored());
    }

    /** The same record listing {@code child} as mirrored. */
    public ManifestRecord withChildMirrored(Digest child) {
        List<ChildManifest> marked = children.stream().map(c -> c.digest().equals(child) && !c.mirrored()
                ? new ChildManifest(c.digest(), c.mediaType(), c.size(), c.platform(), true) : c).toList();
        return new ManifestRecord(repository, digest, mediaType, size, configDigest, blobs, marked, subject,
                artifactType, created, labels, recordedAt, lastPulled, pullCount);
    }

    /** The same record with pull statistics replaced. */
    public ManifestRecord withPulls(Instant lastPulled, long pullCount) {
        return new ManifestRecord(repository, digest, mediaType, size, configDigest, blobs, children, subject,
                artifactType, created, labels, recordedAt, lastPulled, pullCount);
    }
}
