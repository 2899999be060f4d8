package io.imagemirror.local.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code functions/local/bin/image-mirror}: the jar with an AppCDS archive made on the first run. It must answer
 * exactly as {@code java -jar} does (stdout, stderr, exit status) and load the command's classes
 * from the archive.
 */
class LauncherIT {

    static final Path LAUNCHER = Path.of(System.getProperty("imagemirror.repo.root", "../.."), "functions", "local", "bin",
            "image-mirror");

    @TempDir
    Path tmp;

    JarIT.Result launch(Map<String, String> env, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("bash", LAUNCHER.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("IMAGE_MIRROR_JAR", JarIT.JAR.toAbsolutePath().toString());
        pb.environment().put("IMAGE_MIRROR_CDS_DIR", tmp.resolve("cds").toString());
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().remove("JAVA_OPTS");
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        return new JarIT.Result(p.exitValue(), out, err);
    }

    List<Path> archives() throws IOException {
        Path dir = tmp.resolve("cds");
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.toList();
        }
    }

    @Test
    void answersAsJavaJarDoesAndLoadsFromTheArchiveItMadeOnTheFirstRun() throws Exception {
        assertThat(archives()).isEmpty();
        JarIT.Result first = launch(Map.of(), "ref", "alpine", "Alpine:1");
        assertThat(first).isEqualTo(JarIT.runJar("ref", "alpine", "Alpine:1"));
        assertThat(first.status()).isEqualTo(1);
        assertThat(archives()).singleElement().satisfies(a -> assertThat(a.toString()).endsWith(".ref.jsa"));

        Path log = tmp.resolve("classes.txt");
        JarIT.Result second = launch(Map.of("JAVA_OPTS", "-Xlog:class+load:file=" + log), "ref", "nginx:1.27");
        assertThat(second.status()).as(second.err()).isZero();
        assertThat(second.out()).isEqualTo("docker.io/library/nginx:1.27\n");
        assertThat(second.err()).isEmpty();
        assertThat(Files.readAllLines(log)).anyMatch(l -> l.contains(" io.imagemirror.local.cli.RefCommand ")
                && l.contains("shared objects file (top)"));

        JarIT.Result usage = launch(Map.of(), "ref");
        assertThat(usage).isEqualTo(JarIT.runJar("ref"));
        assertThat(usage.status()).isEqualTo(2);
    }

    @Test
    void aJarNewerThanItsArchiveGetsANewOneAndOffRunsWithout() throws Exception {
        assertThat(launch(Map.of(), "ref", "alpine").status()).isZero();
        Path archive = archives().get(0);
        FileTime old = FileTime.fromMillis(Files.getLastModifiedTime(JarIT.JAR).toMillis() - 60_000);
        Files.setLastModifiedTime(archive, old);
        assertThat(launch(Map.of(), "ref", "alpine").status()).isZero();
        assertThat(archives()).containsExactly(archive);
        assertThat(Files.getLastModifiedTime(archive)).isGreaterThan(old);

        Files.delete(archive);
        JarIT.Result off = launch(Map.of("IMAGE_MIRROR_CDS", "off"), "ref", "alpine");
        assertThat(off.out()).isEqualTo("docker.io/library/alpine:latest\n");
        assertThat(archives()).isEmpty();
        // serve runs for hours: no archive, no dump when it stops
        assertThat(launch(Map.of(), "serve", "--help").status()).isZero();
        assertThat(archives()).isEmpty();
    }

    @Test
    void theLauncherKnowsEverySubcommandTheJarHas() throws Exception {
        String script = Files.readString(LAUNCHER);
        for (String name : ImageMirrorCommand.SUBCOMMANDS.keySet()) {
            assertThat(script).as(name).containsPattern("\\| " + name + " \\||    " + name + " \\|| " + name + "\\)");
        }
    }

    @Test
    void anArchiveTheJvmRefusesCostsAWarningOnStderrNotTheOutput() throws Exception {
        Path copy = Files.copy(JarIT.JAR, tmp.resolve("other.jar"));
        assertThat(launch(Map.of("IMAGE_MIRROR_JAR", copy.toString()), "ref", "alpine").status()).isZero();
        Path others = archives().get(0);
        assertThat(launch(Map.of(), "ref", "alpine").status()).isZero();
        Path mine = archives().stream().filter(a -> !a.equals(others)).findFirst().orElseThrow();
        // Another jar's archive under this jar's name, newer than the jar: kept, and refused by the JVM.
        Files.delete(mine);
        Files.copy(others, mine);
        JarIT.Result r = launch(Map.of(), "ref", "alpine");
        assertThat(r.status()).isZero();
        assertThat(r.out()).isEqualTo("docker.io/library/alpine:latest\n");
        assertThat(r.err()).contains("Unable to use shared archive");
    }
}
