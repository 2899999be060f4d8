package io.imagemirror.local.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shaded jar as users run it: {@code java -jar functions/local/target/image-mirror.jar ...}. */
class JarIT {

    static final Path JAR = Path.of("target/image-mirror.jar");

    record Result(int status, String out, String err) {
    }

    static Result runJar(String... args) throws IOException, InterruptedException {
        return runJar(List.of(), args);
    }

    static Result runJar(List<String> jvmOptions, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-jar", JAR.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Result(p.exitValue(), out, err);
    }

    @Test
    void refPrintsCanonicalForms() throws Exception {
        assertThat(JAR).exists();
        Result r = runJar("ref", "alpine", "gcr.io/google-containers/git-sync:v3.1.5", "127.0.0.1:5000/a/b:c");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out().lines()).containsExactly("docker.io/library/alpine:latest",
                "gcr.io/google-containers/git-sync:v3.1.5", "127.0.0.1:5000/a/b:c");
    }

    /** What a short command loads is what decides its start time (issue #16's CLI start target). */
    @Test
    void refLoadsNeitherJsonNorSqliteNorHttpNorCloudClasses(@TempDir Path tmp) throws Exception {
        Path log = tmp.resolve("classes.txt");
        Result r = runJar(List.of("-Xlog:class+load:file=" + log), "ref", "alpine");
        assertThat(r.status()).as(r.err()).isZero();
        List<String> loaded = Files.readAllLines(log);
        assertThat(loaded).anyMatch(l -> l.contains(" io.imagemirror.local.cli.RefCommand "));
        assertThat(loaded).noneMatch(l -> l.contains(" com.fasterxml.jackson.") || l.contains(" org.sqlite.")
                || l.contains(" com.cronutils.") || l.contains(" software.amazon.") || l.contains(" org.eclipse.jetty.")
                || l.contains(" java.net.http."));
    }

    /**
     * sqlite-jdbc's native library is kept in the data directory and loaded from there, so opening
     * the store starts no child process (sqlite-jdbc's own loader runs {@code uname -o} on every
     * start, before it extracts the library into the temp directory).
     */
    @Test
    void aStoreCommandLoadsSqlitesLibraryFromTheDataDirectory(@TempDir Path tmp) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(io.imagemirror.local.store.SqliteNative.knowsThisPlatform(),
                "a platform whose library sqlite-jdbc locates itself");
        Path data = tmp.resolve("data");
        Path log = tmp.resolve("classes.txt");
        for (int run = 1; run <= 2; run++) {
            Result r = runJar(List.of("-Xlog:class+load:file=" + log), "--data", data.toString(), "images");
            assertThat(r.status()).as(r.err()).isZero();
            assertThat(data.resolve("native")).isDirectoryContaining(p -> p.getFileName().toString()
                    .startsWith("libsqlitejdbc."));
            List<String> loaded = Files.readAllLines(log);
            assertThat(loaded).as("run %d", run).anyMatch(l -> l.contains(" org.sqlite.core.NativeDB "))
                    .noneMatch(l -> l.contains(" java.lang.ProcessBuilder ") || l.contains(" org.sqlite.util.ProcessRunner "));
        }
    }

    @Test
    void refOfInvalidReferenceExitsOne() throws Exception {
        Result r = runJar("ref", "library/Alpine");
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).startsWith("error: invalid reference");
    }

    @Test
    void usageErrorsPrintOneErrorLineAndAHintThenExitTwo() throws Exception {
        Result r = runJar("ref");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.out()).isEmpty();
        assertThat(r.err().lines()).containsExactly("error: Missing required parameter: 'REF'",
                "See 'image-mirror ref --help'.");
        Result ports = runJar("ref", "localhost:0/x", "host:99999/x");
        assertThat(ports.status()).isEqualTo(1);
        assertThat(ports.err().lines()).hasSize(2).allSatisfy(l -> assertThat(l).contains("between 1 and 65535"));
    }

    @Test
    void jarIsRunnableWithEverythingInside() throws IOException {
        try (JarFile jar = new JarFile(JAR.toFile())) {
            assertThat(jar.getManifest().getMainAttributes().getValue("Main-Class")).isEqualTo("io.imagemirror.local.Main");
            assertThat(jar.getEntry("picocli/CommandLine.class")).isNotNull();
            assertThat(jar.getEntry("org/sqlite/JDBC.class")).isNotNull();
        }
        assertThat(Files.size(JAR)).isPositive();
    }

    /**
     * picocli ships Java 5 class files, which the JVM verifies the slow way and CDS will not archive;
     * the build rewrites them as Java 8 ones (infra/build/RetargetClasses.java).
     */
    @Test
    void picocliIsInTheJarAsJava8ClassFilesThatCdsCanArchive(@TempDir Path tmp) throws Exception {
        int picocli = 0;
        try (JarFile jar = new JarFile(JAR.toFile())) {
            for (var e : java.util.Collections.list(jar.entries())) {
                if (e.getName().startsWith("picocli/") && e.getName().endsWith(".class")) {
                    byte[] head = jar.getInputStream(e).readNBytes(8);
                    assertThat(((head[6] & 0xff) << 8) | (head[7] & 0xff)).as(e.getName()).isGreaterThanOrEqualTo(52);
                    picocli++;
                }
            }
        }
        assertThat(picocli).isGreaterThan(100);
        // A dynamic archive of `ref alpine` takes picocli in: the JVM says nothing of classes it skipped.
        Path archive = tmp.resolve("ref.jsa");
        Result r = runJar(List.of("-XX:ArchiveClassesAtExit=" + archive, "-Xlog:cds=warning"), "ref", "alpine");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.out() + r.err()).doesNotContain("Pre JDK 6 class").doesNotContain("picocli");
        assertThat(archive).exists();
        Result shared = runJar(List.of("-XX:SharedArchiveFile=" + archive, "-Xshare:on", "-Xlog:class+load"), "ref",
                "alpine");
        assertThat(shared.status()).as(shared.err()).isZero();
        assertThat(shared.out()).contains("picocli.CommandLine source: shared objects file (top)");
    }
}
