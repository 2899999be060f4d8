package io.imagemirror.oci;

import java.util.List;

/** The media types image-mirror stores and serves, and the ones it refuses. */
public final class MediaTypes {
    private MediaTypes() {
    }

    public static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
    public static final String DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
    public static final String DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+json";
    public static final String DOCKER_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws";
    public static final String DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
    public static final String DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    public static final String DOCKER_FOREIGN_LAYER = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

    public static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    public static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
    public static final String OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
    public static final String OCI_LAYER = "application/vnd.oci.image.layer.v1.tar";
    public static final String OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
    public static final String OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd";
    public static final String OCI_EMPTY = "application/vnd.oci.empty.v1+json";
    /** Deprecated by the spec but still in use: layers that must not be pushed elsewhere. */
    public static final String OCI_NONDISTRIBUTABLE_PREFIX = "application/vnd.oci.image.layer.nondistributable.";

    /** The manifest media types we accept, most specific first: what an {@code Accept} header lists. */
    public static final List<String> MANIFEST_TYPES = List.of(OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST,
            DOCKER_MANIFEST);

    /** Whether {@code mediaType} is an index or manifest list (it has child manifests). */
    public static boolean isIndex(String mediaType) {
        return OCI_INDEX.equals(mediaType) || DOCKER_MANIFEST_LIST.equals(mediaType);
    }

    /** Whether {@code mediaType} is an image manifest (config + layers). */
    public static boolean isImageManifest(String mediaType) {
        return OCI_MANIFEST.equals(mediaType) || DOCKER_MANIFEST.equals(mediaType);
    }

    /** Whether {@code mediaType} is one of the manifest types we store. */
    public static boolean isSupportedManifest(String mediaType) {
        return isIndex(mediaType) || isImageManifest(mediaType);
    }

    /** Whether {@code mediaType} is a Docker schema 1 manifest, which we refuse. */
    public static boolean isSchema1(String mediaType) {
        return DOCKER_SCHEMA1.equals(mediaType) || DOCKER_SCHEMA1_SIGNED.equals(mediaType);
    }

    /** Whether a layer of this type is foreign / non-distributable (recorded, not copied by default). */
    public static boolean isNonDistributable(String mediaType) {
        return mediaType != null && (DOCKER_FOREIGN_LAYER.equals(mediaType)
                || mediaType.startsWith(OCI_NONDISTRIBUTABLE_PREFIX));
    }

    /** The value of an {@code Accept} header asking for every manifest type we support. */
    public static String acceptHeader() {
        return String.join(", ", MANIFEST_TYPES);
    }
}
