package io.imagemirror.local;

import io.imagemirror.local.cli.ImageMirrorCommand;
import picocli.CommandLine;

/** Entry point of {@code image-mirror.jar}. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.exit(ImageMirrorCommand.commandLine(args).execute(args));
    }
}
