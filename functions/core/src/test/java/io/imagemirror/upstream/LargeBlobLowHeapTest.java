package io.imagemirror.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.imagemirror.testbed.Content;
import io.imagemirror.testbed.LocalRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 512 MiB blob streams through the client in a JVM capped at 96 MiB of heap: nothing buffers a
 * blob whole. The blob is pushed to a real registry from here; a child JVM ({@link LargeBlobRead})
 * reads and verifies it. {@code -Dimagemirror.largeBlob.mib=N} changes the size.
 */
class LargeBlobLowHeapTest {

    @TempDir
    Path tmp;

    @Test
    void aBlobFiveTimesTheHeapStreamsThroughVerified() throws Exception {
        long size = Long.getLong("imagemirror.largeBlob.mib", 512) << 20;
        long seed = 512;
        String digest = Content.sha256(Content.randomStream(seed, size));
        try (LocalRegistry registry = LocalRegistry.start(tmp)) {
            registry.pusher().pushBlob("big/blob", digest, size, () -> Content.randomStream(seed, size));

            Path java = Path.of(System.getProperty("java.home"), "bin", "java");
            Process child = new ProcessBuilder(List.of(java.toString(), "-Xmx96m", "-cp",
                    System.getProperty("java.class.path"), LargeBlobRead.class.getName(),
                    registry.url().toString(), "big/blob", digest, Long.toString(size)))
                    .redirectErrorStream(true).start();
            byte[] out = child.getInputStream().readAllBytes();
            assertThat(child.waitFor(5, TimeUnit.MINUTES)).isTrue();
            String output = new String(out, StandardCharsets.UTF_8);
            assertThat(child.exitValue()).as(output).isZero();
            assertThat(output).contains("verified " + size + " bytes of " + digest).contains("max heap");
            // The child must really have run with the small heap.
            assertThat(output).containsPattern("max heap (8[0-9]|9[0-6]) MiB");
            System.out.println(output.trim());
        }
    }
}
