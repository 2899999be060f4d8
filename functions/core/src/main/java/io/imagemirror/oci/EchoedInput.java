package io.imagemirror.oci;

/**
 * How error messages repeat what a client sent: one short printable line, so a hostile or broken
 * input can neither flood a log nor forge extra lines in it.
 */
public final class EchoedInput {
    private static final int MAX = 100;

    private EchoedInput() {
    }

    /** {@code input} cut to 100 characters, control characters replaced by {@code ?}. */
    public static String of(String input) {
        String cut = input.length() > MAX ? input.substring(0, MAX - 3) + "..." : input;
        return cut.replaceAll("\\p{Cntrl}", "?");
    }
}
