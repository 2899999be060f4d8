package io.imagemirror.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.imagemirror.testbed.Content;
import io.imagemirror.testbed.LocalRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 512 MiB blob streams through the client in a JVM capped at 96 MiB of heap: nothing buffers a
 * blob whole. The blob is pushed to a real registry from here; a child JVM ({@link LargeBlobRead})
 * reads and verifies it, once as one stream and once with parallel ranged GETs.
 * {@code -Dimagemirror.largeBlob.mib=N} changes the size.
 */
class LargeBlobLowHeapTest {

    @TempDir
    static Path tmp;
    static LocalRegistry registry;
    static final long SIZE = Long.getLong("imagemirror.largeBlob.mib", 512) << 20;
    static final long SEED = 512;
    static String digest;

    @BeforeAll
    static void push() throws Exception {
        digest = Content.sha256(Content.randomStream(SEED, SIZE));
        registry = LocalRegistry.start(tmp);
        registry.pusher().pushBlob("big/blob", digest, SIZE, () -> Content.randomStream(SEED, SIZE));
    }

    @AfterAll
    static void stop() {
        registry.close();
    }

    @Test
    void aBlobFiveTimesTheHeapStreamsThroughVerified() throws Exception {
        String output = readInChild();
        assertThat(output).contains("verified " + SIZE + " bytes of " + digest);
    }

    /** The default policy holds at most 6 parts of 8 MiB: the ranged fetch fits the same small heap. */
    @Test
    void aBlobFetchedInParallelRangedPartsStaysWithinTheSameHeap() throws Exception {
        assertThat(RangedFetch.DEFAULTS.maxBufferedBytes()).isLessThanOrEqualTo(48L << 20);
        String output = readInChild("ranged");
        assertThat(output).contains("ranged fetch into a file of " + SIZE + " bytes")
                .contains("verified " + SIZE + " bytes of " + digest);
    }

    private static String readInChild(String... extra) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> cmd = new java.util.ArrayList<>(List.of(java.toString(), "-Xmx96m", "-cp",
                System.getProperty("java.class.path"), LargeBlobRead.class.getName(),
                registry.url().toString(), "big/blob", digest, Long.toString(SIZE)));
        cmd.addAll(List.of(extra));
        Process child = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = child.getInputStream().readAllBytes();
        assertThat(child.waitFor(5, TimeUnit.MINUTES)).isTrue();
        String output = new String(out, StandardCharsets.UTF_8);
        assertThat(child.exitValue()).as(output).isZero();
        assertThat(output).contains("max heap");
        // The child must really have run with the small heap.
        assertThat(output).containsPattern("max heap (8[0-9]|9[0-6]) MiB");
        System.out.println(output.trim());
        return output;
    }
}
