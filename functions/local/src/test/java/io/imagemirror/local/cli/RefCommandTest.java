package io.imagemirror.local.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class RefCommandTest {

    record Run(int status, String out, String err) {
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = ImageMirrorCommand.commandLine();
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
    void missingArgumentIsAUsageError() {
        Run r = run("ref");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("Missing required parameter");
    }
}
