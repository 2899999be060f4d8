package io.imagemirror.local.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class RefCommandTest {

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

    @Test
    void printsCanonicalFormsOnePerLine() {
        String digest = "sha256:" + "b".repeat(64);
        Run r = run("ref", "alpine", "nigelpoulton/tu-demo:v2", "localhost:5000/x", "alpine@" + digest,
                "index.docker.io/library/redis:7");
        assertThat(r.status()).isZero();
        assertThat(r.err()).isEmpty();
        assertThat(r.out().lines()).containsExactly(
                "docker.io/library/alpine:latest",
                "docker.io/nigelpoulton/tu-demo:v2",
                "localhost:5000/x:latest",
                "docker.io/library/alpine@" + digest,
                "docker.io/library/redis:7");
    }

    @Test
    void invalidReferenceGivesErrorLineAndStatusOne() {
        Run r = run("ref", "alpine", "Alpine:1", "redis");
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.out().lines()).containsExactly("docker.io/library/alpine:latest", "docker.io/library/redis:latest");
        assertThat(r.err().lines()).singleElement().asString()
                .startsWith("error: invalid reference \"Alpine:1\"").contains("lowercase");
    }

    @Test
    void portsOutsideOneTo65535AreRefusedAsTheGrammarDoes() {
        Run r = run("ref", "localhost:0/x", "host:99999/x", "localhost:65535/x", "host.io:1/x");
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.out().lines()).containsExactly("localhost:65535/x:latest", "host.io:1/x:latest");
        assertThat(r.err().lines()).hasSize(2).allSatisfy(line -> assertThat(line).startsWith("error: invalid reference")
                .contains("is not between 1 and 65535"));
        assertThat(r.err()).contains("\"localhost:0/x\"").contains("\"host:99999/x\"");
    }

    @Test
    void refResolvesWithTheConfiguredDefaultUpstream(@TempDir Path tmp) throws Exception {
        Path config = tmp.resolve("mirror.yaml");
        Files.writeString(config, "defaultUpstream: 127.0.0.1:5000\nupstreams:\n  - name: 127.0.0.1:5000\n"
                + "    insecure: true\n    prefix: local\n");
        Run r = run("--config", config.toString(), "ref", "library/base:1", "local/base", "index.docker.io/alpine");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out().lines()).containsExactly("127.0.0.1:5000/library/base:1", "127.0.0.1:5000/base:latest",
                "docker.io/library/alpine:latest");
    }

    @Test
    void missingArgumentIsAUsageErrorOnOneLineWithAHint() {
        Run r = run("ref");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.out()).isEmpty();
        assertThat(r.err().lines()).containsExactly("error: Missing required parameter: 'REF'",
                "See 'image-mirror ref --help'.");
    }

    @Test
    void unknownOptionsAndCommandsAreUsageErrorsToo() {
        Run option = run("mirror", "--bogus", "alpine");
        assertThat(option.status()).isEqualTo(2);
        assertThat(option.err().lines()).containsExactly("error: Unknown option: '--bogus'",
                "See 'image-mirror mirror --help'.");

        Run command = run("mirorr", "alpine");
        assertThat(command.status()).isEqualTo(2);
        assertThat(command.err().lines()).hasSize(2);
        assertThat(command.err().lines().findFirst()).hasValueSatisfying(l -> assertThat(l).startsWith("error: ")
                .contains("mirorr").contains("did you mean mirror"));
        assertThat(command.err()).endsWith("See 'image-mirror --help'." + System.lineSeparator());
    }

    @Test
    void registryOptionsAreCheckedByTheGrammar(@TempDir Path tmp) {
        Run serve = run("--data", tmp.resolve("data").toString(), "serve", "--listen", "127.0.0.1:0",
                "--default-upstream", "127.0.0.1:0");
        assertThat(serve.status()).isEqualTo(2);
        assertThat(serve.err().lines()).containsExactly("error: --default-upstream 127.0.0.1:0: expected HOST[:PORT] "
                + "(with a '.' or ':', or localhost; port 1-65535)", "See 'image-mirror serve --help'.");
        Run insecure = run("--insecure-registry", "registry", "ref", "alpine");
        assertThat(insecure.status()).isEqualTo(2);
        assertThat(insecure.err().lines().findFirst()).hasValueSatisfying(l -> assertThat(l)
                .startsWith("error: --insecure-registry registry: expected HOST[:PORT]"));
        assertThat(tmp.resolve("data")).as("nothing opened").doesNotExist();
    }

    @Test
    void theHintLeadsToHelp() {
        Run help = run("ref", "--help");
        assertThat(help.status()).isZero();
        assertThat(help.out()).contains("Usage: image-mirror ref").contains("REF");
    }
}
