package io.imagemirror.aws.store;

import io.imagemirror.testbed.TestBed;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * An s3proxy 4.1.0 of one test's own, storing objects on disk ({@code filesystem-nio2}) on a free
 * port: for blobs of hundreds of MiB and more. The shared test-bed s3proxy keeps every object in its
 * 512 MiB heap ({@code transient-nio2}); a 1 GiB upload made it run out of memory for everyone.
 * Stopped (its own process only) by {@link #close()}.
 */
public final class DiskS3Proxy implements AutoCloseable {

    private final Process process;
    private final URI endpoint;

    private DiskS3Proxy(Process process, URI endpoint) {
        this.process = process;
        this.endpoint = endpoint;
    }

    /** Starts one storing under {@code dir}, with the test bed's credentials. */
    public static DiskS3Proxy start(Path dir) {
        try {
            Path data = Files.createDirectories(dir.resolve("s3"));
            int port;
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                port = s.getLocalPort();
            }
            Path properties = dir.resolve("s3proxy.properties");
            Files.writeString(properties, String.join("\n",
                    "s3proxy.endpoint=http://127.0.0.1:" + port,
                    "s3proxy.authorization=aws-v2-or-v4",
                    "s3proxy.identity=" + TestBed.ACCESS_KEY,
                    "s3proxy.credential=" + TestBed.SECRET_KEY,
                    "jclouds.provider=filesystem-nio2",
                    "jclouds.filesystem.basedir=" + data,
                    "jclouds.identity=unused",
                    "jclouds.credential=unused", ""));
            Path java = Path.of(System.getProperty("java.home"), "bin", "java");
            Process p = new ProcessBuilder(List.of(java.toString(), "-Xmx256m", "-jar", jar().toString(),
                    "--properties", properties.toString()))
                    .redirectErrorStream(true).redirectOutput(dir.resolve("s3proxy.log").toFile()).start();
            DiskS3Proxy proxy = new DiskS3Proxy(p, URI.create("http://127.0.0.1:" + port));
            proxy.waitUntilUp(port, dir.resolve("s3proxy.log"));
            return proxy;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The jar {@code infra/testbed.sh install} fetched, or the copy in the local Maven repository. */
    private static Path jar() {
        String name = "s3proxy-4.1.0-jar-with-dependencies.jar";
        for (Path p : List.of(TestBed.repoRoot().resolve("infra/.cache").resolve(name),
                Path.of(System.getProperty("user.home"), ".m2/repository/org/gaul/s3proxy/4.1.0", name))) {
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        throw new IllegalStateException(name + " not found: run infra/testbed.sh install");
    }

    private void waitUntilUp(int port, Path log) throws IOException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("s3proxy exited: " + Files.readString(log));
            }
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                return;
            } catch (IOException notYet) {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }
        }
        close();
        throw new IllegalStateException("s3proxy did not answer on " + endpoint + ": " + Files.readString(log));
    }

    public URI endpoint() {
        return endpoint;
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
