package io.imagemirror.testbed;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A multi-platform index (OCI image index or Docker manifest list) over {@link TestImage}s, with
 * optional BuildKit-style attestation entries ({@code unknown/unknown}).
 */
public final class TestIndex {
    private final TestImage.Format format;
    private final List<TestImage> children;
    private final byte[] bytes;
    private final String digest;

    private TestIndex(TestImage.Format format, List<TestImage> children, byte[] bytes) {
        this.format = format;
        this.children = List.copyOf(children);
        this.bytes = bytes;
        this.digest = Content.sha256(bytes);
    }

    /**
     * An index over {@code images}. With {@code attestations}, each image gets an attestation manifest
     * ({@code unknown/unknown}, annotated with {@code vnd.docker.reference.digest}) — OCI only.
     */
    public static TestIndex of(TestImage.Format format, List<TestImage> images, boolean attestations) {
        boolean oci = format == TestImage.Format.OCI;
        List<TestImage> all = new ArrayList<>(images);
        StringBuilder m = new StringBuilder("{\n  \"schemaVersion\": 2,\n  \"mediaType\": ")
                .append(Json.quote(oci ? "application/vnd.oci.image.index.v1+json"
                        : "application/vnd.docker.distribution.manifest.list.v2+json"))
                .append(",\n  \"manifests\": [");
        int i = 0;
        for (TestImage img : images) {
            m.append(i++ == 0 ? "\n    " : ",\n    ").append(entry(img, img.os(), img.architecture(), img.variant(), null));
        }
        if (attestations && oci) {
            long seed = 9_000;
            for (TestImage img : images) {
                TestImage att = TestImage.builder(seed++).platform("unknown", "unknown", null).layer(200).build();
                all.add(att);
                m.append(",\n    ").append(entry(att, "unknown", "unknown", null,
                        "\"annotations\": {\"vnd.docker.reference.digest\": " + Json.quote(img.digest())
                                + ", \"vnd.docker.reference.type\": \"attestation-manifest\"}"));
            }
        }
        m.append("\n  ]\n}\n");
        return new TestIndex(format, all, m.toString().getBytes(StandardCharsets.UTF_8));
    }

    private static String entry(TestImage img, String os, String arch, String variant, String extra) {
        return "{\"mediaType\": " + Json.quote(img.mediaType()) + ", \"digest\": " + Json.quote(img.digest())
                + ", \"size\": " + img.manifest().length
                + ", \"platform\": {\"architecture\": " + Json.quote(arch) + ", \"os\": " + Json.quote(os)
                + (variant == null ? "" : ", \"variant\": " + Json.quote(variant)) + "}"
                + (extra == null ? "" : ", " + extra) + "}";
    }

    public String mediaType() {
        return format == TestImage.Format.OCI ? "application/vnd.oci.image.index.v1+json"
                : "application/vnd.docker.distribution.manifest.list.v2+json";
    }

    public byte[] bytes() {
        return bytes.clone();
    }

    public String digest() {
        return digest;
    }

    /** Every child image, platform images first, then attestations. */
    public List<TestImage> children() {
        return children;
    }
}
