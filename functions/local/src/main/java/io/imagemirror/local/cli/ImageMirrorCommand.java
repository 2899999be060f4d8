package io.imagemirror.local.cli;

import io.imagemirror.config.MirrorConfig;
import io.imagemirror.local.LocalRuntime;
import io.imagemirror.oci.EchoedInput;
import io.imagemirror.reference.ReferenceGrammar;
import io.imagemirror.upstream.Upstream;
import io.imagemirror.store.Storage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The top-level {@code image-mirror} command and its global options (storage, configuration,
 * insecure registries). Subcommands print results on stdout and one {@code error: ...} line per
 * failure on stderr; exit status 0 on success, 1 when something the user asked for failed, 2 for a
 * usage error.
 */
@Command(name = "image-mirror",
        mixinStandardHelpOptions = true,
        versionProvider = ImageMirrorCommand.Version.class,
        description = "Mirror container images into owned storage and serve them as an OCI pull-through cache.")
public final class ImageMirrorCommand {

    static {
        // picocli registers converters for java.sql and java.time types by reflection in every
        // command line it builds, loading about 120 classes (the java.sql module, DriverManager and
        // its driver lookup, the java.time formatters) that no option here takes: ~6% of `ref`'s CPU.
        if (System.getProperty("picocli.converters.excludes") == null) {
            System.setProperty("picocli.converters.excludes", "java\\.sql\\..*,java\\.time\\..*");
        }
    }

    /**
     * The subcommands, by name and alias, in the order help lists them. Not in the annotation:
     * picocli builds the model of every subcommand it is given (reflection over their fields and
     * the types those name, up to Jackson and SQLite), which cost more than a short command's own
     * work; {@link #commandLine(String...)} adds only the one the arguments name.
     */
    static final Map<String, Class<?>> SUBCOMMANDS;

    static {
        Map<String, Class<?>> byName = new LinkedHashMap<>();
        byName.put("mirror", MirrorCommand.class);
        byName.put("serve", ServeCommand.class);
        byName.put("ref", RefCommand.class);
        byName.put("prune", PruneCommand.class);
        byName.put("rm", RmCommand.class);
        byName.put("images", ImagesCommand.class);
        byName.put("ls", ImagesCommand.class);
        byName.put("history", HistoryCommand.class);
        byName.put("inspect", InspectCommand.class);
        byName.put("search", SearchCommand.class);
        byName.put("df", DfCommand.class);
        byName.put("rules", RulesCommand.class);
        byName.put("sync", SyncCommand.class);
        byName.put("help", CommandLine.HelpCommand.class);
        SUBCOMMANDS = Collections.unmodifiableMap(byName);
    }

    @Spec
    CommandSpec spec;

    @Mixin
    StoreOptions store = new StoreOptions();

    @Option(names = "--config", paramLabel = "FILE",
            description = "YAML configuration: upstreams, credentials, defaults (see README).")
    Path configFile;

    @Option(names = "--insecure-registry", paramLabel = "HOST:PORT",
            description = "Allow plain HTTP to this upstream and add it to the allow-list (repeatable).")
    List<String> insecureRegistries = new ArrayList<>();

    /**
     * A command line with image-mirror's conventions: a failure prints one {@code error: ...} line
     * (status 1); a usage error prints one {@code error: ...} line and where to find help, not the
     * whole usage text (status 2).
     */
    public static CommandLine commandLine() {
        return withConventions(withSubcommands(new CommandLine(new ImageMirrorCommand()), null));
    }

    /**
     * The command line for these arguments: like {@link #commandLine()}, but with only the
     * subcommand the arguments name when they name one (the process then loads only what that
     * command needs). Help, version, a missing or unknown subcommand get every subcommand, so
     * usage texts, suggestions and exit codes are those of the full command line.
     */
    public static CommandLine commandLine(String... args) {
        CommandLine top = new CommandLine(new ImageMirrorCommand());
        return withConventions(withSubcommands(top, subcommandNamed(top.getCommandSpec(), args)));
    }

    /**
     * The subcommand class the first positional argument names, skipping the top-level options
     * and their values ({@code --config FILE}, {@code --data=DIR}); null when there is none or
     * it names no subcommand, or when it is {@code help} or follows {@code --help} / {@code --version}.
     */
    static Class<?> subcommandNamed(CommandSpec top, String... args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--")) {
                return null;
            }
            if (a.startsWith("-") && a.length() > 1) {
                int eq = a.indexOf('=');
                CommandLine.Model.OptionSpec option = top.findOption(eq < 0 ? a : a.substring(0, eq));
                if (option == null || option.usageHelp() || option.versionHelp()) {
                    return null; // picocli reports or answers it, with the full command line
                }
                if (eq < 0 && option.arity().max() > 0) {
                    i++;
                }
                continue;
            }
            Class<?> named = SUBCOMMANDS.get(a);
            return named == CommandLine.HelpCommand.class ? null : named;
        }
        return null;
    }

    private static CommandLine withSubcommands(CommandLine top, Class<?> only) {
        if (only != null) {
            top.addSubcommand(only);
        } else {
            new LinkedHashSet<>(SUBCOMMANDS.values()).forEach(top::addSubcommand);
        }
        return top;
    }

    private static CommandLine withConventions(CommandLine cl) {
        cl.setParameterExceptionHandler((ex, args) -> {
            CommandLine line = ex.getCommandLine();
            String suggestion = ex instanceof CommandLine.UnmatchedArgumentException u && !u.getSuggestions().isEmpty()
                    ? " (did you mean " + String.join(" or ", u.getSuggestions()) + "?)" : "";
            line.getErr().println("error: " + EchoedInput.of(String.valueOf(ex.getMessage())) + suggestion);
            line.getErr().println("See '" + line.getCommandSpec().qualifiedName() + " --help'.");
            line.getErr().flush();
            return line.getCommandSpec().exitCodeOnInvalidInput();
        });
        cl.setExecutionExceptionHandler((ex, line, parseResult) -> {
            line.getErr().println("error: " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
            line.getErr().flush();
            return 1;
        });
        return cl;
    }

    /** The configuration: the file (or defaults), plus {@code --insecure-registry} upstreams. */
    MirrorConfig config() {
        MirrorConfig c = configFile == null ? MirrorConfig.defaults() : LocalRuntime.readConfig(configFile, System.getenv());
        for (String r : insecureRegistries) {
            String name = Upstream.canonicalName(r.trim());
            if (!ReferenceGrammar.isRegistry(name)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--insecure-registry " + EchoedInput.of(r)
                        + ": expected HOST[:PORT] (with a '.' or ':', or localhost; port 1-65535)");
            }
            c = c.withUpstream(new MirrorConfig.UpstreamConfig(name, java.net.URI.create("http://" + name), true,
                    c.upstream(name).map(MirrorConfig.UpstreamConfig::prefix).orElse(null),
                    c.upstream(name).map(MirrorConfig.UpstreamConfig::username).orElse(null),
                    c.upstream(name).map(MirrorConfig.UpstreamConfig::password).orElse(null),
                    c.upstream(name).map(MirrorConfig.UpstreamConfig::authHosts).orElse(Set.of())));
        }
        return c;
    }

    /**
     * Opens the store and wires a runtime over it; the caller closes it.
     *
     * @param spooled whether cold blobs are spooled so clients can follow them while they are
     *     stored ({@code serve}); a plain copy streams straight into the store instead
     */
    LocalRuntime runtime(MirrorConfig config, boolean spooled) throws IOException {
        return runtime(config, spooled, io.imagemirror.metrics.Metrics.NONE);
    }

    /** As {@link #runtime(MirrorConfig, boolean)}, reporting to {@code metrics}. */
    LocalRuntime runtime(MirrorConfig config, boolean spooled, io.imagemirror.metrics.Metrics metrics)
            throws IOException {
        Storage storage = store.open();
        Path spool = !spooled ? null
                : store.backend() == StoreOptions.Backend.local ? store.dataDir().resolve("spool")
                : Files.createTempDirectory("image-mirror-spool");
        return new LocalRuntime(config, storage, spool, Clock.systemUTC(), metrics);
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
