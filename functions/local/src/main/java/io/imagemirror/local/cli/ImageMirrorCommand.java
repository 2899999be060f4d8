package io.imagemirror.local.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The top-level {@code image-mirror} command. Subcommands print results on stdout and one
 * {@code error: ...} line per failure on stderr; exit status 0 on success, 1 when something the
 * user asked for failed, 2 for a usage error.
 */
@Command(name = "image-mirror",
        mixinStandardHelpOptions = true,
        versionProvider = ImageMirrorCommand.Version.class,
        description = "Mirror container images into owned storage and serve them as an OCI pull-through cache.",
        subcommands = {RefCommand.class, CommandLine.HelpCommand.class})
public final class ImageMirrorCommand {

    /** A command line with image-mirror's conventions (exit codes, error lines). */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new ImageMirrorCommand());
        cl.setExecutionExceptionHandler((ex, line, parseResult) -> {
            line.getErr().println("error: " + ex.getMessage());
            return 1;
        });
        return cl;
    }

    /** The version from the jar manifest (or "dev" when run from classes). */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = ImageMirrorCommand.class.getPackage().getImplementationVersion();
            return new String[] {"image-mirror " + (v == null ? "dev" : v)};
        }
    }
}
