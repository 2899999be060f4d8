package io.imagemirror.local.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.imagemirror.testbed.Content;
import io.imagemirror.testbed.FaultProxy;
import io.imagemirror.testbed.FaultProxy.Fault;
import io.imagemirror.testbed.LocalRegistry;
import io.imagemirror.testbed.TestImage;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One process per data directory, and nothing left behind by a killed one (issue 15 item 6): real
 * processes of the shaded jar, a real {@code kill -9}, the upstream held mid-body by the fault proxy
 * so the kill lands mid-copy by construction, not by timing.
 */
class DataDirectoryIT {

    @TempDir
    static Path tmp;
    static LocalRegistry registry;
    static FaultProxy proxy;
    static final TestImage IMAGE = TestImage.builder(161).layer(3 << 20).build();

    @BeforeAll
    static void upstream() {
        registry = LocalRegistry.start(tmp);
        registry.pusher().pushImage("kill/app", "1", IMAGE);
        proxy = FaultProxy.start(registry.url());
    }

    @AfterAll
    static void stop() {
        proxy.close();
        registry.close();
    }

    @AfterEach
    void noFaults() {
        proxy.clearFaults();
    }

    static String[] args(Path data, String... rest) {
        return Stream.concat(Stream.of("--data", data.toString(), "--insecure-registry", proxy.hostPort()),
                Stream.of(rest)).toArray(String[]::new);
    }

    static List<Path> files(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        }
    }

    @Test
    void aSecondProcessIsToldWhoHoldsTheDirectoryOrWaitsForIt() throws Exception {
        Path data = tmp.resolve("locked");
        String image = proxy.hostPort() + "/kill/app:1";
        try (JarProcess.Server server = JarProcess.Server.start(args(data, "serve", "--listen", "127.0.0.1:0", "--default-upstream", proxy.hostPort()))) {
            JarProcess.Result refused = JarProcess.jar(args(data, "mirror", image));
            assertThat(refused.status()).as(refused.err()).isEqualTo(1);
            assertThat(refused.err()).startsWith("error: ").contains("in use by another image-mirror process (PID "
                    + server.process.pid() + ")").contains("--wait");

            Path out = tmp.resolve("wait.out");
            Path err = tmp.resolve("wait.err");
            Process waiting = JarProcess.startJar(out, err, args(data, "--wait", "mirror", image));
            await().atMost(Duration.ofMinutes(1)).until(() -> Files.readString(err)
                    .contains("waiting for image-mirror process " + server.process.pid()));
            assertThat(waiting.isAlive()).isTrue();
            server.close();
            assertThat(waiting.waitFor(3, TimeUnit.MINUTES)).isTrue();
            assertThat(waiting.exitValue()).as(Files.readString(err)).isZero();
            assertThat(Files.readString(out)).contains("Mirrored");
        }
    }

    @Test
    void aMirrorKilledMidCopyLeavesNothingAfterTheRerun() throws Exception {
        Path data = tmp.resolve("killed-mirror");
        FaultProxy.Gate gate = new FaultProxy.Gate();
        proxy.inject(Fault.pass().holdingAt(1 << 20, gate));
        proxy.inject(Fault.pass().holdingAt(1 << 20, gate)); // the config or the layer: whichever comes first holds
        Process mirror = JarProcess.startJar(tmp.resolve("k.out"), tmp.resolve("k.err"),
                args(data, "mirror", proxy.hostPort() + "/kill/app:1"));
        assertThat(gate.awaitReached(Duration.ofMinutes(1))).isTrue();
        await().atMost(Duration.ofMinutes(1)).until(() -> !files(data.resolve("tmp")).isEmpty());
        JarProcess.kill9(mirror);
        gate.release();
        assertThat(files(data.resolve("tmp"))).as("the kill left its part file").isNotEmpty();
        proxy.clearFaults();

        JarProcess.Result rerun = JarProcess.jar(args(data, "mirror", proxy.hostPort() + "/kill/app:1"));
        assertThat(rerun.status()).as(rerun.err()).isZero();
        assertThat(files(data.resolve("tmp"))).isEmpty();
        TestImage.Blob layer = IMAGE.layers().get(0);
        Path stored = data.resolve("blobs").resolve("sha256").resolve(layer.digest().substring(7, 9))
                .resolve(layer.digest().substring(7));
        assertThat(Content.sha256(Files.readAllBytes(stored))).isEqualTo(layer.digest());
    }

    @Test
    void aServeKilledMidColdPullLeavesNoSpoolAfterTheRestart() throws Exception {
        Path data = tmp.resolve("killed-serve");
        TestImage.Blob layer = IMAGE.layers().get(0);
        FaultProxy.Gate gate = new FaultProxy.Gate();
        proxy.inject(Fault.pass().holdingAt(2 << 20, gate));
        JarProcess.Server first = JarProcess.Server.start(args(data, "serve", "--listen", "127.0.0.1:0", "--default-upstream", proxy.hostPort()));
        try {
            HttpClient.newHttpClient().sendAsync(HttpRequest.newBuilder(URI.create("http://" + first.hostPort()
                    + "/v2/kill/app/blobs/" + layer.digest())).build(),
                    HttpResponse.BodyHandlers.discarding());
            assertThat(gate.awaitReached(Duration.ofMinutes(1))).isTrue();
            await().atMost(Duration.ofMinutes(1)).until(() -> !files(data.resolve("spool")).isEmpty());
            JarProcess.kill9(first.process);
        } finally {
            gate.release();
            first.close();
        }
        assertThat(files(data.resolve("spool"))).as("the kill left its spool").isNotEmpty();

        try (JarProcess.Server second = JarProcess.Server.start(args(data, "serve", "--listen", "127.0.0.1:0", "--default-upstream", proxy.hostPort()))) {
            // the lock is taken before the server says it is serving: the spool is already clear
            assertThat(files(data.resolve("spool"))).isEmpty();
            assertThat(files(data.resolve("tmp"))).isEmpty();
            HttpResponse<byte[]> blob = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://"
                    + second.hostPort() + "/v2/kill/app/blobs/" + layer.digest())).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertThat(blob.statusCode()).isEqualTo(200);
            assertThat(Content.sha256(blob.body())).isEqualTo(layer.digest());
        }
    }

    @Test
    void aSweepKilledMidwayIsFinishedByTheNextAndLosesNothingReferenced() throws Exception {
        Path data = tmp.resolve("killed-sweep");
        TestImage.Blob base = TestImage.layer(171, 20_000);
        List<TestImage> versions = List.of(TestImage.builder(172).layer(base).layer(30_000).layer(31_000).build(),
                TestImage.builder(173).layer(base).layer(32_000).layer(33_000).build(),
                TestImage.builder(174).layer(base).layer(34_000).build());
        for (TestImage v : versions) {
            registry.pusher().pushImage("sweep/moved", "1", v);
            assertThat(JarProcess.jar(args(data, "mirror", proxy.hostPort() + "/sweep/moved:1")).status()).isZero();
        }
        Path out = tmp.resolve("sweep.out");
        Path err = tmp.resolve("sweep.err");
        Process sweep = JarProcess.startJar(out, err, args(data, "prune", "--grace", "0",
                "--stall-after-blob-sweeps", "3"));
        // The hook stalls right after the third blob's record reads "being swept", before its bytes go.
        await().atMost(Duration.ofMinutes(2)).until(() -> Files.readString(out).contains("stalled: blob "));
        JarProcess.kill9(sweep);
        String stalled = Files.readString(out).lines().filter(l -> l.startsWith("stalled: blob ")).findFirst()
                .orElseThrow().split(" ")[2];
        Path bytes = data.resolve("blobs").resolve("sha256").resolve(stalled.substring(7, 9)).resolve(stalled.substring(7));
        assertThat(bytes).as("the kill left the bytes of a blob being swept").exists();

        JarProcess.Result rerun = JarProcess.jar(args(data, "prune", "--grace", "0"));
        assertThat(rerun.status()).as(rerun.err()).isZero();
        assertThat(rerun.out()).contains("deleted: blob " + stalled);
        assertThat(bytes).doesNotExist();
        JarProcess.Result left = JarProcess.jar(args(data, "prune", "--grace", "0", "--dry-run"));
        assertThat(left.out()).as("nothing dangling or unreferenced left").contains("Would delete 0 manifest(s) and 0 blob(s).");
        // Everything the tag references is there: served byte-identical to skopeo.
        try (JarProcess.Server serve = JarProcess.Server.start(args(data, "serve", "--listen", "127.0.0.1:0",
                "--default-upstream", proxy.hostPort()))) {
            Path copied = tmp.resolve("copied");
            JarProcess.Result copy = JarProcess.skopeo("copy", "--src-tls-verify=false",
                    "docker://" + serve.hostPort() + "/sweep/moved:1", "dir:" + copied);
            assertThat(copy.status()).as(copy.err()).isZero();
            for (TestImage.Blob b : versions.get(2).blobs()) {
                assertThat(Files.readAllBytes(copied.resolve(b.digest().substring(7)))).isEqualTo(b.bytes());
            }
        }
    }
}
