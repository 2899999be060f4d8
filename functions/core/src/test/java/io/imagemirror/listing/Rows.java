package io.imagemirror.listing;

import io.imagemirror.oci.Digest;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;

/** Rows for listing tests: digests made from names, times from minutes after a fixed start. */
final class Rows {
    static final Instant T0 = Instant.parse("2026-11-01T10:00:00Z");

    private Rows() {
    }

    static Digest digest(String seed) {
        return Digest.sha256(seed.getBytes(StandardCharsets.UTF_8));
    }

    static ImageRow row(String repository, String tag, String seed, int mirroredMinute, long size,
                        Map<String, String> labels) {
        return new ImageRow("docker.io/library/" + repository, repository, tag, digest("m" + seed),
                digest("c" + seed), T0.minusSeconds(86_400L * 3), size, labels, T0.plusSeconds(60L * mirroredMinute));
    }
}
