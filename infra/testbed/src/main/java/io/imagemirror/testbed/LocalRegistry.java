package io.imagemirror.testbed;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A real upstream registry for tests: Debian's {@code docker-registry} (CNCF distribution 2.8)
 * serving a fresh temporary directory on 127.0.0.1, optionally behind htpasswd Basic auth or as a
 * pull-through proxy of another registry. Stopped (by its own PID) and deleted by {@link #close()}.
 * The storage directory survives {@link #stop()} so that {@link #start()} brings the same content back.
 *
 * <p>Its access log ({@code registry.log}) is for reading after a failure, not for counting: the
 * registry writes a blob GET's line only after the body has gone out through the socket, so a client
 * can hold the whole answer before the line exists. Tests count requests at a {@link FaultProxy} in
 * front of it, which records each request before forwarding it.
 */
public final class LocalRegistry implements AutoCloseable {

    public static final String BINARY = "/usr/bin/docker-registry";

    private final Path dir;
    private final int port;
    private final String htpasswdUser;
    private final String htpasswdPassword;
    private final String proxyRemoteUrl;
    private Process process;

    private LocalRegistry(Path dir, int port, String user, String password, String proxyRemoteUrl) {
        this.dir = dir;
        this.port = port;
        this.htpasswdUser = user;
        this.htpasswdPassword = password;
        this.proxyRemoteUrl = proxyRemoteUrl;
    }

    /** Whether the registry binary is installed (tests that need it fail clearly without it). */
    public static boolean available() {
        return Files.isExecutable(Path.of(BINARY));
    }

    /** Starts an open registry. */
    public static LocalRegistry start(Path tempParent) {
        return create(tempParent, null, null, null);
    }

    /** Starts a registry that demands Basic auth with this user (htpasswd -B). */
    public static LocalRegistry startWithBasicAuth(Path tempParent, String user, String password) {
        return create(tempParent, user, password, null);
    }

    /** Starts a registry in proxy (pull-through) mode in front of {@code remoteUrl}. */
    public static LocalRegistry startProxy(Path tempParent, String remoteUrl) {
        return create(tempParent, null, null, remoteUrl);
    }

    private static LocalRegistry create(Path tempParent, String user, String password, String proxy) {
        if (!available()) {
            throw new IllegalStateException(BINARY + " is missing: run infra/testbed.sh install");
        }
        try {
            Path dir = Files.createTempDirectory(tempParent, "registry-");
            LocalRegistry r = new LocalRegistry(dir, freePort(), user, password, proxy);
            r.start();
            return r;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** (Re)starts the process over the same storage directory. */
    public synchronized void start() {
        if (process != null && process.isAlive()) {
            return;
        }
        try {
            Files.createDirectories(dir.resolve("data"));
            StringBuilder cfg = new StringBuilder()
                    .append("version: 0.1\n")
                    .append("log:\n  level: warn\n  accesslog:\n    disabled: false\n")
                    .append("storage:\n  filesystem:\n    rootdirectory: ").append(dir.resolve("data")).append('\n')
                    .append("  delete:\n    enabled: true\n")
                    .append("http:\n  addr: 127.0.0.1:").append(port).append('\n')
                    // Foreign / non-distributable layers name URLs; without an allow-list the registry refuses them.
                    .append("validation:\n  manifests:\n    urls:\n      allow:\n        - ^https?://\n");
            if (htpasswdUser != null) {
                Path htpasswd = dir.resolve("htpasswd");
                Process hp = new ProcessBuilder("htpasswd", "-Bbn", htpasswdUser, htpasswdPassword)
                        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
                byte[] line = hp.getInputStream().readAllBytes();
                if (hp.waitFor() != 0) {
                    throw new IllegalStateException("htpasswd failed (apt-get install apache2-utils)");
                }
                Files.write(htpasswd, line);
                cfg.append("auth:\n  htpasswd:\n    realm: test-realm\n    path: ").append(htpasswd).append('\n');
            }
            if (proxyRemoteUrl != null) {
                cfg.append("proxy:\n  remoteurl: ").append(proxyRemoteUrl).append('\n');
            }
            Path config = dir.resolve("config.yml");
            Files.writeString(config, cfg);
            process = new ProcessBuilder(BINARY, "serve", config.toString())
                    .redirectErrorStream(true)
                    .redirectOutput(dir.resolve("registry.log").toFile())
                    .start();
            waitUntilUp();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private void waitUntilUp() throws InterruptedException, IOException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(300)).build();
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("docker-registry exited: " + Files.readString(dir.resolve("registry.log")));
            }
            try {
                HttpResponse<Void> r = http.send(HttpRequest.newBuilder(url().resolve("/v2/")).build(),
                        HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200 || r.statusCode() == 401) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("docker-registry did not answer on " + url());
    }

    /** Stops the process (its own PID); the content stays for a later {@link #start()}. */
    public synchronized void stop() {
        if (process != null) {
            process.destroy();
            try {
                if (!process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            process = null;
        }
    }

    @Override
    public void close() {
        stop();
        try (Stream<Path> walk = Files.walk(dir)) {
            List<Path> all = new ArrayList<>(walk.sorted(Comparator.reverseOrder()).toList());
            for (Path p : all) {
                Files.deleteIfExists(p);
            }
        } catch (IOException ignored) {
            // a temp dir left behind is harmless
        }
    }

    /** {@code http://127.0.0.1:PORT}. */
    public URI url() {
        return URI.create("http://127.0.0.1:" + port);
    }

    /** {@code 127.0.0.1:PORT}, the registry part of a reference. */
    public String hostPort() {
        return "127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    public Path directory() {
        return dir;
    }

    /** A client that pushes content to this registry (with its Basic credentials if any). */
    public RegistryPusher pusher() {
        return new RegistryPusher(url(), htpasswdUser, htpasswdPassword);
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
