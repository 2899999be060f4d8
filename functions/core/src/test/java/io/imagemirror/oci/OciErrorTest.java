package io.imagemirror.oci;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class OciErrorTest {

    @Test
    void rendersTheSpecBodyAndParsesItBack() {
        OciError e = new OciError(ErrorCode.MANIFEST_UNKNOWN, "manifest unknown", "tag \"x\" is not known");
        String json = e.toJson();
        assertThat(json).isEqualTo("{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\","
                + "\"detail\":\"tag \\\"x\\\" is not known\"}]}");
        assertThat(OciError.parse(json.getBytes(StandardCharsets.UTF_8))).containsExactly(e);
        assertThat(OciError.toJson(List.of(OciError.of(ErrorCode.DENIED)))).isEqualTo(
                "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"requested access to the resource is denied\"}]}");
    }

    @Test
    void unknownCodesObjectDetailsAndJunkAreTolerated() {
        List<OciError> errors = OciError.parse(("{\"errors\":[{\"code\":\"QUOTA_EXCEEDED\",\"message\":\"too big\"},"
                + "{\"code\":\"NAME_UNKNOWN\",\"detail\":{\"name\":\"x\"}}, 7]}").getBytes(StandardCharsets.UTF_8));
        assertThat(errors).containsExactly(
                new OciError(ErrorCode.UNKNOWN, "QUOTA_EXCEEDED: too big", null),
                new OciError(ErrorCode.NAME_UNKNOWN, ErrorCode.NAME_UNKNOWN.defaultMessage(), "{\"name\":\"x\"}"));
        assertThat(OciError.parse("<html>502 Bad Gateway</html>".getBytes(StandardCharsets.UTF_8))).isEmpty();
        assertThat(OciError.parse("{\"details\":\"no\"}".getBytes(StandardCharsets.UTF_8))).isEmpty();
        assertThat(OciError.parse(new byte[0])).isEmpty();
    }

    @Test
    void readingStopsAtTheCap() throws IOException {
        byte[] huge = ("{\"errors\":[{\"code\":\"DENIED\"}]," + " ".repeat(OciError.MAX_BODY_BYTES) + "}")
                .getBytes(StandardCharsets.UTF_8);
        ByteArrayInputStream in = new ByteArrayInputStream(huge);
        assertThat(OciError.read(in)).isEmpty(); // cut-off JSON does not parse, and we did not read it all
        assertThat(in.available()).isEqualTo(huge.length - OciError.MAX_BODY_BYTES);
    }

    @Test
    void everyCodeHasTheStatusOfTheSpec() {
        assertThat(ErrorCode.BLOB_UNKNOWN.httpStatus()).isEqualTo(404);
        assertThat(ErrorCode.MANIFEST_INVALID.httpStatus()).isEqualTo(400);
        assertThat(ErrorCode.UNAUTHORIZED.httpStatus()).isEqualTo(401);
        assertThat(ErrorCode.DENIED.httpStatus()).isEqualTo(403);
        assertThat(ErrorCode.TOOMANYREQUESTS.httpStatus()).isEqualTo(429);
        assertThat(ErrorCode.fromCode("NAME_INVALID")).isEqualTo(ErrorCode.NAME_INVALID);
        assertThat(ErrorCode.fromCode("nope")).isEqualTo(ErrorCode.UNKNOWN);
        assertThat(ErrorCode.fromCode(null)).isEqualTo(ErrorCode.UNKNOWN);
    }

    @Test
    void registryExceptionsKnowWhetherToRetry() {
        assertThat(new RegistryException("x", 503, List.of()).isRetryable()).isTrue();
        assertThat(new RegistryException("x", 429, List.of()).isRetryable()).isTrue();
        assertThat(new RegistryException("x", 501, List.of()).isRetryable()).isFalse();
        assertThat(new RegistryException("x", 404, List.of(OciError.of(ErrorCode.MANIFEST_UNKNOWN))).isRetryable()).isFalse();
        assertThat(new RegistryException("x", 403, List.of(OciError.of(ErrorCode.TOOMANYREQUESTS))).isRetryable()).isTrue();
        assertThat(RegistryException.transport("x", new IOException("reset")).isRetryable()).isTrue();
        assertThat(RegistryException.refused("x", ErrorCode.DENIED).isRetryable()).isFalse();

        RegistryException e = new RegistryException("docker.io: GET /v2/a/manifests/b", 404,
                List.of(OciError.of(ErrorCode.MANIFEST_UNKNOWN)), Duration.ofSeconds(3), false, null);
        assertThat(e.getMessage()).isEqualTo("docker.io: GET /v2/a/manifests/b: HTTP 404 (MANIFEST_UNKNOWN: manifest unknown to registry)");
        assertThat(e.hasCode(ErrorCode.MANIFEST_UNKNOWN)).isTrue();
        assertThat(e.hasCode(ErrorCode.BLOB_UNKNOWN)).isFalse();
        assertThat(e.retryAfter()).contains(Duration.ofSeconds(3));
    }
}
