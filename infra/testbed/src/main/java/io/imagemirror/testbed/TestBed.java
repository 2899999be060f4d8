package io.imagemirror.testbed;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The shared servers of the test bed (s3proxy, dynoxide, ElasticMQ), reached through
 * {@code infra/testbed.sh}: a test asks for an endpoint and the server is started if it is not
 * already running (CI starts them all up front). They are left running for the next test class;
 * {@code infra/testbed.sh stop} ends them.
 */
public final class TestBed {
    private TestBed() {
    }

    public static final String ACCESS_KEY = "test";
    public static final String SECRET_KEY = "test";
    public static final String REGION = "us-east-1";

    /** The S3-compatible endpoint (s3proxy 4.1.0). */
    public static URI s3() {
        return ensure("s3proxy", envPort("IMAGE_MIRROR_S3_PORT", 4561));
    }

    /** The DynamoDB-compatible endpoint (dynoxide 1.2.1). */
    public static URI dynamoDb() {
        return ensure("dynoxide", envPort("IMAGE_MIRROR_DYNAMODB_PORT", 4568));
    }

    /** The SQS-compatible endpoint (ElasticMQ 1.7.1). */
    public static URI sqs() {
        return ensure("elasticmq", envPort("IMAGE_MIRROR_SQS_PORT", 4576));
    }

    /** The repository's top directory (where {@code infra/} is). */
    public static Path repoRoot() {
        String prop = System.getProperty("imagemirror.repo.root");
        if (prop != null && Files.isRegularFile(Path.of(prop, "infra", "testbed.sh"))) {
            return Path.of(prop).toAbsolutePath();
        }
        Path p = Path.of("").toAbsolutePath();
        while (p != null) {
            if (Files.isRegularFile(p.resolve("infra/testbed.sh"))) {
                return p;
            }
            p = p.getParent();
        }
        throw new IllegalStateException("cannot find infra/testbed.sh above " + Path.of("").toAbsolutePath());
    }

    private static synchronized URI ensure(String service, int port) {
        URI uri = URI.create("http://127.0.0.1:" + port);
        if (portOpen(port)) {
            return uri;
        }
        run(List.of("start", service));
        if (!portOpen(port)) {
            throw new IllegalStateException(service + " is not answering on 127.0.0.1:" + port);
        }
        return uri;
    }

    /** Runs {@code infra/testbed.sh ARGS}, failing with its output when it fails. */
    public static void run(List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add("bash");
        cmd.add(repoRoot().resolve("infra/testbed.sh").toString());
        cmd.addAll(args);
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (p.waitFor() != 0) {
                throw new IllegalStateException("infra/testbed.sh " + String.join(" ", args) + " failed:\n" + out);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run infra/testbed.sh", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static boolean portOpen(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int envPort(String name, int dflt) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? dflt : Integer.parseInt(v.trim());
    }
}
