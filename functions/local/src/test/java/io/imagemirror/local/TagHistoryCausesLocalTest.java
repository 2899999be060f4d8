package io.imagemirror.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.imagemirror.api.ApiRequest;
import io.imagemirror.api.ApiResponse;
import io.imagemirror.cache.Target;
import io.imagemirror.config.MirrorConfig;
import io.imagemirror.local.cli.ImageMirrorCommand;
import io.imagemirror.reference.RepositoryName;
import io.imagemirror.store.JobStatus;
import io.imagemirror.store.Storage;
import io.imagemirror.store.TagEvent;
import io.imagemirror.testbed.LocalRegistry;
import io.imagemirror.testbed.TestImage;
import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cause of each tag move, kept by the local store (directory + SQLite): {@code image-mirror
 * mirror} says {@code cli}, {@code POST /v1/mirror} on {@code serve}'s routes (a job on the local
 * executor) says {@code api}, a pull through the cache says {@code pull-through}.
 */
class TagHistoryCausesLocalTest {

    @TempDir
    Path tmp;

    LocalRegistry upstream;

    @BeforeEach
    void startUpstream() {
        upstream = LocalRegistry.start(tmp);
    }

    @AfterEach
    void stopUpstream() {
        if (upstream != null) {
            upstream.close();
        }
    }

    LocalRuntime runtime() {
        Path data = tmp.resolve("data");
        MirrorConfig config = MirrorConfig.defaults().withUpstream(new MirrorConfig.UpstreamConfig(upstream.hostPort(),
                URI.create(upstream.url().toString()), true, null, null, null, Set.of()));
        Storage storage = LocalStores.open(data);
        return new LocalRuntime(config, storage, data.resolve("spool"), Clock.systemUTC());
    }

    static List<String> causes(LocalRuntime rt, String repoKey, String tag) {
        return rt.storage().tagIndex().tagHistory(repoKey, tag, 10, null).items().stream().map(TagEvent::cause).toList();
    }

    @Test
    void eachEntryPointSaysWhyInTheLocalTagHistory() throws Exception {
        String host = upstream.hostPort();
        upstream.pusher().pushImage("local/cli", "1", TestImage.builder(1).build());
        upstream.pusher().pushImage("local/api", "1", TestImage.builder(2).build());
        upstream.pusher().pushImage("local/pulled", "1", TestImage.builder(3).build());

        StringWriter err = new StringWriter();
        var cli = ImageMirrorCommand.commandLine();
        cli.setOut(new PrintWriter(new StringWriter()));
        cli.setErr(new PrintWriter(err));
        int status = cli.execute("--data", tmp.resolve("data").toString(), "--insecure-registry", host, "mirror", "-q",
                host + "/local/cli:1");
        assertThat(status).as(err.toString()).isZero();

        try (LocalRuntime rt = runtime()) {
            ApiResponse posted = rt.routes(true).handle(new ApiRequest("POST", "/v1/mirror", Map.of(),
                    Map.of("Content-Type", List.of("application/json")), new ByteArrayInputStream(
                            ("{\"image\":\"" + host + "/local/api:1\"}").getBytes(StandardCharsets.UTF_8)), false));
            assertThat(posted.status()).as(posted.bodyText()).isEqualTo(202);
            String jobId = posted.header("Location").substring("/v1/jobs/".length());
            await().atMost(Duration.ofSeconds(30)).until(() -> rt.jobs().get(jobId).orElseThrow().status(),
                    s -> s == JobStatus.SUCCEEDED || s == JobStatus.FAILED);
            assertThat(rt.jobs().get(jobId).orElseThrow().status()).isEqualTo(JobStatus.SUCCEEDED);

            rt.cache().manifest(new Target(RepositoryName.of(host, "local/pulled"), "local/pulled"), "1");
            await().atMost(Duration.ofSeconds(30)).until(() -> !causes(rt, host + "/local/pulled", "1").isEmpty());

            assertThat(causes(rt, host + "/local/cli", "1")).containsExactly("cli");
            assertThat(causes(rt, host + "/local/api", "1")).containsExactly("api");
            assertThat(causes(rt, host + "/local/pulled", "1")).containsExactly("pull-through");
        }
    }
}
