package io.imagemirror.local.cli;

import io.imagemirror.local.LocalStores;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.imagemirror.api.ApiRequest;
import io.imagemirror.api.ApiResponse;
import io.imagemirror.api.MirrorApi;
import io.imagemirror.cache.NameRouter;
import io.imagemirror.config.MirrorConfig;
import io.imagemirror.jobs.MirrorJobs;
import io.imagemirror.local.LocalRuntime;
import io.imagemirror.mirror.ImageMirror;
import io.imagemirror.reference.ImageReference;
import io.imagemirror.store.Storage;
import io.imagemirror.sync.Rule;
import io.imagemirror.upstream.CredentialStore;
import io.imagemirror.upstream.RegistryClient;
import io.imagemirror.upstream.RetryPolicy;
import io.imagemirror.upstream.Upstreams;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every spelling of a repository gives the same repository key through every entry point: the
 * reference parser, {@code /v2} routing (with and without containerd's {@code ?ns=}),
 * {@code POST /v1/mirror}, the copy engine's index key, a sync rule's source, and the CLI's {@code ref}. Nothing here
 * contacts a registry: jobs are only queued.
 */
class RepositoryKeyTableTest {

    static final String CONFIG = """
            upstreams:
              - name: docker.io
              - name: ghcr.io
              - name: 127.0.0.1:5000
                insecure: true
              - name: localhost:5000
                insecure: true
            """;

    @TempDir
    static Path tmp;
    static Path configFile;
    static LocalRuntime runtime;
    static NameRouter router;
    static MirrorApi api;
    static final List<String> queued = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void wire() throws Exception {
        configFile = tmp.resolve("mirror.yaml");
        Files.writeString(configFile, CONFIG);
        MirrorConfig config = LocalRuntime.readConfig(configFile, Map.of());
        Storage storage = LocalStores.open(tmp);
        runtime = new LocalRuntime(config, storage, tmp.resolve("spool"), Clock.systemUTC());
        router = new NameRouter(config);
        Upstreams upstreams = new Upstreams(config.toUpstreamList(), CredentialStore.none(),
                RegistryClient.defaultHttpClient(), Clock.systemUTC(), RetryPolicy.defaults());
        api = new MirrorApi(new MirrorJobs(runtime.mirror(), upstreams, storage.jobs(), queued::add,
                Clock.systemUTC()), router, new io.imagemirror.sync.SyncRules(storage.rules(), storage.jobs(), router));
    }

    @AfterAll
    static void close() {
        runtime.close();
    }

    /** name as written | the one repository key */
    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            alpine                                   | docker.io/library/alpine
            library/alpine                           | docker.io/library/alpine
            docker.io/alpine                         | docker.io/library/alpine
            docker.io/library/alpine                 | docker.io/library/alpine
            index.docker.io/alpine                   | docker.io/library/alpine
            index.docker.io/library/alpine           | docker.io/library/alpine
            registry-1.docker.io/alpine              | docker.io/library/alpine
            registry-1.docker.io/library/alpine      | docker.io/library/alpine
            registry.hub.docker.com/alpine           | docker.io/library/alpine
            registry.hub.docker.com/library/alpine   | docker.io/library/alpine
            Index.Docker.IO/alpine                   | docker.io/library/alpine
            bitnami/redis                            | docker.io/bitnami/redis
            registry-1.docker.io/bitnami/redis       | docker.io/bitnami/redis
            ghcr.io/org/app                          | ghcr.io/org/app
            127.0.0.1:5000/base                      | 127.0.0.1:5000/base
            127.0.0.1:5000/library/base              | 127.0.0.1:5000/library/base
            localhost:5000/team/app                  | localhost:5000/team/app
            """)
    void oneKeyThroughEveryEntryPoint(String name, String key) throws Exception {
        String reference = name + ":1";

        // the reference parser, then Docker's defaults
        assertThat(ImageReference.parseNormalized(reference).repositoryName()).hasToString(key);

        // /v2/<name>/..., and containerd's /v2/<path>/...?ns=<registry>
        assertThat(router.route(name, Optional.empty()).repositoryKey()).isEqualTo(key);
        ImageReference written = ImageReference.parseName(name);
        String ns = written.registry().isEmpty() ? "docker.io" : written.registry();
        assertThat(router.route(written.repository(), Optional.of(ns)).repositoryKey()).isEqualTo(key);

        // POST /v1/mirror: the job keeps the resolved image, which the engine stores under its key
        ApiResponse posted = api.handle(new ApiRequest("POST", "/v1/mirror", Map.of(),
                Map.of("Content-Type", List.of("application/json")), new ByteArrayInputStream(
                        ("{\"image\":\"" + reference + "\"}").getBytes(StandardCharsets.UTF_8)), true));
        assertThat(posted.status()).as(posted.bodyText()).isEqualTo(202);
        JsonNode job = new ObjectMapper().readTree(api.handle(ApiRequest.of("GET",
                "/v1/jobs/" + new ObjectMapper().readTree(posted.bodyText()).get("jobId").asText(), Map.of())).bodyText());
        assertThat(job.at("/request/image").asText()).isEqualTo(key + ":1");
        assertThat(ImageMirror.repositoryKey(ImageReference.parse(job.at("/request/image").asText()))).isEqualTo(key);

        // a sync rule's source
        assertThat(Rule.fromTree(new ObjectMapper().readTree("{\"name\": \"r\", \"source\": \"" + name
                + "\", \"schedule\": \"rate(1 hour)\"}"), router).source()).isEqualTo(key);

        // image-mirror ref, with the same configuration
        RefCommandTest.Run ref = RefCommandTest.run("--config", configFile.toString(), "ref", reference);
        assertThat(ref.status()).as(ref.err()).isZero();
        assertThat(ref.out().strip()).isEqualTo(key + ":1");
    }
}
