package io.imagemirror.upstream;

import io.imagemirror.oci.Digest;
import java.util.List;
import java.util.Map;

/**
 * The manifests that name a subject in their {@code subject} field (signatures, SBOMs,
 * attestations), as the OCI 1.1 referrers API or its tag-schema fallback lists them.
 *
 * @param source where the list came from
 * @param rawIndex the image index exactly as received (empty when {@link Source#NONE})
 * @param referrers the index's descriptors
 */
public record Referrers(Source source, byte[] rawIndex, List<Referrer> referrers) {

    /** Which mechanism answered. */
    public enum Source {
        /** {@code GET /v2/<name>/referrers/<digest>}. */
        API,
        /** The registry has no referrers API; the index tagged {@code <alg>-<hex>} was read. */
        TAG_SCHEMA,
        /** The registry has no referrers API and no fallback tag exists. */
        NONE
    }

    public Referrers {
        rawIndex = rawIndex.clone();
        referrers = List.copyOf(referrers);
    }

    @Override
    public byte[] rawIndex() {
        return rawIndex.clone();
    }

    /** One descriptor of a referrers index. */
    public record Referrer(String mediaType, Digest digest, long size, String artifactType,
                           Map<String, String> annotations) {
        public Referrer {
            annotations = Map.copyOf(annotations);
        }
    }
}
