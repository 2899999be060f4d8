package io.imagemirror.aws.bench;

import com.amazonaws.services.lambda.runtime.serialization.events.LambdaEventSerializers;
import io.imagemirror.aws.AwsFixture;
import io.imagemirror.aws.AwsWiring;
import io.imagemirror.jobs.MirrorImage;
import io.imagemirror.mirror.MirrorRequest;
import io.imagemirror.reference.ImageReference;
import io.imagemirror.store.Cause;
import io.imagemirror.store.Job;
import io.imagemirror.testbed.LocalRegistry;
import io.imagemirror.testbed.TestBed;
import io.imagemirror.testbed.TestImage;
import io.imagemirror.upstream.RegistryClient;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The cold-start benchmark behind {@code bench/cold-start.sh}: for each sample event under
 * {@code events/}, N fresh JVMs ({@link ColdStartRun}) on the deployment jar, with the function's
 * environment pointing at the test bed (s3proxy, dynoxide, ElasticMQ) and a local docker-registry
 * as Docker Hub. Prints a Markdown table of medians and p90s (nearest rank).
 *
 * <p>State: before the timed runs, alpine:3.20 is mirrored and every registry event is answered
 * once, so the registry runs are cache hits (a 200 manifest from the table and bucket, a 307 to a
 * presigned URL); {@code mirror-post} records a job and sends it to the queue; each copy-worker
 * run gets a freshly submitted job for alpine:3.20, whose blobs are already stored (manifest from
 * upstream, blobs "already exists").
 *
 * <p>Options: {@code --runs N} (5), {@code --java PATH} (this JVM's), {@code --jar PATH},
 * {@code --primed} (run the SnapStart priming between init and the event), {@code --events a,b},
 * {@code --jvm-arg ARG} (one more flag for the measured JVMs, e.g. {@code -Xlog:class+load}),
 * {@code --cds} (each event's JVMs start with an application class-data sharing archive of their
 * own, written by one unmeasured run of that event with the measured JVM: what a function would get
 * from an archive made by Lambda's own JVM build and shipped in its package).
 */
public final class ColdStartBench {

    /** The flags of Lambda's Java runtime that apply to a local JVM, plus the serial GC it runs with at 1 GB. */
    static final List<String> LAMBDA_JVM_FLAGS = List.of("-XX:+TieredCompilation", "-XX:TieredStopAtLevel=1",
            "-Xshare:auto", "-XX:+UseSerialGC", "-Xmx870m");

    /** event file → handler class, in the order of the table. */
    static final Map<String, String> EVENTS = new LinkedHashMap<>();

    static {
        String h = "io.imagemirror.aws.handlers.";
        EVENTS.put("registry-ping.json", h + "RegistryHandler");
        EVENTS.put("registry-catalog.json", h + "RegistryHandler");
        EVENTS.put("registry-manifest-get.json", h + "RegistryHandler");
        EVENTS.put("registry-blob-get.json", h + "RegistryHandler");
        EVENTS.put("mirror-post.json", h + "MirrorApiHandler");
        EVENTS.put("job-get.json", h + "MirrorApiHandler");
        EVENTS.put("copy-worker-sqs.json", h + "CopyWorkerHandler");
    }

    private static final Pattern LINE = Pattern.compile(
            "COLDSTART main=([\\d.]+) init=([\\d.]+) prime=([\\d.]+) event=([\\d.]+) handle=([\\d.]+) total=([\\d.]+) cpu=(-?\\d+) status=(\\S+)");
    /** The blob {@code events/registry-blob-get.json} names: sha256 of these bytes. */
    private static final byte[] SAMPLE_BLOB = "image-mirror sample blob\n".getBytes(StandardCharsets.UTF_8);

    private ColdStartBench() {
    }

    record Run(double main, double init, double prime, double event, double handle, double total, double cpu,
               String status) {
    }

    public static void main(String[] args) throws Exception {
        int runs = 5;
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path jar = Path.of("functions/aws/target/image-mirror-aws.jar");
        boolean primed = false;
        boolean cds = false;
        List<String> only = new ArrayList<>(EVENTS.keySet());
        List<String> jvmArgs = new ArrayList<>(LAMBDA_JVM_FLAGS);
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--java" -> java = args[++i];
                case "--jar" -> jar = Path.of(args[++i]);
                case "--primed" -> primed = true;
                case "--events" -> only = List.of(args[++i].split(","));
                case "--jvm-arg" -> jvmArgs.add(args[++i]);
                case "--cds" -> cds = true;
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (!Files.isRegularFile(jar)) {
            throw new IllegalArgumentException(jar + " not found: build it first");
        }
        Path events = TestBed.repoRoot().resolve("events");
        Path tmp = Files.createTempDirectory("coldstart");
        // A class-data sharing archive takes no directory on the class path: ColdStartRun goes in a jar.
        String classPath = jar.toAbsolutePath() + File.pathSeparator + codeSource(LambdaEventSerializers.class)
                + File.pathSeparator + (cds ? runnerJar(tmp.resolve("coldstart-run.jar")) : codeSource(ColdStartRun.class));

        try (LocalRegistry upstream = LocalRegistry.start(tmp); AwsFixture aws = new AwsFixture("coldstart")) {
            TestImage alpine = TestImage.builder(77).layer(2000).layer(90_000).build();
            upstream.pusher().pushImage("library/alpine", "3.20", alpine);
            upstream.pusher().pushBlob("library/alpine", SAMPLE_BLOB);
            String config = "{\"upstreams\": [{\"name\": \"docker.io\", \"endpoint\": \"" + upstream.url()
                    + "\", \"insecure\": true}]}";
            Map<String, String> env = aws.functionEnv(config);
            try (AwsWiring wiring = AwsWiring.fromEnvironment(env, RegistryClient.defaultHttpClient(), Clock.systemUTC())) {
                fill(wiring, events);
                Map<String, List<Run>> results = new LinkedHashMap<>();
                Map<String, List<String>> eventArgs = new LinkedHashMap<>();
                for (String event : only) {
                    List<String> a = new ArrayList<>(jvmArgs);
                    if (cds) {
                        Path archive = tmp.resolve(event + ".jsa");
                        List<String> dump = new ArrayList<>(jvmArgs);
                        dump.add("-XX:ArchiveClassesAtExit=" + archive);
                        Path file = event.equals("copy-worker-sqs.json")
                                ? copyJobEvent(wiring, events.resolve(event), tmp.resolve("copy-worker-cds.json"))
                                : events.resolve(event);
                        runOnce(java, dump, classPath, EVENTS.get(event), file, env, primed);
                        if (!Files.isRegularFile(archive)) {
                            throw new IllegalStateException("the JVM wrote no archive for " + event);
                        }
                        a.add("-XX:SharedArchiveFile=" + archive);
                    }
                    eventArgs.put(event, a);
                }
                for (int r = 0; r < runs; r++) {
                    for (String event : only) {
                        Path file = events.resolve(event);
                        if (event.equals("copy-worker-sqs.json")) {
                            file = copyJobEvent(wiring, file, tmp.resolve("copy-worker-" + r + ".json"));
                        }
                        Run run = runOnce(java, eventArgs.get(event), classPath, EVENTS.get(event), file, env, primed);
                        results.computeIfAbsent(event, k -> new ArrayList<>()).add(run);
                        System.err.printf("run %d %-28s %s%n", r + 1, event, run);
                    }
                }
                report(java, jvmArgs, jar, runs, primed, cds, results);
            }
        }
    }

    /** Mirrors alpine:3.20 and answers each registry event once, so the timed runs see a filled cache. */
    private static void fill(AwsWiring wiring, Path events) throws Exception {
        Job job = wiring.jobs().submit(MirrorImage.of(MirrorRequest.of(ImageReference.parse("docker.io/library/alpine:3.20"), Cause.API)));
        wiring.jobs().run(job.id());
        var registry = new io.imagemirror.aws.handlers.RegistryHandler(wiring.registryApi());
        for (String e : List.of("registry-manifest-get.json", "registry-blob-get.json", "registry-catalog.json")) {
            var event = AwsFixture.event(e, com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent.class);
            int status = registry.handleRequest(event, null).getStatusCode();
            if (status >= 400) {
                throw new IllegalStateException("fill: " + e + " answered " + status);
            }
        }
    }

    /** The sample SQS event with its job id replaced by a job just submitted (so the worker copies). */
    private static Path copyJobEvent(AwsWiring wiring, Path sample, Path out) throws IOException {
        Job job = wiring.jobs().submit(MirrorImage.of(MirrorRequest.of(ImageReference.parse("docker.io/library/alpine:3.20"), Cause.API)));
        String json = Files.readString(sample).replace("7f3c2a1e-5b6d-4e8f-9a0b-1c2d3e4f5a6b", job.id());
        return Files.writeString(out, json);
    }

    private static Run runOnce(String java, List<String> jvmArgs, String classPath, String handler, Path event, Map<String, String> env,
                               boolean primed) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(java));
        java.util.Optional<String> toolOptions = toolOptions(handler);
        boolean ownLevel = toolOptions.map(o -> o.contains("TieredStopAtLevel")).orElse(false);
        for (int i = 0; i < jvmArgs.size(); i++) {
            // The runtime's default level applies only to a function that does not set its own.
            if (!(ownLevel && i < LAMBDA_JVM_FLAGS.size() && jvmArgs.get(i).startsWith("-XX:TieredStopAtLevel="))) {
                cmd.add(jvmArgs.get(i));
            }
        }
        Instant launch = Instant.now();
        cmd.add("-Dbench.launchEpochNanos=" + (launch.getEpochSecond() * 1_000_000_000L + launch.getNano()));
        cmd.addAll(List.of("-cp", classPath, ColdStartRun.class.getName(), handler, event.toString()));
        if (primed) {
            cmd.add("primed");
        }
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.startsWith("AWS_") || k.startsWith("IMAGE_MIRROR_")
                || k.equals("JAVA_TOOL_OPTIONS"));
        pb.environment().putAll(env);
        // As on Lambda: the function's JAVA_TOOL_OPTIONS from template.yaml (flags given with
        // --jvm-arg are on the command line, which the JVM reads after it, so they still win).
        toolOptions.ifPresent(o -> pb.environment().put("JAVA_TOOL_OPTIONS", o));
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(handler + " " + event + " failed:\n" + out);
        }
        out.lines().filter(l -> l.startsWith("THREADS ")).forEach(System.err::println); // --jvm-arg -Dbench.threads=true
        Matcher m = LINE.matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("no timing line from " + handler + ":\n" + out);
        }
        return new Run(d(m.group(1)), d(m.group(2)), d(m.group(3)), d(m.group(4)), d(m.group(5)), d(m.group(6)),
                d(m.group(7)), m.group(8));
    }

    /** The {@code JAVA_TOOL_OPTIONS} template.yaml sets for the function whose handler is {@code handler}. */
    static java.util.Optional<String> toolOptions(String handler) {
        return TOOL_OPTIONS.computeIfAbsent(handler, ColdStartBench::readToolOptions);
    }

    /** {@link #toolOptions} per handler class: the template is read once, not once per run. */
    private static final Map<String, java.util.Optional<String>> TOOL_OPTIONS = new java.util.concurrent.ConcurrentHashMap<>();

    private static java.util.Optional<String> readToolOptions(String handler) {
        var template = io.imagemirror.aws.CloudFormationYaml.template();
        for (var f : io.imagemirror.aws.CloudFormationYaml.fields(template.get("Resources")).values()) {
            var props = f.path("Properties");
            if (props.path("Handler").asText().replace("::handleRequest", "").equals(handler)) {
                var v = props.path("Environment").path("Variables").path("JAVA_TOOL_OPTIONS");
                return v.isTextual() ? java.util.Optional.of(v.asText()) : java.util.Optional.empty();
            }
        }
        return java.util.Optional.empty();
    }

    private static void report(String java, List<String> jvmArgs, Path jar, int runs, boolean primed, boolean cds,
                               Map<String, List<Run>> results) throws IOException {
        System.out.printf("JVM: %s (%s); flags: %s; deployment jar: %,d bytes; runs per event: %d%s%s; "
                        + "%d CPUs, load average %s%n%n",
                java, javaVersion(java), String.join(" ", jvmArgs), Files.size(jar), runs,
                primed ? "; SnapStart priming run between init and event" : "",
                cds ? "; with an AppCDS archive per event, made by one unmeasured run of it with this JVM" : "",
                Runtime.getRuntime().availableProcessors(), loadAverage());
        results.keySet().stream().map(EVENTS::get).distinct().forEach(h -> toolOptions(h).ifPresent(o ->
                System.out.printf("%s: JAVA_TOOL_OPTIONS=%s (template.yaml), replacing the runtime's TieredStopAtLevel%n",
                        h.replaceAll(".*\\.", ""), o)));
        System.out.println();
        System.out.println("| handler | event | status | JVM start → main | init (constructor) median / p90 |"
                + (primed ? " priming median |" : "") + " first event median / p90 (handleRequest alone) | JVM start → first response median / p90 | CPU to first response median |");
        System.out.println("| --- | --- | --- | ---: | ---: |" + (primed ? " ---: |" : "") + " ---: | ---: | ---: |");
        for (var e : results.entrySet()) {
            List<Run> rs = e.getValue();
            String handler = EVENTS.get(e.getKey()).replaceAll(".*\\.", "");
            System.out.printf("| %s | %s | %s | %.0f ms | %.0f / %.0f ms |%s %.0f / %.0f ms (%.0f) | %.0f / %.0f ms | %.0f ms |%n",
                    handler, e.getKey(), rs.get(0).status(),
                    median(rs.stream().mapToDouble(Run::main).toArray()),
                    median(rs.stream().mapToDouble(Run::init).toArray()), p90(rs.stream().mapToDouble(Run::init).toArray()),
                    primed ? String.format(" %.0f ms |", median(rs.stream().mapToDouble(Run::prime).toArray())) : "",
                    median(rs.stream().mapToDouble(Run::event).toArray()), p90(rs.stream().mapToDouble(Run::event).toArray()),
                    median(rs.stream().mapToDouble(Run::handle).toArray()),
                    median(rs.stream().mapToDouble(Run::total).toArray()), p90(rs.stream().mapToDouble(Run::total).toArray()),
                    median(rs.stream().mapToDouble(Run::cpu).toArray()));
        }
    }

    private static String loadAverage() {
        try {
            return String.join(" ", List.of(Files.readString(Path.of("/proc/loadavg")).split(" ")).subList(0, 3));
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }

    private static String javaVersion(String java) {
        try {
            Process p = new ProcessBuilder(java, "-version").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor();
            Matcher m = Pattern.compile("version \"([^\"]+)\"").matcher(out);
            return m.find() ? m.group(1) : "?";
        } catch (IOException | InterruptedException e) {
            return "?";
        }
    }

    static double median(double[] xs) {
        double[] s = xs.clone();
        java.util.Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    /** Nearest-rank 90th percentile (with 5 runs, the slowest). */
    static double p90(double[] xs) {
        double[] s = xs.clone();
        java.util.Arrays.sort(s);
        return s[(int) Math.ceil(0.9 * s.length) - 1];
    }

    private static double d(String s) {
        return Double.parseDouble(s);
    }

    /** {@link ColdStartRun} (and its nested classes) as a jar at {@code out}; returns its path. */
    private static String runnerJar(Path out) throws Exception {
        Path classes = Path.of(codeSource(ColdStartRun.class));
        String prefix = ColdStartRun.class.getName().replace('.', '/');
        try (var jarOut = new java.util.jar.JarOutputStream(Files.newOutputStream(out));
             var files = Files.walk(classes)) {
            for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                String name = classes.relativize(f).toString().replace(File.separatorChar, '/');
                if (name.equals(prefix + ".class") || name.startsWith(prefix + "$")) {
                    jarOut.putNextEntry(new java.util.jar.JarEntry(name));
                    Files.copy(f, jarOut);
                    jarOut.closeEntry();
                }
            }
        }
        return out.toString();
    }

    private static String codeSource(Class<?> c) throws Exception {
        return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }
}
