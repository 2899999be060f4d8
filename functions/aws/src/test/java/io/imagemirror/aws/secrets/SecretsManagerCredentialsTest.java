package io.imagemirror.aws.secrets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imagemirror.upstream.Credentials;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class SecretsManagerCredentialsTest {

    @Test
    void mapsRegistriesToCredentialsFoldingDockerHubAliases() throws IOException {
        SecretsManagerCredentials c = SecretsManagerCredentials.parse("""
                {"index.docker.io": {"username": "me", "password": "dckr_pat_s3cr3t"},
                 "GHCR.io": {"username": "bot", "password": "ghp_t0ken"}}""", "arn:secret");
        assertThat(c.find("docker.io")).contains(Credentials.of("me", "dckr_pat_s3cr3t"));
        assertThat(c.find("registry-1.docker.io")).contains(Credentials.of("me", "dckr_pat_s3cr3t"));
        assertThat(c.find("ghcr.io")).contains(Credentials.of("bot", "ghp_t0ken"));
        assertThat(c.find("quay.io")).isEmpty();
        assertThat(c.toString()).isEqualTo("SecretsManagerCredentials[docker.io, ghcr.io]");
    }

    @Test
    void anEmptyObjectIsNoCredentials() throws IOException {
        assertThat(SecretsManagerCredentials.parse("{}", "s").find("docker.io")).isEmpty();
    }

    @Test
    void errorsNameTheEntryButNeverQuoteTheSecret() {
        assertThatThrownBy(() -> SecretsManagerCredentials.parse("{\"docker.io\": {\"username\": \"me\"}}", "arn:x"))
                .isInstanceOf(IOException.class).hasMessageContaining("\"docker.io\"").hasMessageContaining("arn:x");
        assertThatThrownBy(() -> SecretsManagerCredentials.parse(
                "{\"docker.io\": {\"username\": \"me\", \"password\": hunter2-unquoted}}", "arn:x"))
                .isInstanceOf(IOException.class).hasMessageContaining("not valid JSON")
                .hasMessageNotContaining("hunter2").hasNoCause();
        assertThatThrownBy(() -> SecretsManagerCredentials.parse("[\"hunter2\"]", "arn:x"))
                .hasMessageContaining("must be a JSON object").hasMessageNotContaining("hunter2");
        assertThatThrownBy(() -> SecretsManagerCredentials.parse(
                "{\"docker.io\": \"me:hunter2\"}", "arn:x")).hasMessageNotContaining("hunter2");
        assertThatThrownBy(() -> SecretsManagerCredentials.parse("""
                {"docker.io": {"username": "a", "password": "hunter2"},
                 "index.docker.io": {"username": "b", "password": "hunter3"}}""", "arn:x"))
                .hasMessageContaining("listed twice").hasMessageNotContaining("hunter");
    }
}
