package io.imagemirror.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * The one page-token format of every store: URL-safe base64 of a JSON array whose first element
 * names the listing ({@code "tags"}, {@code "dangling"}, ...) and whose others are the adapter's
 * position. A token that is not one of ours, or belongs to another listing, fails the same way on
 * every adapter: {@link InvalidPageTokenException}.
 */
public final class PageToken {
    private static final ObjectMapper JSON = new ObjectMapper();

    private PageToken() {
    }

    /** A token for {@code listing} at the position {@code parts}. */
    public static String encode(String listing, List<String> parts) {
        ArrayNode a = JSON.createArrayNode();
        a.add(listing);
        parts.forEach(a::add);
        try {
            return Base64.getUrlEncoder().withoutPadding().encodeToString(JSON.writeValueAsBytes(a));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String encode(String listing, String... parts) {
        return encode(listing, List.of(parts));
    }

    /**
     * The position a token of {@code listing} holds.
     *
     * @throws InvalidPageTokenException if it is not a token of {@code listing} with {@code count}
     *     parts ({@code -1}: any number)
     */
    public static List<String> decode(String listing, String token, int count) {
        JsonNode a;
        try {
            a = JSON.readTree(Base64.getUrlDecoder().decode(token));
        } catch (IOException | IllegalArgumentException e) {
            throw new InvalidPageTokenException(token);
        }
        if (a == null || !a.isArray() || a.isEmpty() || !listing.equals(a.get(0).asText(null))
                || (count >= 0 && a.size() != count + 1)) {
            throw new InvalidPageTokenException(token);
        }
        List<String> parts = new ArrayList<>();
        for (int i = 1; i < a.size(); i++) {
            if (!a.get(i).isTextual()) {
                throw new InvalidPageTokenException(token);
            }
            parts.add(a.get(i).asText());
        }
        return parts;
    }

    /** A numeric part of a decoded token. */
    public static long number(String token, String part) {
        try {
            return Long.parseLong(part);
        } catch (NumberFormatException e) {
            throw new InvalidPageTokenException(token);
        }
    }
}
