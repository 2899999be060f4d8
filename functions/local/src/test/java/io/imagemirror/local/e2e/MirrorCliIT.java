package io.imagemirror.local.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.imagemirror.oci.Digest;
import io.imagemirror.testbed.LocalRegistry;
import io.imagemirror.testbed.TestImage;
import io.imagemirror.testbed.TestIndex;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code image-mirror mirror} as a user runs it, against a real docker-registry, into the local store. */
class MirrorCliIT {

    @TempDir
    static Path tmp;
    static LocalRegistry upstream;

    @BeforeAll
    static void startUpstream() {
        upstream = LocalRegistry.start(tmp);
    }

    @AfterAll
    static void stopUpstream() {
        upstream.close();
    }

    JarProcess.Result mirror(Path data, String... args) throws Exception {
        String[] all = Stream.concat(Stream.of("--data", data.toString(), "--insecure-registry", upstream.hostPort(),
                "mirror"), Stream.of(args)).toArray(String[]::new);
        return JarProcess.jar(all);
    }

    static long storedBytes(Path data) throws Exception {
        try (Stream<Path> files = Files.walk(data.resolve("blobs"))) {
            return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }

    @Test
    void secondImageReportsSharedLayersAsAlreadyExists() throws Exception {
        Path data = tmp.resolve("shared-data");
        TestImage.Blob base = TestImage.layer(1, 500_000);
        TestImage a = TestImage.builder(10).layer(base).layer(20_000).build();
        TestImage b = TestImage.builder(11).layer(base).layer(30_000).build();
        upstream.pusher().pushImage("cli/a", "1", a);
        upstream.pusher().pushImage("cli/b", "1", b);

        JarProcess.Result first = mirror(data, upstream.hostPort() + "/cli/a:1");
        assertThat(first.status()).as(first.err()).isZero();
        assertThat(first.out()).contains("Pull complete").contains(a.digest());

        JarProcess.Result second = mirror(data, upstream.hostPort() + "/cli/b:1");
        assertThat(second.status()).as(second.err()).isZero();
        String baseShort = Digest.parse(base.digest()).shortHex();
        assertThat(second.out()).contains(baseShort + ": Already exists")
                .contains(Digest.parse(b.layers().get(1).digest()).shortHex() + ": Pull complete");
        long unique = base.size() + a.config().size() + a.layers().get(1).size() + b.config().size()
                + b.layers().get(1).size();
        assertThat(storedBytes(data)).isEqualTo(unique);

        JarProcess.Result again = mirror(data, upstream.hostPort() + "/cli/b:1");
        assertThat(again.out()).contains("Image is up to date");
    }

    @Test
    void platformFilterAndJsonResult() throws Exception {
        Path data = tmp.resolve("platform-data");
        TestImage amd = TestImage.builder(20).layer(10_000).build();
        TestImage arm = TestImage.builder(21).platform("linux", "arm64", "v8").layer(11_000).build();
        TestIndex index = TestIndex.of(TestImage.Format.DOCKER, List.of(amd, arm), false);
        upstream.pusher().pushIndex("cli/multi", "1", index);
        JarProcess.Result r = mirror(data, upstream.hostPort() + "/cli/multi:1", "--platform", "linux/arm64", "--json");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out()).contains("\"digest\":\"" + index.digest() + "\"").contains(arm.layers().get(0).digest())
                .doesNotContain(amd.layers().get(0).digest());
    }

    @Test
    void failuresExitNonZeroWithOneLineReason() throws Exception {
        Path data = tmp.resolve("fail-data");
        JarProcess.Result missing = mirror(data, upstream.hostPort() + "/cli/none:1");
        assertThat(missing.status()).isEqualTo(1);
        assertThat(missing.err().strip().lines()).singleElement().asString().startsWith("error: ")
                .contains("cli/none:1");

        JarProcess.Result denied = JarProcess.jar("--data", data.toString(), "mirror", "evil.example.com/x:1");
        assertThat(denied.status()).isEqualTo(1);
        assertThat(denied.err()).contains("not a configured upstream");

        JarProcess.Result badRef = JarProcess.jar("--data", data.toString(), "mirror", "Bad:Ref");
        assertThat(badRef.status()).isEqualTo(1);
        assertThat(badRef.err()).contains("invalid reference");
    }

    @Test
    void configFileDeclaresUpstreams() throws Exception {
        Path data = tmp.resolve("config-data");
        TestImage img = TestImage.builder(30).build();
        upstream.pusher().pushImage("cli/conf", "1", img);
        Path config = tmp.resolve("mirror.yaml");
        Files.writeString(config, "upstreams:\n  - name: " + upstream.hostPort() + "\n    endpoint: " + upstream.url()
                + "\n    insecure: true\ntagTtl: 1m\n");
        JarProcess.Result r = JarProcess.jar("--data", data.toString(), "--config", config.toString(), "mirror", "-q",
                upstream.hostPort() + "/cli/conf:1");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out().strip()).isEqualTo(img.digest());

        Files.writeString(config, "upstreams:\n  - name: x\n    pasword: y\n");
        JarProcess.Result bad = JarProcess.jar("--data", data.toString(), "--config", config.toString(), "mirror", "x/y");
        assertThat(bad.status()).isEqualTo(1);
        assertThat(bad.err()).contains("pasword");
    }
}
