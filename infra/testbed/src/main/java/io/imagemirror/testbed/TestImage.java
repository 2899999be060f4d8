package io.imagemirror.testbed;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.GZIPInputStream;

/**
 * A small, real, reproducible container image for tests: gzipped tar layers, a config whose
 * {@code rootfs.diff_ids} match them, and an OCI or Docker v2s2 manifest. Build with
 * {@link #builder(long)}; the same seed and settings give the same digests.
 */
public final class TestImage {

    /** Which manifest family to write. */
    public enum Format { OCI, DOCKER }

    /** A blob: its bytes, digest and media type. */
    public record Blob(String mediaType, byte[] bytes, String digest) {
        public static Blob of(String mediaType, byte[] bytes) {
            return new Blob(mediaType, bytes, Content.sha256(bytes));
        }

        public long size() {
            return bytes.length;
        }
    }

    private final Format format;
    private final String os;
    private final String architecture;
    private final String variant;
    private final Blob config;
    private final List<Blob> layers;
    private final byte[] manifest;
    private final String digest;

    private TestImage(Format format, String os, String architecture, String variant, Blob config, List<Blob> layers,
                      byte[] manifest) {
        this.format = format;
        this.os = os;
        this.architecture = architecture;
        this.variant = variant;
        this.config = config;
        this.layers = List.copyOf(layers);
        this.manifest = manifest;
        this.digest = Content.sha256(manifest);
    }

    public static Builder builder(long seed) {
        return new Builder(seed);
    }

    /** A gzipped one-file tar layer of {@code size} pseudo-random bytes. */
    public static Blob layer(long seed, int size) {
        return Blob.of("application/vnd.oci.image.layer.v1.tar+gzip",
                Content.tarGz("file-" + seed, Content.randomBytes(seed, size)));
    }

    public Format format() {
        return format;
    }

    public String mediaType() {
        return format == Format.OCI ? "application/vnd.oci.image.manifest.v1+json"
                : "application/vnd.docker.distribution.manifest.v2+json";
    }

    public byte[] manifest() {
        return manifest.clone();
    }

    public String digest() {
        return digest;
    }

    public Blob config() {
        return config;
    }

    public List<Blob> layers() {
        return layers;
    }

    public String os() {
        return os;
    }

    public String architecture() {
        return architecture;
    }

    public String variant() {
        return variant;
    }

    /** Every blob (config first, then layers). */
    public List<Blob> blobs() {
        List<Blob> all = new ArrayList<>();
        all.add(config);
        all.addAll(layers);
        return all;
    }

    /** Config + layers + manifest sizes. */
    public long totalSize() {
        return blobs().stream().mapToLong(Blob::size).sum() + manifest.length;
    }

    /** Builds a {@link TestImage}. */
    public static final class Builder {
        private final long seed;
        private Format format = Format.OCI;
        private String os = "linux";
        private String architecture = "amd64";
        private String variant;
        private final List<Blob> layers = new ArrayList<>();
        private final Map<String, String> labels = new TreeMap<>();
        private String created = "2024-01-01T00:00:00Z";

        private Builder(long seed) {
            this.seed = seed;
        }

        public Builder format(Format f) {
            this.format = f;
            return this;
        }

        public Builder platform(String os, String architecture, String variant) {
            this.os = os;
            this.architecture = architecture;
            this.variant = variant;
            return this;
        }

        /** Adds a layer of its own ({@code size} random bytes from this image's seed). */
        public Builder layer(int size) {
            layers.add(TestImage.layer(seed * 1000 + layers.size(), size));
            return this;
        }

        /** Adds a layer shared with other images. */
        public Builder layer(Blob shared) {
            layers.add(shared);
            return this;
        }

        public Builder label(String key, String value) {
            labels.put(key, value);
            return this;
        }

        public Builder created(String rfc3339) {
            this.created = rfc3339;
            return this;
        }

        public TestImage build() {
            if (layers.isEmpty()) {
                layer(1024);
            }
            boolean oci = format == Format.OCI;
            String layerType = oci ? "application/vnd.oci.image.layer.v1.tar+gzip"
                    : "application/vnd.docker.image.rootfs.diff.tar.gzip";
            String configType = oci ? "application/vnd.oci.image.config.v1+json"
                    : "application/vnd.docker.container.image.v1+json";
            StringBuilder diffIds = new StringBuilder();
            for (Blob l : layers) {
                diffIds.append(diffIds.length() == 0 ? "" : ",").append('"').append(diffId(l.bytes())).append('"');
            }
            StringBuilder labelJson = new StringBuilder();
            labels.forEach((k, v) -> labelJson.append(labelJson.length() == 0 ? "" : ",")
                    .append(Json.quote(k)).append(':').append(Json.quote(v)));
            String configJson = "{\"architecture\":" + Json.quote(architecture)
                    + (variant == null ? "" : ",\"variant\":" + Json.quote(variant))
                    + ",\"os\":" + Json.quote(os)
                    + ",\"created\":" + Json.quote(created)
                    + ",\"config\":{\"Env\":[\"PATH=/usr/bin\"],\"Labels\":{" + labelJson + "}}"
                    + ",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[" + diffIds + "]}"
                    + ",\"history\":[{\"created\":" + Json.quote(created) + ",\"comment\":\"seed " + seed + "\"}]}";
            Blob config = Blob.of(configType, configJson.getBytes(StandardCharsets.UTF_8));
            StringBuilder m = new StringBuilder("{\n  \"schemaVersion\": 2,\n  \"mediaType\": ")
                    .append(Json.quote(oci ? "application/vnd.oci.image.manifest.v1+json"
                            : "application/vnd.docker.distribution.manifest.v2+json"))
                    .append(",\n  \"config\": ").append(descriptor(configType, config))
                    .append(",\n  \"layers\": [");
            for (int i = 0; i < layers.size(); i++) {
                m.append(i == 0 ? "\n    " : ",\n    ").append(descriptor(layerType, layers.get(i)));
            }
            m.append("\n  ]\n}\n");
            return new TestImage(format, os, architecture, variant, config, layers,
                    m.toString().getBytes(StandardCharsets.UTF_8));
        }

        private static String descriptor(String mediaType, Blob b) {
            return "{\"mediaType\": " + Json.quote(mediaType) + ", \"digest\": " + Json.quote(b.digest())
                    + ", \"size\": " + b.size() + "}";
        }

        private static String diffId(byte[] gz) {
            try (GZIPInputStream in = new GZIPInputStream(new java.io.ByteArrayInputStream(gz))) {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                in.transferTo(out);
                return Content.sha256(out.toByteArray());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
