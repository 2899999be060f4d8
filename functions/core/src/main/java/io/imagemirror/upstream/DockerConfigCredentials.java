package io.imagemirror.upstream;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code auths} section of Docker's {@code config.json}, as {@code docker login} writes it:
 * each entry has a base64 {@code auth} of {@code user:secret}, or {@code username} and
 * {@code password}. Keys are registry names or URLs ({@code https://index.docker.io/v1/} is
 * docker.io). Credential helpers ({@code credsStore}, {@code credHelpers}) and identity tokens are
 * not supported: such entries are skipped. Parse errors never quote the file (it holds secrets).
 */
public final class DockerConfigCredentials implements CredentialStore {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Map<String, Credentials> byRegistry;

    private DockerConfigCredentials(Map<String, Credentials> byRegistry) {
        this.byRegistry = Map.copyOf(byRegistry);
    }

    /**
     * Where Docker keeps the file: {@code $DOCKER_CONFIG/config.json}, else
     * {@code <home>/.docker/config.json}.
     */
    public static Path defaultLocation(Map<String, String> env, Path home) {
        String dir = env.get("DOCKER_CONFIG");
        return dir != null && !dir.isBlank() ? Path.of(dir, "config.json") : home.resolve(".docker/config.json");
    }

    /** Reads {@code file}; a missing file gives an empty store. */
    public static DockerConfigCredentials read(Path file) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return new DockerConfigCredentials(Map.of());
        }
        return parse(bytes, file.toString());
    }

    /** Parses the content of a {@code config.json}; {@code source} names it in errors. */
    public static DockerConfigCredentials parse(byte[] json, String source) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            // No cause: Jackson's message may quote the token it choked on, which can be a secret.
            throw new IOException(source + " is not valid JSON (line "
                    + (e.getLocation() == null ? "?" : e.getLocation().getLineNr()) + ")");
        }
        Map<String, Credentials> found = new HashMap<>();
        JsonNode auths = root == null ? null : root.get("auths");
        if (auths != null && auths.isObject()) {
            for (Map.Entry<String, JsonNode> e : auths.properties()) {
                credentialsOf(e.getValue()).ifPresent(c -> found.put(Upstream.canonicalName(e.getKey()), c));
            }
        }
        return new DockerConfigCredentials(found);
    }

    private static Optional<Credentials> credentialsOf(JsonNode entry) {
        String user = entry.path("username").asText("");
        String password = entry.path("password").asText("");
        String auth = entry.path("auth").asText("");
        if (!auth.isEmpty()) {
            String decoded;
            try {
                decoded = new String(Base64.getDecoder().decode(auth.trim()), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException notBase64) {
                return Optional.empty();
            }
            int colon = decoded.indexOf(':');
            if (colon <= 0 || colon == decoded.length() - 1) {
                return Optional.empty();
            }
            return Optional.of(Credentials.of(decoded.substring(0, colon), decoded.substring(colon + 1)));
        }
        if (!user.isEmpty() && !password.isEmpty()) {
            return Optional.of(Credentials.of(user, password));
        }
        return Optional.empty();
    }

    @Override
    public Optional<Credentials> find(String registry) {
        return Optional.ofNullable(byRegistry.get(Upstream.canonicalName(registry)));
    }

    /** The registries this file has credentials for (names only). */
    @Override
    public String toString() {
        return "DockerConfigCredentials" + new java.util.TreeSet<>(byRegistry.keySet());
    }
}
