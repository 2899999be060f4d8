package io.imagemirror.upstream;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * Docker Hub's pull quota as its last answer stated it: {@code ratelimit-limit: 100;w=21600} and
 * {@code ratelimit-remaining: 76;w=21600} (pulls per window of {@code w} seconds).
 *
 * @param limit pulls allowed per window
 * @param remaining pulls left in the current window
 * @param window the window length, or null when the header gave none
 * @param observedAt when the answer carrying these headers arrived
 */
public record RateLimit(long limit, long remaining, Duration window, Instant observedAt) {

    /** Parses the two header values; empty when either is missing or malformed. */
    public static Optional<RateLimit> parse(String limitHeader, String remainingHeader, Instant observedAt) {
        if (limitHeader == null || remainingHeader == null) {
            return Optional.empty();
        }
        try {
            long limit = Long.parseLong(firstPart(limitHeader));
            long remaining = Long.parseLong(firstPart(remainingHeader));
            return Optional.of(new RateLimit(limit, remaining, window(limitHeader), observedAt));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static String firstPart(String header) {
        int semi = header.indexOf(';');
        return (semi < 0 ? header : header.substring(0, semi)).trim();
    }

    private static Duration window(String header) {
        for (String part : header.split(";")) {
            String p = part.trim();
            if (p.startsWith("w=")) {
                try {
                    return Duration.ofSeconds(Long.parseLong(p.substring(2).trim()));
                } catch (NumberFormatException ignored) {
                    return null;
                }
            }
        }
        return null;
    }
}
