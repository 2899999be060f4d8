package io.imagemirror.aws.handlers;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class LambdaLogTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aLineIsOneJsonObjectWithTheRequestId() throws Exception {
        String line = LambdaLog.json(Instant.parse("2026-12-02T01:00:00Z"), "WARN", "abc-123",
                "serving docker.io/library/alpine:3 stale: \"quoted\"\nsecond line\ttab");
        assertThat(line).doesNotContain("\n");
        JsonNode o = JSON.readTree(line);
        assertThat(o.path("timestamp").asText()).isEqualTo("2026-12-02T01:00:00Z");
        assertThat(o.path("level").asText()).isEqualTo("WARN");
        assertThat(o.path("requestId").asText()).isEqualTo("abc-123");
        assertThat(o.path("message").asText()).endsWith("\"quoted\"\nsecond line\ttab");
    }

    @Test
    void secretsAreRedacted() {
        String presigned = "https://bucket.s3.amazonaws.com/blobs/sha256/ab?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                + "&X-Amz-Credential=AKIAEXAMPLE%2F20261202&X-Amz-Signature=deadbeef";
        String out = LambdaLog.redact("redirect to " + presigned + " failed; Authorization: Bearer eyJhbGciOi.x.y, "
                + "Basic dXNlcjpwYXNz token=abc password: hunter2");
        assertThat(out).contains("https://bucket.s3.amazonaws.com/blobs/sha256/ab?<redacted>")
                .doesNotContain("AKIAEXAMPLE").doesNotContain("deadbeef").doesNotContain("eyJhbGciOi")
                .doesNotContain("dXNlcjpwYXNz").doesNotContain("abc ").doesNotContain("hunter2");
        assertThat(LambdaLog.redact("GET /v2/library/alpine/manifests/3.20 answered 404"))
                .isEqualTo("GET /v2/library/alpine/manifests/3.20 answered 404");
    }

    @Test
    void linesOfOtherThreadsCarryTheInvocationsRequestId() throws Exception {
        java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
        java.io.PrintStream saved = System.out;
        System.setOut(new java.io.PrintStream(buf, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            LambdaLog.begin(new FakeContext("req-9"));
            Thread t = new Thread(() -> LambdaLog.warn("from a background thread"));
            t.start();
            t.join();
        } finally {
            LambdaLog.end();
            System.setOut(saved);
        }
        JsonNode o = JSON.readTree(buf.toString(java.nio.charset.StandardCharsets.UTF_8).trim());
        assertThat(o.path("requestId").asText()).isEqualTo("req-9");
        assertThat(o.path("message").asText()).isEqualTo("from a background thread");
    }
}
