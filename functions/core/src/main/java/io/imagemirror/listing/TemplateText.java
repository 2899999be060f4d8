package io.imagemirror.listing;

import io.imagemirror.oci.EchoedInput;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * How docker's {@code --format} templates are cut up, for {@link ImageFormat} and
 * {@link JsonTemplate}: text, with {@code \t} and {@code \n} read as a tab and a newline, between
 * actions {@code {{…}}} (trimmed, handed to the caller to understand).
 */
final class TemplateText {
    private TemplateText() {
    }

    /**
     * The pieces of {@code template}, in order.
     *
     * @param text makes a piece of plain text
     * @param action makes a piece of an action's inside (it throws for what it does not support)
     * @throws InvalidFilterException for an action that is not closed
     */
    static <P> List<P> split(String template, Function<String, P> text, Function<String, P> action) {
        List<P> out = new ArrayList<>();
        int i = 0;
        while (i < template.length()) {
            int open = template.indexOf("{{", i);
            if (open < 0) {
                out.add(text.apply(unescape(template.substring(i))));
                break;
            }
            if (open > i) {
                out.add(text.apply(unescape(template.substring(i, open))));
            }
            int close = template.indexOf("}}", open + 2);
            if (close < 0) {
                throw new InvalidFilterException("bad format: unclosed action in \"" + EchoedInput.of(template) + "\"");
            }
            out.add(action.apply(template.substring(open + 2, close).trim()));
            i = close + 2;
        }
        return List.copyOf(out);
    }

    private static String unescape(String text) {
        return text.replace("\\t", "\t").replace("\\n", "\n");
    }
}
