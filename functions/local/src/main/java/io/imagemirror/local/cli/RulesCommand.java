package io.imagemirror.local.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.imagemirror.config.MirrorConfig;
import io.imagemirror.local.LocalRuntime;
import io.imagemirror.oci.EchoedInput;
import io.imagemirror.sync.InvalidRuleException;
import io.imagemirror.sync.Rule;
import io.imagemirror.sync.SyncRules;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code image-mirror rules}: the stored sync rules. */
@Command(name = "rules", mixinStandardHelpOptions = true,
        description = "Manage the sync rules the planner runs (serve, sync, the SyncPlanner function).",
        subcommands = {RulesCommand.Apply.class, RulesCommand.ListRules.class, RulesCommand.Suggest.class})
final class RulesCommand {

    @ParentCommand
    ImageMirrorCommand parent;

    /** {@code rules apply FILE [--prune]}: makes the stored rules equal to a file, like {@code kubectl apply}. */
    @Command(name = "apply", mixinStandardHelpOptions = true,
            description = {"Create or update the rules of a YAML file (a 'rules:' list, as in the configuration, "
                    + "or a bare list) and print what changed: created, updated, unchanged, deleted.",
                "Every rule is checked before any is stored; a bad one is named with its field (exit 2)."})
    static final class Apply implements Callable<Integer> {

        @ParentCommand
        RulesCommand rules;

        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "FILE", description = "YAML (or JSON) file with the rules.")
        Path file;

        @Option(names = "--prune", description = "Also delete stored rules the file does not name.")
        boolean prune;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            MirrorConfig config = rules.parent.config();
            JsonNode tree;
            try {
                tree = new ObjectMapper(new YAMLFactory()).readTree(file.toFile());
            } catch (IOException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), EchoedInput.of(file.toString()) + ": "
                        + e.getMessage());
            }
            JsonNode list = tree != null && tree.isObject() && tree.size() == 1 && tree.has("rules") ? tree.get("rules")
                    : tree;
            List<Rule> parsed;
            try {
                parsed = MirrorConfig.rules(list, config);
            } catch (InvalidRuleException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), file + ": " + e.getMessage());
            }
            try (LocalRuntime rt = rules.parent.runtime(config, false)) {
                Map<String, SyncRules.Change> changes = rt.syncRules().apply(parsed, prune);
                changes.forEach((name, change) -> out.println("rule/" + name + " " + change.label()));
            }
            out.flush();
            return 0;
        }
    }

    /** {@code rules ls}: the stored rules, as YAML that {@code rules apply} takes back. */
    @Command(name = "ls", aliases = "list", mixinStandardHelpOptions = true,
            description = "Print the stored rules as YAML ('rules apply' takes it back).")
    static final class ListRules implements Callable<Integer> {

        @ParentCommand
        RulesCommand rules;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
            MirrorConfig config = rules.parent.config();
            try (LocalRuntime rt = rules.parent.runtime(config, false)) {
                var root = yaml.createObjectNode();
                var list = root.putArray("rules");
                for (SyncRules.Stored s : rt.syncRules().list()) {
                    if (s.rule().isPresent()) {
                        list.add(s.rule().get().toTree());
                    } else {
                        spec.commandLine().getErr().println("error: stored rule " + s.name() + ": " + s.fault());
                    }
                }
                out.print(yaml.writeValueAsString(root));
            }
            out.flush();
            return 0;
        }
    }

    /** {@code rules suggest}: often-pulled repositories no rule covers, as rules ready for {@code rules apply}. */
    @Command(name = "suggest", mixinStandardHelpOptions = true,
            description = {"Print, as rule YAML for 'rules apply', the repositories pulled through the cache at least "
                    + "--min-pulls times (counting manifests pulled in the last --days days) that no rule covers yet.",
                "Each keeps the tags the repository has now, hourly; edit before applying."})
    static final class Suggest implements Callable<Integer> {

        @ParentCommand
        RulesCommand rules;

        @Spec
        CommandSpec spec;

        @Option(names = "--min-pulls", defaultValue = "10", paramLabel = "N", description = "Default: ${DEFAULT-VALUE}.")
        int minPulls;

        @Option(names = "--days", defaultValue = "7", paramLabel = "D", description = "Default: ${DEFAULT-VALUE}.")
        int days;

        @Override
        public Integer call() throws Exception {
            if (minPulls < 1 || days < 1) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--min-pulls and --days must be at least 1");
            }
            PrintWriter out = spec.commandLine().getOut();
            ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
            MirrorConfig config = rules.parent.config();
            try (LocalRuntime rt = rules.parent.runtime(config, false)) {
                List<io.imagemirror.sync.RuleSuggestions.Suggestion> found = new io.imagemirror.sync.RuleSuggestions(
                        rt.storage().manifestIndex(), rt.storage().tagIndex(), rt.syncRules(),
                        new io.imagemirror.cache.NameRouter(config))
                        .suggest(minPulls, java.time.Duration.ofDays(days), java.time.Instant.now());
                if (found.isEmpty()) {
                    out.println("# no repository pulled " + minPulls + "+ times in " + days + " days lacks a rule");
                } else {
                    var root = yaml.createObjectNode();
                    var list = root.putArray("rules");
                    for (var s : found) {
                        out.println("# " + s.repository() + ": " + s.pulls() + " pulls, last " + s.lastPulled());
                        list.add(s.rule().toTree());
                    }
                    out.print(yaml.writeValueAsString(root));
                }
            }
            out.flush();
            return 0;
        }
    }
}
