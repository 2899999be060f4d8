package io.imagemirror.local.cli;

import io.imagemirror.cache.NameRouter;
import io.imagemirror.listing.InvalidFilterException;
import io.imagemirror.listing.MirrorViews;
import io.imagemirror.oci.EchoedInput;
import io.imagemirror.reference.InvalidReferenceException;
import io.imagemirror.store.Storage;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

/**
 * What the read-only view commands ({@code images}, {@code history}, {@code inspect},
 * {@code search}, {@code df}) share: the store opened for reading and the translation of a bad
 * filter, format or reference into a usage error ({@code error: ...}, exit status 2).
 */
final class ViewOptions {
    private ViewOptions() {
    }

    /** A body of a view command, over the opened views. */
    @FunctionalInterface
    interface Body {
        int run(MirrorViews views) throws Exception;
    }

    /** Opens the store, runs {@code body} over it, closes the store. */
    static int withViews(ImageMirrorCommand parent, CommandLine line, Body body) throws Exception {
        NameRouter names = new NameRouter(parent.config());
        try (Storage storage = parent.store.openForReading()) {
            return body.run(new MirrorViews(storage, names));
        } catch (InvalidFilterException | InvalidReferenceException e) {
            throw usage(line, e.getMessage());
        }
    }

    /**
     * Whether {@code --format} asks for JSON: it may be absent, {@code table} or {@code json}.
     *
     * @throws ParameterException (exit 2) for anything else, naming {@code command}
     */
    static boolean jsonFormat(CommandLine line, String format, String command) {
        boolean json = "json".equals(format);
        if (format != null && !json && !format.equals("table")) {
            throw usage(line, "bad format \"" + echo(format) + "\" for " + command + " (use table or json)");
        }
        return json;
    }

    static ParameterException usage(CommandLine line, String message) {
        return new ParameterException(line, message);
    }

    /** For a message that echoes user input. */
    static String echo(String s) {
        return EchoedInput.of(s);
    }
}
