package io.imagemirror.testbed;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The test bed's own check: what it pushes is what a real registry and skopeo give back, byte for byte. */
class LocalRegistryTest {

    @TempDir
    Path tmp;

    @Test
    void pushedIndexComesBackByteIdenticalThroughSkopeo() throws Exception {
        try (LocalRegistry registry = LocalRegistry.start(tmp)) {
            TestImage.Blob base = TestImage.layer(1, 4096);
            TestImage amd = TestImage.builder(10).layer(base).layer(2000).build();
            TestImage arm = TestImage.builder(11).platform("linux", "arm64", "v8").layer(base).layer(3000).build();
            TestIndex index = TestIndex.of(TestImage.Format.OCI, List.of(amd, arm), true);
            registry.pusher().pushIndex("demo/app", "v1", index);

            Process p = new ProcessBuilder("skopeo", "inspect", "--raw", "--tls-verify=false",
                    "docker://" + registry.hostPort() + "/demo/app:v1").redirectErrorStream(true).start();
            byte[] raw = p.getInputStream().readAllBytes();
            assertThat(p.waitFor()).as(new String(raw)).isZero();
            assertThat(raw).isEqualTo(index.bytes());
            assertThat(Content.sha256(raw)).isEqualTo(index.digest());

            HttpResponse<byte[]> blob = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create(registry.url() + "/v2/demo/app/blobs/" + base.digest())).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertThat(blob.statusCode()).isEqualTo(200);
            assertThat(blob.body()).isEqualTo(base.bytes());
        }
    }

    @Test
    void basicAuthRegistryRefusesAnonymousAndAcceptsItsUser() throws Exception {
        try (LocalRegistry registry = LocalRegistry.startWithBasicAuth(tmp, "alice", "s3cret")) {
            HttpResponse<String> anon = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(registry.url().resolve("/v2/")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(anon.statusCode()).isEqualTo(401);
            assertThat(anon.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("Basic"));
            TestImage img = TestImage.builder(3).format(TestImage.Format.DOCKER).build();
            assertThat(registry.pusher().pushImage("private/x", "1", img)).isEqualTo(img.digest());
        }
    }

    @Test
    void restartKeepsContent() throws Exception {
        try (LocalRegistry registry = LocalRegistry.start(tmp)) {
            TestImage img = TestImage.builder(4).build();
            registry.pusher().pushImage("r", "t", img);
            registry.stop();
            registry.start();
            HttpResponse<byte[]> m = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    registry.url().resolve("/v2/r/manifests/t")).header("Accept", img.mediaType()).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertThat(m.body()).isEqualTo(img.manifest());
        }
    }
}
