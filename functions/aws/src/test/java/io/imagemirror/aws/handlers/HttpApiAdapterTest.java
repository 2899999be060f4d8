package io.imagemirror.aws.handlers;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.imagemirror.api.ApiRequest;
import io.imagemirror.api.ApiResponse;
import io.imagemirror.aws.AwsFixture;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The HTTP API (payload 2.0) carrier, with a fake {@code ApiHandler} that records what it was asked. */
class HttpApiAdapterTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    final AtomicReference<ApiRequest> seen = new AtomicReference<>();
    final AtomicReference<byte[]> seenBody = new AtomicReference<>();

    APIGatewayV2HTTPResponse serve(APIGatewayV2HTTPEvent event, ApiResponse answer) {
        return HttpApiAdapter.serve(r -> {
            seen.set(r);
            seenBody.set(r.body().readAllBytes());
            return answer;
        }, event, null);
    }

    static APIGatewayV2HTTPEvent event(String method, String rawPath, String query, String stage) throws Exception {
        ObjectNode e = (ObjectNode) JSON.readTree(AwsFixture.eventJson("job-get.json"));
        e.put("rawPath", rawPath);
        e.put("rawQueryString", query);
        ((ObjectNode) e.get("requestContext")).put("stage", stage);
        ((ObjectNode) e.get("requestContext").get("http")).put("method", method);
        return AwsFixture.eventFromJson(e.toString(), APIGatewayV2HTTPEvent.class);
    }

    @Test
    void theSamplePostBecomesAnApiRequest() {
        APIGatewayV2HTTPResponse r = serve(AwsFixture.event("mirror-post.json", APIGatewayV2HTTPEvent.class),
                ApiResponse.json(202, "{\"ok\":true}"));
        ApiRequest req = seen.get();
        assertThat(req.method()).isEqualTo("POST");
        assertThat(req.path()).isEqualTo("/v1/mirror");
        assertThat(req.header("Content-Type")).contains("application/json");
        assertThat(req.fromLoopback()).isFalse();
        assertThat(new String(seenBody.get(), StandardCharsets.UTF_8)).contains("docker.io/library/alpine:3.20");
        assertThat(r.getStatusCode()).isEqualTo(202);
        assertThat(r.getBody()).isEqualTo("{\"ok\":true}");
        assertThat(r.getIsBase64Encoded()).isFalse();
        assertThat(r.getHeaders()).containsEntry("Content-Type", "application/json");
    }

    @Test
    void pathIsDecodedWithoutTheNamedStageAndQueryIsParsed() throws Exception {
        serve(event("GET", "/prod/v2/library/a%2Bb/tags/list", "n=10&last=x%20y", "prod"), ApiResponse.json(200, "{}"));
        assertThat(seen.get().path()).isEqualTo("/v2/library/a+b/tags/list");
        assertThat(seen.get().queryParam("n")).contains("10");
        assertThat(seen.get().queryParam("last")).contains("x y");
        serve(event("GET", "/v2/a+b", "", "$default"), ApiResponse.json(200, "{}"));
        assertThat(seen.get().path()).isEqualTo("/v2/a+b");
        serve(event("GET", "/prod", "", "prod"), ApiResponse.json(200, "{}"));
        assertThat(seen.get().path()).isEqualTo("/");
    }

    @Test
    void aBase64RequestBodyIsDecodedAndABadOneIsA400() throws Exception {
        ObjectNode e = (ObjectNode) JSON.readTree(AwsFixture.eventJson("mirror-post.json"));
        byte[] binary = {0, (byte) 0xff, 1, (byte) 0xfe};
        e.put("body", Base64.getEncoder().encodeToString(binary));
        e.put("isBase64Encoded", true);
        serve(AwsFixture.eventFromJson(e.toString(), APIGatewayV2HTTPEvent.class), ApiResponse.json(200, "{}"));
        assertThat(seenBody.get()).isEqualTo(binary);

        e.put("body", "***not base64***");
        seen.set(null);
        APIGatewayV2HTTPResponse r = serve(AwsFixture.eventFromJson(e.toString(), APIGatewayV2HTTPEvent.class),
                ApiResponse.json(200, "{}"));
        assertThat(seen.get()).isNull();
        assertThat(r.getStatusCode()).isEqualTo(400);
        assertThat(r.getBody()).contains("base64");
    }

    @Test
    void manifestsKeepTheirExactBytesAndBinaryGoesBase64() throws Exception {
        String manifestType = "application/vnd.oci.image.manifest.v1+json";
        byte[] manifest = "{\"schemaVersion\":2, \"annotations\":{\"x\":\"é\"}}\n".getBytes(StandardCharsets.UTF_8);
        APIGatewayV2HTTPResponse text = serve(event("GET", "/v2/a/manifests/1", "", "$default"),
                ApiResponse.bytes(200, manifestType, manifest).header("Docker-Content-Digest", "sha256:abc"));
        assertThat(text.getIsBase64Encoded()).isFalse();
        assertThat(text.getBody().getBytes(StandardCharsets.UTF_8)).isEqualTo(manifest);
        assertThat(text.getHeaders()).containsEntry("Docker-Content-Digest", "sha256:abc")
                .containsEntry("Content-Type", manifestType);

        byte[] notUtf8 = {'{', (byte) 0xc3, '}'};
        APIGatewayV2HTTPResponse invalid = serve(event("GET", "/v2/a/manifests/2", "", "$default"),
                ApiResponse.bytes(200, manifestType, notUtf8));
        assertThat(invalid.getIsBase64Encoded()).isTrue();
        assertThat(Base64.getDecoder().decode(invalid.getBody())).isEqualTo(notUtf8);

        byte[] blob = {1, 2, 3, (byte) 0x80};
        APIGatewayV2HTTPResponse streamed = serve(event("GET", "/v2/a/blobs/sha256:x", "", "$default"),
                ApiResponse.stream(200, "application/octet-stream", new ByteArrayInputStream(blob), blob.length));
        assertThat(streamed.getIsBase64Encoded()).isTrue();
        assertThat(Base64.getDecoder().decode(streamed.getBody())).isEqualTo(blob);
    }

    @Test
    void headAnswersHeadersOnlyAndRedirectsKeepTheirLocation() throws Exception {
        AtomicBoolean closed = new AtomicBoolean();
        InputStream body = new ByteArrayInputStream(new byte[10]) {
            @Override
            public void close() {
                closed.set(true);
            }
        };
        APIGatewayV2HTTPResponse head = serve(event("HEAD", "/v2/a/blobs/sha256:x", "", "$default"),
                ApiResponse.stream(200, "application/octet-stream", body, 10));
        assertThat(head.getBody()).isNull();
        assertThat(head.getHeaders()).containsEntry("Content-Length", "10");
        assertThat(closed).isTrue();

        APIGatewayV2HTTPResponse redirect = serve(event("GET", "/v2/a/blobs/sha256:x", "", "$default"),
                ApiResponse.redirect(307, URI.create("https://bucket.s3.amazonaws.com/blobs/sha256/x?X-Amz-Signature=1")));
        assertThat(redirect.getStatusCode()).isEqualTo(307);
        assertThat(redirect.getHeaders()).containsEntry("Location",
                "https://bucket.s3.amazonaws.com/blobs/sha256/x?X-Amz-Signature=1");
        assertThat(redirect.getBody()).isNull();
    }

    @Test
    void failuresAre500sThatRevealNoDetail() throws Exception {
        APIGatewayV2HTTPResponse thrown = HttpApiAdapter.serve(r -> {
            throw new IllegalStateException("password=hunter2");
        }, event("GET", "/v1/jobs/x", "", "$default"), null);
        assertThat(thrown.getStatusCode()).isEqualTo(500);
        assertThat(JSON.readTree(thrown.getBody()).at("/errors/0/code").asText()).isEqualTo("UNKNOWN");
        assertThat(thrown.getBody()).doesNotContain("hunter2");

        byte[] huge = new byte[HttpApiAdapter.MAX_BODY_BYTES + 1];
        APIGatewayV2HTTPResponse tooBig = serve(event("GET", "/v2/a/blobs/sha256:x", "", "$default"),
                ApiResponse.stream(200, "application/octet-stream", new ByteArrayInputStream(huge), huge.length));
        assertThat(tooBig.getStatusCode()).isEqualTo(500);
        assertThat(tooBig.getIsBase64Encoded()).isFalse();
        assertThat(tooBig.getBody()).contains("internal error").hasSizeLessThan(1000);
    }
}
