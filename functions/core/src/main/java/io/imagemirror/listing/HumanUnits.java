package io.imagemirror.listing;

import java.time.Duration;
import java.util.Locale;

/**
 * Sizes and ages written as docker writes them in {@code docker image ls}: sizes in decimal units
 * with three significant digits ({@code 7.8MB}, {@code 133MB}, {@code 1.23GB}), ages in the
 * coarsest unit that fits ({@code 45 seconds}, {@code About an hour}, {@code 3 weeks}).
 */
public final class HumanUnits {
    private static final String[] UNITS = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};

    private HumanUnits() {
    }

    /** A byte count in decimal units, three significant digits, no space: {@code 5.61MB}. */
    public static String size(long bytes) {
        double v = bytes;
        int unit = 0;
        while (v >= 1000 && unit < UNITS.length - 1) {
            v /= 1000;
            unit++;
        }
        // Three significant digits without trailing zeros, as %g-style formatting gives them.
        String digits = new java.math.BigDecimal(v).round(new java.math.MathContext(3)).stripTrailingZeros()
                .toPlainString();
        if (digits.equals("1E+3") || digits.equals("1000")) {
            // 999.95kB rounds up into the next unit.
            return unit < UNITS.length - 1 ? "1" + UNITS[unit + 1] : digits + UNITS[unit];
        }
        return digits + UNITS[unit];
    }

    /** An age as docker's CREATED column shows it, without the trailing {@code ago}. */
    public static String duration(Duration d) {
        long seconds = d.getSeconds();
        if (seconds < 1) {
            return "Less than a second";
        }
        if (seconds == 1) {
            return "1 second";
        }
        if (seconds < 60) {
            return seconds + " seconds";
        }
        long minutes = seconds / 60;
        if (minutes == 1) {
            return "About a minute";
        }
        if (minutes < 60) {
            return minutes + " minutes";
        }
        long hours = Math.round(seconds / 3600.0);
        if (hours == 1) {
            return "About an hour";
        }
        if (hours < 48) {
            return hours + " hours";
        }
        if (hours < 24 * 7 * 2) {
            return hours / 24 + " days";
        }
        if (hours < 24 * 30 * 2) {
            return hours / 24 / 7 + " weeks";
        }
        if (hours < 24 * 365 * 2) {
            return hours / 24 / 30 + " months";
        }
        return String.format(Locale.ROOT, "%d years", seconds / 3600 / 24 / 365);
    }
}
