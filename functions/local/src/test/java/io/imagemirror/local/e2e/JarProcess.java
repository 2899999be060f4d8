package io.imagemirror.local.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Runs {@code functions/local/target/image-mirror.jar} as users do, and skopeo as a real client. */
final class JarProcess {
    static final Path JAR = Path.of("target/image-mirror.jar").toAbsolutePath();

    record Result(int status, String out, String err) {
    }

    private JarProcess() {
    }

    static List<String> java(String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-jar", JAR.toString()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    static Result run(List<String> cmd, Duration timeout) throws IOException, InterruptedException {
        Path outFile = Files.createTempFile("out", ".txt");
        Path errFile = Files.createTempFile("err", ".txt");
        Process p = new ProcessBuilder(cmd).redirectOutput(outFile.toFile()).redirectError(errFile.toFile()).start();
        p.getOutputStream().close();
        boolean done = p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly();
        }
        assertThat(done).as("%s finished in time", cmd).isTrue();
        Result r = new Result(p.exitValue(), Files.readString(outFile), Files.readString(errFile));
        Files.deleteIfExists(outFile);
        Files.deleteIfExists(errFile);
        return r;
    }

    /** Starts the jar without waiting for it; stdout and stderr go to {@code out} and {@code err}. */
    static Process startJar(Path out, Path err, String... args) throws IOException {
        Process p = new ProcessBuilder(java(args)).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        p.getOutputStream().close();
        return p;
    }

    /** {@code kill -9} of exactly that process, as an operator or the OOM killer would. */
    static void kill9(Process p) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-9", Long.toString(p.pid())).inheritIO().start();
        assertThat(kill.waitFor()).isZero();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }

    static Result jar(String... args) throws IOException, InterruptedException {
        return run(java(args), Duration.ofMinutes(3));
    }

    static Result skopeo(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("skopeo"));
        cmd.addAll(List.of(args));
        return run(cmd, Duration.ofMinutes(3));
    }

    /** A running {@code serve}; stops it (its own PID) on close. */
    static final class Server implements AutoCloseable {
        final Process process;
        final int port;
        final Path log;

        private Server(Process process, int port, Path log) {
            this.process = process;
            this.port = port;
            this.log = log;
        }

        /** {@code serve} on a free loopback port over {@code data}, pulling through {@code upstream} (plain HTTP) by default. */
        static Server pullThrough(Path data, String upstream) throws IOException {
            return start("--data", data.toString(), "--insecure-registry", upstream, "serve", "--listen", "127.0.0.1:0",
                    "--default-upstream", upstream);
        }

        static Server start(String... args) throws IOException {
            Path log = Files.createTempFile("serve", ".log");
            List<String> cmd = java(args);
            Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
            BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String line = r.readLine();
            if (line == null) {
                throw new IllegalStateException("serve exited: " + Files.readString(log));
            }
            Matcher m = Pattern.compile("serving on http://[^:]+:(\\d+)").matcher(line);
            if (!m.find()) {
                p.destroyForcibly();
                throw new IllegalStateException("unexpected first line: " + line + "\n" + Files.readString(log));
            }
            // keep draining stdout so the process never blocks on a full pipe
            Thread drain = new Thread(() -> {
                try {
                    while (r.readLine() != null) {
                        // discard
                    }
                } catch (IOException ignored) {
                    // process ended
                }
            });
            drain.setDaemon(true);
            drain.start();
            return new Server(p, Integer.parseInt(m.group(1)), log);
        }

        String hostPort() {
            return "127.0.0.1:" + port;
        }

        String log() throws IOException {
            return Files.readString(log);
        }

        @Override
        public void close() throws Exception {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }
}
