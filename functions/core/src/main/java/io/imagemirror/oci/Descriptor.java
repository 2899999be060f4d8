package io.imagemirror.oci;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A content descriptor as it appears in a manifest: what the referenced content is, its digest and
 * size, and for index entries the platform. Immutable.
 *
 * @param mediaType the media type written in the descriptor (may be empty for lax manifests)
 * @param digest the content digest
 * @param size the size in bytes
 * @param urls foreign-layer URLs (empty for ordinary content)
 * @param annotations annotations (empty when none)
 * @param platform the platform of an index entry, or {@code null}
 * @param artifactType the artifact type of an index entry, or {@code null}
 */
public record Descriptor(String mediaType, Digest digest, long size, List<String> urls,
                         Map<String, String> annotations, Platform platform, String artifactType) {

    public Descriptor {
        Objects.requireNonNull(digest, "digest");
        mediaType = mediaType == null ? "" : mediaType;
        urls = urls == null ? List.of() : List.copyOf(urls);
        annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
        if (size < 0) {
            throw new IllegalArgumentException("negative size " + size + " for " + digest);
        }
    }

    /**
     * Whether this layer must not be copied by default: a foreign or non-distributable media type,
     * or a layer that names URLs to fetch it from elsewhere.
     */
    public boolean isNonDistributable() {
        return MediaTypes.isNonDistributable(mediaType) || !urls.isEmpty();
    }

    /** Whether this index entry is a BuildKit attestation manifest (platform {@code unknown/unknown}). */
    public boolean isAttestation() {
        return "attestation-manifest".equals(annotations.get("vnd.docker.reference.type"))
                || (platform != null && platform.isUnknown());
    }
}
