package io.imagemirror.local.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The command line is built with only the subcommand the arguments name; help, usage errors and
 * exit codes stay those of the full command line.
 */
class ImageMirrorCommandTest {

    record Run(int status, String out, String err) {
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = ImageMirrorCommand.commandLine(args);
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int status = cl.execute(args);
        return new Run(status, out.toString(), err.toString());
    }

    static Set<String> built(String... args) {
        return ImageMirrorCommand.commandLine(args).getSubcommands().keySet();
    }

    @Test
    void theTableNamesEachSubcommandByItsAnnotatedNameAndAliases() {
        Set<String> fromAnnotations = new HashSet<>();
        for (Class<?> c : new LinkedHashSet<>(ImageMirrorCommand.SUBCOMMANDS.values())) {
            CommandLine line = new CommandLine(c);
            fromAnnotations.add(line.getCommandName());
            fromAnnotations.addAll(List.of(line.getCommandSpec().aliases()));
            assertThat(ImageMirrorCommand.SUBCOMMANDS.get(line.getCommandName())).isEqualTo(c);
            for (String alias : line.getCommandSpec().aliases()) {
                assertThat(ImageMirrorCommand.SUBCOMMANDS.get(alias)).as(alias).isEqualTo(c);
            }
        }
        assertThat(ImageMirrorCommand.SUBCOMMANDS.keySet()).isEqualTo(fromAnnotations);
        assertThat(ImageMirrorCommand.commandLine().getSubcommands().keySet()).isEqualTo(fromAnnotations);
    }

    @Test
    void onlyTheNamedSubcommandIsBuilt() {
        assertThat(built("ref", "alpine")).containsOnly("ref");
        assertThat(built("ls", "-q")).containsOnly("images", "ls");
        assertThat(built("--data", "/tmp/d", "--store", "local", "images")).containsOnly("images", "ls");
        assertThat(built("--data=/tmp/d", "--wait", "sync", "--dry-run")).containsOnly("sync");
        assertThat(built("--insecure-registry", "localhost:5000", "rules", "ls")).containsOnly("rules");
        // an option's value that spells a subcommand is the value, not the subcommand
        assertThat(built("--config", "ref", "mirror", "alpine")).containsOnly("mirror");
        assertThat(built("--data", "sync", "ref", "alpine")).containsOnly("ref");
    }

    @Test
    void helpVersionAndWhatNamesNoSubcommandGetEverySubcommand() {
        Set<String> all = ImageMirrorCommand.SUBCOMMANDS.keySet();
        assertThat(built()).isEqualTo(all);
        assertThat(built("--help")).isEqualTo(all);
        assertThat(built("--help", "ref")).isEqualTo(all);
        assertThat(built("-V")).isEqualTo(all);
        assertThat(built("help", "ref")).isEqualTo(all);
        assertThat(built("refs", "alpine")).isEqualTo(all);
        assertThat(built("--bogus", "ref", "alpine")).isEqualTo(all);
        assertThat(built("--", "ref")).isEqualTo(all);
        assertThat(built("--data")).isEqualTo(all);
    }

    @Test
    void helpListsEverySubcommand() {
        Run r = run("--help");
        assertThat(r.status()).isZero();
        for (String name : List.of("mirror", "serve", "ref", "prune", "rm", "images", "history", "inspect", "search",
                "df", "rules", "sync", "help")) {
            assertThat(r.out()).as(name).containsPattern("(?m)^  " + name + "\\b");
        }
        Run none = run();
        assertThat(none.status()).isEqualTo(2);
        assertThat(none.err().lines()).containsExactly("error: Missing required subcommand", "See 'image-mirror --help'.");
        Run viaHelp = run("help", "ref");
        assertThat(viaHelp.status()).isZero();
        assertThat(viaHelp.out()).startsWith("Usage: image-mirror ref ");
        Run own = run("--data", "x", "ref", "--help");
        assertThat(own.status()).isZero();
        assertThat(own.out()).startsWith("Usage: image-mirror ref ");
    }

    @Test
    void usageErrorsExitTwoWithOneErrorLineAndAHint() {
        Run unknown = run("refs", "alpine");
        assertThat(unknown.status()).isEqualTo(2);
        assertThat(unknown.err().lines()).hasSize(2);
        assertThat(unknown.err()).startsWith("error: Unmatched arguments").contains("did you mean").contains("ref");
        Run badTop = run("--bogus", "ref", "alpine");
        assertThat(badTop.status()).isEqualTo(2);
        assertThat(badTop.err()).startsWith("error: Unknown option: '--bogus'");
        Run badSub = run("ref", "--bogus", "alpine");
        assertThat(badSub.status()).isEqualTo(2);
        assertThat(badSub.err().lines()).containsExactly("error: Unknown option: '--bogus'",
                "See 'image-mirror ref --help'.");
        Run missingValue = run("--config");
        assertThat(missingValue.status()).isEqualTo(2);
        assertThat(missingValue.err()).startsWith("error: Missing required parameter for option '--config'");
    }
}
