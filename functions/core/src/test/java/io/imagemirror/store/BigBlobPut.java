package io.imagemirror.store;

import io.imagemirror.oci.Digest;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The "200 MiB blob at -Xmx96m" check: a child JVM with a small heap streams a generated blob
 * into a store. Adapter tests give a main class that builds their store from arguments and calls
 * {@link #putInThisJvm}; {@link #runChild} starts that class with the test's own classpath.
 */
public final class BigBlobPut {
    public static final long SIZE = 200L << 20;
    public static final long SEED = 200;

    private BigBlobPut() {
    }

    /** Called in the child: streams the blob into {@code store} and prints its digest. */
    public static void putInThisJvm(BlobStore store) throws IOException {
        GeneratedBlob blob = new GeneratedBlob(SIZE, SEED);
        Digest digest = blob.digest();
        try (InputStream in = blob.stream()) {
            BlobStore.PutResult result = store.put(digest, SIZE, in);
            System.out.println("PUT " + result + " " + digest + " maxHeap=" + Runtime.getRuntime().maxMemory());
        }
    }

    /** Runs {@code mainClass args} in a child JVM with {@code -Xmx96m}; returns its output, failing on exit != 0. */
    public static String runChild(Class<?> mainClass, List<String> args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
        cmd.add("-Xmx96m");
        cmd.add("-XX:+ExitOnOutOfMemoryError");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass.getName());
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(240, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("child JVM did not finish in time");
        }
        String text = new String(out, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new AssertionError("child JVM exited with " + p.exitValue() + ":\n" + text);
        }
        return text;
    }
}
