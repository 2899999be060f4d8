package io.imagemirror.upstream;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Objects;

/**
 * A username and secret (password or personal access token) for one upstream registry. The secret
 * never leaves this package except as an {@code Authorization} header to the registry or its token
 * realm; {@link #toString()} shows neither part.
 */
public final class Credentials {
    private final String username;
    private final String secret;

    private Credentials(String username, String secret) {
        this.username = username;
        this.secret = secret;
    }

    /** @throws IllegalArgumentException when either part is empty */
    public static Credentials of(String username, String secret) {
        Objects.requireNonNull(username, "username");
        Objects.requireNonNull(secret, "secret");
        if (username.isEmpty() || secret.isEmpty()) {
            throw new IllegalArgumentException("credentials need a username and a secret");
        }
        return new Credentials(username, secret);
    }

    public String username() {
        return username;
    }

    /** The value of an {@code Authorization} header for HTTP Basic. */
    String basicAuthorization() {
        return "Basic " + Base64.getEncoder().encodeToString((username + ":" + secret).getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Credentials c && c.username.equals(username) && c.secret.equals(secret);
    }

    @Override
    public int hashCode() {
        return Objects.hash(username, secret);
    }

    @Override
    public String toString() {
        return "Credentials[redacted]";
    }
}
