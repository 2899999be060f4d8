package io.imagemirror.aws.secrets;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.imagemirror.upstream.CredentialStore;
import io.imagemirror.upstream.Credentials;
import io.imagemirror.upstream.Upstream;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;

/**
 * Upstream credentials kept in one Secrets Manager secret whose string is a JSON object mapping
 * registry names to credentials:
 * <pre>
 * {"docker.io": {"username": "me", "password": "dckr_pat_..."},
 *  "ghcr.io":   {"username": "me", "password": "ghp_..."}}
 * </pre>
 * Keys are folded like every registry name ({@code index.docker.io} is {@code docker.io}). The
 * secret is read once, when the store is built. Nothing here ever puts a secret into a message:
 * parse errors name the entry, never its content, and {@link #toString()} lists registries only.
 */
public final class SecretsManagerCredentials implements CredentialStore {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Map<String, Credentials> byRegistry;

    private SecretsManagerCredentials(Map<String, Credentials> byRegistry) {
        this.byRegistry = Map.copyOf(byRegistry);
    }

    /**
     * Reads and parses the secret {@code secretId} (an ARN or name).
     *
     * @throws IOException when the secret cannot be read or is not in the format above
     */
    public static SecretsManagerCredentials load(SecretsManagerClient client, String secretId) throws IOException {
        String value;
        try {
            value = client.getSecretValue(b -> b.secretId(secretId)).secretString();
        } catch (SdkException e) {
            // The SDK's message names the secret and the failure; it never carries the value.
            throw new IOException("cannot read credentials secret " + secretId + ": " + e.getMessage(), e);
        }
        if (value == null) {
            throw new IOException("credentials secret " + secretId + " has no string value (binary secrets are not supported)");
        }
        return parse(value, secretId);
    }

    /**
     * Parses the secret's string; {@code source} names it in errors.
     *
     * @throws IOException naming the bad entry (never quoting the secret)
     */
    public static SecretsManagerCredentials parse(String json, String source) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            // No cause and no Jackson message: both may quote the token it stopped at.
            throw new IOException("credentials secret " + source + " is not valid JSON (line "
                    + (e.getLocation() == null ? "?" : e.getLocation().getLineNr()) + ")");
        }
        if (root == null || !root.isObject()) {
            throw new IOException("credentials secret " + source
                    + " must be a JSON object mapping registry names to {\"username\", \"password\"}");
        }
        Map<String, Credentials> found = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            String registry = Upstream.canonicalName(e.getKey());
            JsonNode entry = e.getValue();
            String user = entry.path("username").isTextual() ? entry.path("username").asText() : "";
            String password = entry.path("password").isTextual() ? entry.path("password").asText() : "";
            if (!entry.isObject() || user.isEmpty() || password.isEmpty()) {
                throw new IOException("credentials secret " + source + ": entry \"" + e.getKey()
                        + "\" needs a non-empty \"username\" and \"password\"");
            }
            if (found.put(registry, Credentials.of(user, password)) != null) {
                throw new IOException("credentials secret " + source + ": registry " + registry + " is listed twice");
            }
        }
        return new SecretsManagerCredentials(found);
    }

    @Override
    public Optional<Credentials> find(String registry) {
        return Optional.ofNullable(byRegistry.get(Upstream.canonicalName(registry)));
    }

    @Override
    public String toString() {
        return "SecretsManagerCredentials" + new TreeSet<>(byRegistry.keySet());
    }
}
