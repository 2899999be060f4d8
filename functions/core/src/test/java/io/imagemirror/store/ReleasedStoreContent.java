package io.imagemirror.store;

import io.imagemirror.oci.Digest;
import io.imagemirror.oci.MediaTypes;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What a store written by the released program (index schema 1: no blob references) holds for
 * the upgrade tests: one tagged image and one pinned image of {@code docker.io/library/oldapp}, as
 * real bytes (so they can be served) and as the records the released code wrote for them. Each
 * adapter's test writes these records in its released schema by hand, then opens the store with
 * the current code.
 */
public final class ReleasedStoreContent {

    public static final String REPOSITORY = "docker.io/library/oldapp";
    public static final String TAG = "1.0";

    /** The bytes of an image and its record. */
    public record Image(byte[] config, byte[] layer, byte[] manifest, ManifestRecord record) {
        public Digest layerDigest() {
            return Digest.sha256(layer);
        }
    }

    public final Image tagged;
    public final Image pinned;
    /** When the released program recorded them (the tag was set then too). */
    public final Instant recordedAt;

    public ReleasedStoreContent(Instant recordedAt) {
        this.recordedAt = Timestamps.truncate(recordedAt);
        this.tagged = image("tagged");
        this.pinned = image("pinned");
    }

    private Image image(String name) {
        byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2024-01-02T03:04:05Z\","
                + "\"config\":{\"Labels\":{\"name\":\"" + name + "\"}},\"rootfs\":{\"type\":\"layers\","
                + "\"diff_ids\":[]}}").getBytes(StandardCharsets.UTF_8);
        byte[] layer = ("layer of " + name).getBytes(StandardCharsets.UTF_8);
        Digest configDigest = Digest.sha256(config);
        Digest layerDigest = Digest.sha256(layer);
        byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\",\"config\":{"
                + "\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + configDigest
                + "\",\"size\":" + config.length + "},\"layers\":[{\"mediaType\":"
                + "\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"" + layerDigest + "\",\"size\":"
                + layer.length + "}]}").getBytes(StandardCharsets.UTF_8);
        ManifestRecord record = new ManifestRecord(REPOSITORY, Digest.sha256(manifest), MediaTypes.OCI_MANIFEST,
                manifest.length, configDigest, List.of(new BlobRef(configDigest, config.length),
                new BlobRef(layerDigest, layer.length)), List.of(), null, null,
                Instant.parse("2024-01-02T03:04:05Z"), Map.of("name", name), recordedAt, null, 0);
        return new Image(config, layer, manifest, record);
    }

    /**
     * The record's stored JSON exactly as the released program wrote it ({@code ManifestRecordJson} of
     * schema 1), spelled out here so a later change of that class cannot make this fixture agree with it.
     */
    public static String releasedDoc(ManifestRecord r) {
        StringBuilder blobs = new StringBuilder();
        for (BlobRef b : r.blobs()) {
            blobs.append(blobs.length() == 0 ? "" : ",").append("{\"digest\":\"").append(b.digest())
                    .append("\",\"size\":").append(b.size()).append('}');
        }
        StringBuilder labels = new StringBuilder();
        r.labels().forEach((k, v) -> labels.append(labels.length() == 0 ? "" : ",").append('"').append(k)
                .append("\":\"").append(v).append('"'));
        return "{\"mediaType\":\"" + r.mediaType() + "\",\"size\":" + r.size() + ",\"config\":\""
                + r.configDigest() + "\",\"blobs\":[" + blobs + "],\"children\":[],\"created\":"
                + Timestamps.toMicros(r.created()) + ",\"labels\":{" + labels + "},\"recordedAt\":"
                + Timestamps.toMicros(r.recordedAt()) + "}";
    }

    public List<Image> images() {
        return List.of(tagged, pinned);
    }

    /** Puts the bytes into the blob stores, as the released program stored them (the layout did not change). */
    public void storeBytes(BlobStore blobs, BlobStore manifests) throws IOException {
        for (Image i : images()) {
            blobs.put(i.record().configDigest(), i.config().length, new ByteArrayInputStream(i.config()));
            blobs.put(i.layerDigest(), i.layer().length, new ByteArrayInputStream(i.layer()));
            manifests.put(i.record().digest(), i.manifest().length, new ByteArrayInputStream(i.manifest()));
        }
    }
}
