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

    /**
     * When the quota stated at {@link #observedAt()} is sure to have been renewed: the observation plus
     * one window (Docker Hub's window rolls, so this is the latest it can take); null without a window.
     */
    public Instant resetsBy() {
        return window == null || observedAt == null ? null : observedAt.plus(window);
    }

    /** Whether the observation still speaks for {@code now}: no window stated, or not yet reset. */
    public boolean currentAt(Instant now) {
        Instant reset = resetsBy();
        return reset == null || now.isBefore(reset);
    }

    /** No pulls left at {@code now} (until the window resets). */
    public boolean exhaustedAt(Instant now) {
        return remaining <= 0 && currentAt(now);
    }

    /** Fewer than {@code floor} pulls left at {@code now} (until the window resets). */
    public boolean belowAt(long floor, Instant now) {
        return remaining < floor && currentAt(now);
    }

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
