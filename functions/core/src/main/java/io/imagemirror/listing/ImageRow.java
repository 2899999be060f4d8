package io.imagemirror.listing;

import io.imagemirror.oci.Digest;
import java.time.Instant;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * One line of {@code image-mirror images}: a tag (or, untagged, a manifest) with what docker shows
 * of an image.
 *
 * @param repositoryKey the canonical repository, e.g. {@code docker.io/library/alpine}
 * @param repository the repository as docker shows it, e.g. {@code alpine}
 * @param tag the tag, or {@code null} for an untagged (dangling) manifest
 * @param digest the manifest digest the tag points at
 * @param id the image ID: the config digest of an image manifest, the index digest of a
 *     multi-platform image
 * @param created the image's creation time from its config, or {@code null} when unknown
 * @param size stored (compressed) bytes: config and layers, summed over the stored platforms of an index
 * @param labels the config's labels
 * @param mirroredAt when the manifest was recorded (mirror order, used by {@code before}/{@code since})
 */
public record ImageRow(String repositoryKey, String repository, String tag, Digest digest, Digest id,
                       Instant created, long size, Map<String, String> labels, Instant mirroredAt) {

    public ImageRow {
        Objects.requireNonNull(repositoryKey, "repositoryKey");
        Objects.requireNonNull(repository, "repository");
        Objects.requireNonNull(digest, "digest");
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(mirroredAt, "mirroredAt");
        labels = Collections.unmodifiableMap(new TreeMap<>(labels == null ? Map.of() : labels));
    }

    /** Whether no tag names it. */
    public boolean dangling() {
        return tag == null;
    }

    /** {@code repository:tag} as docker matches {@code reference=} patterns against it. */
    public String familiarReference() {
        return tag == null ? repository : repository + ":" + tag;
    }
}
