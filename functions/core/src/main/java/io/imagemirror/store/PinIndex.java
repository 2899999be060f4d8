package io.imagemirror.store;

import io.imagemirror.oci.Digest;

/**
 * Pins: manifests mirrored by digest, kept without a tag. A pin is a reference of its manifest
 * (see {@link ManifestIndex}), added and removed atomically with it. Thread-safe.
 */
public interface PinIndex {

    /**
     * Pins a recorded manifest.
     *
     * @return {@code true} if newly pinned, {@code false} if it already was
     * @throws MissingManifestException if the manifest is not recorded
     */
    boolean addPin(String repository, Digest digest);

    /**
     * Removes a pin.
     *
     * @return whether a pin was removed; {@code false} (not an error) when there was none, whether or
     *     not the manifest is recorded
     */
    boolean removePin(String repository, Digest digest);

    /** The pins of a repository in digest order. */
    Page<Pin> listPins(String repository, int limit, String pageToken);
}
