package io.imagemirror.upstream;

import io.imagemirror.oci.Digest;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.net.URI;
import java.time.Clock;

/**
 * Streams one blob through {@link RegistryClient} and prints how many bytes verified and the peak
 * heap used. Run by {@link LargeBlobLowHeapTest} in a child JVM with a small {@code -Xmx}; by hand:
 * {@code java -Xmx96m -cp <test classpath> io.imagemirror.upstream.LargeBlobRead http://127.0.0.1:PORT repo sha256:… SIZE [ranged]}.
 */
public final class LargeBlobRead {
    private LargeBlobRead() {
    }

    public static void main(String[] args) throws Exception {
        URI endpoint = URI.create(args[0]);
        String repo = args[1];
        Digest digest = Digest.parse(args[2]);
        long size = Long.parseLong(args[3]);
        Upstream upstream = Upstream.builder(endpoint.getAuthority()).endpoint(endpoint).insecure(true).build();
        // The default policy's parts and parallelism, in parallel from the first part whatever the speed of
        // one connection (on loopback the default would stream the rest after the first part).
        RangedFetch d = RangedFetch.DEFAULTS;
        RegistryClient client = new RegistryClient(upstream, RegistryClient.defaultHttpClient(), Clock.systemUTC(),
                RetryPolicy.defaults(), new RangedFetch(d.threshold(), d.partSize(), d.parallelism()),
                RangedBlobFetch.defaultHelpers());
        long start = System.nanoTime();
        long total = 0;
        if (args.length > 4 && args[4].equals("ranged")) {
            // parallel ranged GETs written at their offsets into a file
            java.nio.file.Path file = java.nio.file.Files.createTempFile("large-blob", ".part");
            try (java.nio.channels.FileChannel out = java.nio.channels.FileChannel.open(file,
                    java.nio.file.StandardOpenOption.WRITE)) {
                total = client.fetchBlob(repo, digest, size, (offset, bytes) -> {
                    while (bytes.hasRemaining()) {
                        offset += out.write(bytes, offset);
                    }
                });
                System.out.println("ranged fetch into a file of " + out.size() + " bytes");
            } finally {
                java.nio.file.Files.deleteIfExists(file);
            }
        } else {
            byte[] buf = new byte[64 * 1024];
            try (InputStream in = client.openBlob(repo, digest, size)) {
                for (int n; (n = in.read(buf)) >= 0; ) {
                    total += n;
                }
            }
        }
        long peak = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                peak += pool.getPeakUsage().getUsed();
            }
        }
        System.out.printf("verified %d bytes of %s in %.1f s; max heap %d MiB, peak heap used %d MiB%n", total, digest,
                (System.nanoTime() - start) / 1e9, Runtime.getRuntime().maxMemory() >> 20, peak >> 20);
        System.exit(0); // OkHttp's pool threads would keep the JVM alive for a minute
    }
}
