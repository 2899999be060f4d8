package io.imagemirror.testbed;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.function.Supplier;

/**
 * Pushes test content to a registry over the distribution API (monolithic blob upload, manifest
 * PUT), so tests fill a real upstream without Docker or skopeo. Throws unchecked on any failure.
 */
public final class RegistryPusher {
    private final URI base;
    private final String authorization;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    RegistryPusher(URI base, String user, String password) {
        this.base = base;
        this.authorization = user == null ? null
                : "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    /** Uploads {@code bytes} to {@code repo}; returns its sha256 digest. */
    public String pushBlob(String repo, byte[] bytes) {
        String digest = Content.sha256(bytes);
        pushBlob(repo, digest, bytes.length, () -> new java.io.ByteArrayInputStream(bytes));
        return digest;
    }

    /** Uploads a blob given as a stream of known digest and size (for large test blobs). */
    public void pushBlob(String repo, String digest, long size, Supplier<InputStream> body) {
        HttpResponse<String> start = send(request("/v2/" + repo + "/blobs/uploads/")
                .POST(HttpRequest.BodyPublishers.noBody()).build());
        expect(start, 202, "start upload to " + repo);
        String location = start.headers().firstValue("Location")
                .orElseThrow(() -> new IllegalStateException("upload without Location"));
        URI put = base.resolve(location);
        String sep = put.getRawQuery() == null ? "?" : "&";
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(put + sep + "digest=" + digest))
                .timeout(Duration.ofMinutes(10))
                .header("Content-Type", "application/octet-stream")
                .PUT(HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(body), size));
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        expect(send(b.build()), 201, "upload " + digest + " to " + repo);
    }

    /** PUTs manifest bytes under {@code reference} (a tag or digest); returns the manifest's digest. */
    public String pushManifest(String repo, String reference, String mediaType, byte[] bytes) {
        HttpResponse<String> r = send(request("/v2/" + repo + "/manifests/" + reference)
                .header("Content-Type", mediaType)
                .PUT(HttpRequest.BodyPublishers.ofByteArray(bytes)).build());
        expect(r, 201, "put manifest " + reference + " in " + repo);
        return Content.sha256(bytes);
    }

    /** Pushes the config, layers and manifest of {@code image}, tagged {@code tag} (or by digest when null). */
    public String pushImage(String repo, String tag, TestImage image) {
        pushBlob(repo, image.config().bytes());
        for (TestImage.Blob layer : image.layers()) {
            pushBlob(repo, layer.bytes());
        }
        return pushManifest(repo, tag == null ? image.digest() : tag, image.mediaType(), image.manifest());
    }

    /** Pushes every child image (by digest) and then the index, tagged {@code tag}. */
    public String pushIndex(String repo, String tag, TestIndex index) {
        for (TestImage child : index.children()) {
            pushImage(repo, null, child);
        }
        return pushManifest(repo, tag == null ? index.digest() : tag, index.mediaType(), index.bytes());
    }

    /** Deletes a manifest by digest (the registry runs with delete enabled). */
    public void deleteManifest(String repo, String digest) {
        expect(send(request("/v2/" + repo + "/manifests/" + digest).DELETE().build()), 202, "delete " + digest);
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(60));
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return b;
    }

    private HttpResponse<String> send(HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static void expect(HttpResponse<String> r, int status, String what) {
        if (r.statusCode() != status) {
            throw new IllegalStateException(what + ": HTTP " + r.statusCode() + " " + r.body());
        }
    }
}
