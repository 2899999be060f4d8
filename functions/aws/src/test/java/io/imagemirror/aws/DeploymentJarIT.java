package io.imagemirror.aws;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import com.amazonaws.services.lambda.runtime.serialization.events.LambdaEventSerializers;
import io.imagemirror.testbed.TestBed;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/** The Lambda deployment jar carries the core and the SDK, and none of the local-only stacks. */
class DeploymentJarIT {

    /** Issue 7's budget for the deployment artifact (decimal megabytes, as Lambda's quotas count). */
    static final long MAX_JAR_BYTES = 20_000_000L;

    @Test
    void deploymentJarIsAtMost20Megabytes() throws IOException {
        assertThat(Files.size(Path.of("target/image-mirror-aws.jar"))).isLessThanOrEqualTo(MAX_JAR_BYTES);
    }

    @Test
    void deploymentJarHasNoJettySqliteOrPicocli() throws IOException {
        Path jar = Path.of("target/image-mirror-aws.jar");
        assertThat(jar).exists();
        try (JarFile f = new JarFile(jar.toFile())) {
            List<String> names = f.stream().map(JarEntry::getName).toList();
            assertThat(names).anyMatch(n -> n.startsWith("io/imagemirror/reference/"));
            assertThat(names).anyMatch(n -> n.startsWith("software/amazon/awssdk/services/s3/"));
            assertThat(names).noneMatch(n -> n.startsWith("org/eclipse/jetty/"))
                    .noneMatch(n -> n.startsWith("org/sqlite/"))
                    .noneMatch(n -> n.startsWith("picocli/"))
                    .noneMatch(n -> n.startsWith("io/imagemirror/local/"))
                    .noneMatch(n -> n.startsWith("org/apache/http/"))
                    .noneMatch(n -> n.startsWith("org/apache/hc/"))
                    .noneMatch(n -> n.startsWith("software/amazon/awssdk/http/apache5/"))
                    .noneMatch(n -> n.startsWith("io/netty/"));
        }
    }

    @Test
    void handlersStartFromTheJarWithTheEnvironmentAlone() throws Exception {
        try (AwsFixture aws = new AwsFixture("jarsmoke")) {
            ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", "target/image-mirror-aws.jar" + File.pathSeparator + "target/test-classes",
                    JarSmoke.class.getName(), "{\"image\": \"alpine:3.20\"}").redirectErrorStream(true);
            pb.environment().putAll(aws.functionEnv(null));
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor()).as(out).isZero();
            assertThat(out).contains("api 202 {\"jobId\":").contains("worker failures 0");
            // The metrics of the POST, as an EMF line written with only the jar on the class path.
            assertThat(out.lines().filter(l -> l.startsWith("{\"_aws\"") && l.contains("\"route\":\"v1.mirror\"")
                    && l.contains("\"status\":\"202\"") && l.contains("\"http.requests\":")).count()).as(out)
                    .isEqualTo(1);
            var messages = aws.sqs.receiveMessage(b -> b.queueUrl(aws.queueUrl).waitTimeSeconds(5)).messages();
            assertThat(messages).hasSize(1);
            assertThat(out).contains(messages.get(0).body().replace("{\"jobId\":\"", "").replace("\"}", ""));
        }
    }

    @Test
    void aResumableCopysHashStateSavesAndRestoresFromTheJarAlone() throws Exception {
        // As the CopyWorker runs (template.yaml opens sun.security.provider): the JDK's SHA-256.
        assertThat(runSha256Smoke("--add-opens=java.base/sun.security.provider=ALL-UNNAMED"))
                .contains("sha256 state ok").contains("hashed by JDK SHA-256");
        // Without the flag: Bouncy Castle's, from the classes the shade filter keeps.
        assertThat(runSha256Smoke()).contains("sha256 state ok")
                .contains("hashed by Bouncy Castle SHA256Digest").contains("--add-opens");
    }

    private static String runSha256Smoke(String... jvmArgs) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of(jvmArgs));
        command.addAll(List.of("-cp", "target/image-mirror-aws.jar" + File.pathSeparator + "target/test-classes",
                JarSha256Smoke.class.getName()));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
        return out;
    }

    /**
     * The runtime deserializes events with its own serializer, which loads classes by name from the
     * function's jar (org.joda.time.DateTime for every event class, whether or not it has a date):
     * every sample event must read from the jar alone.
     */
    @Test
    void everySampleEventReadsWithOnlyTheJarOnTheClassPath() throws Exception {
        List<String> args = new ArrayList<>();
        try (var files = Files.list(TestBed.repoRoot().resolve("events"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
                String name = f.getFileName().toString();
                Class<?> type = name.startsWith("copy-worker") ? SQSEvent.class
                        : name.startsWith("sweeper") ? com.amazonaws.services.lambda.runtime.events.ScheduledEvent.class
                        : APIGatewayV2HTTPEvent.class;
                args.add(f + "=" + type.getName());
            }
        }
        assertThat(args).hasSizeGreaterThanOrEqualTo(7);
        String serialization = Path.of(LambdaEventSerializers.class.getProtectionDomain().getCodeSource().getLocation()
                .toURI()).toString();
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", String.join(File.pathSeparator, "target/image-mirror-aws.jar", serialization, "target/test-classes"),
                JarEventsSmoke.class.getName()));
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
        assertThat(out.lines().filter(l -> l.startsWith("ok ")).count()).as(out).isEqualTo(args.size());
    }

    @Test
    void deploymentJarHoldsEveryHandlerTheTemplateNames() throws IOException {
        try (JarFile f = new JarFile(Path.of("target/image-mirror-aws.jar").toFile())) {
            List<String> names = f.stream().map(JarEntry::getName).toList();
            var resources = CloudFormationYaml.fields(CloudFormationYaml.template().get("Resources"));
            long handlers = 0;
            for (var r : resources.values()) {
                String handler = r.path("Properties").path("Handler").asText();
                if (!handler.isEmpty()) {
                    handlers++;
                    String entry = handler.replace("::handleRequest", "").replace('.', '/') + ".class";
                    assertThat(names).as(handler).contains(entry);
                }
            }
            assertThat(handlers).isGreaterThanOrEqualTo(2);
            // What the handlers reach at run time: the SQS and Secrets Manager clients and the Lambda events.
            assertThat(names).contains("software/amazon/awssdk/services/sqs/SqsClient.class",
                    "software/amazon/awssdk/services/secretsmanager/SecretsManagerClient.class",
                    "com/amazonaws/services/lambda/runtime/events/SQSBatchResponse.class");
        }
    }
}
