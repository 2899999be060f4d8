package io.imagemirror.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.imagemirror.cache.NameRouter;
import io.imagemirror.config.MirrorConfig;
import io.imagemirror.jobs.MirrorJobs;
import io.imagemirror.mirror.ImageMirror;
import io.imagemirror.oci.MediaTypes;
import io.imagemirror.store.InMemoryIndex;
import io.imagemirror.store.Storage;
import io.imagemirror.sync.Rule;
import io.imagemirror.sync.SyncListener;
import io.imagemirror.sync.SyncPlanner;
import io.imagemirror.sync.SyncRules;
import io.imagemirror.sync.SyncRun;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import mockwebserver3.MockWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The sync planner's quota floor against a fake Docker Hub that sends {@code ratelimit-*} headers
 * and pages its tag list: below the floor no job is queued and every changed tag is recorded as
 * deferred; the next run, with quota back, queues exactly those.
 */
class SyncQuotaFloorTest {

    private final MockWebServer hubServer = new MockWebServer();
    private final FakeRegistry hub = FakeRegistry.registry();
    private final List<String> queued = new CopyOnWriteArrayList<>();
    private final ExecutorService pool = Executors.newFixedThreadPool(2);
    private SyncRules rules;
    private SyncPlanner planner;
    private Storage storage;

    @BeforeEach
    void start() throws IOException {
        hubServer.setDispatcher(hub);
        hubServer.start(InetAddress.getByName("127.0.0.1"), 0);
        MirrorConfig config = MirrorConfig.defaults().withUpstream(new MirrorConfig.UpstreamConfig("docker.io",
                URI.create("http://127.0.0.1:" + hubServer.getPort()), true, null, null, null, Set.of()));
        storage = InMemoryIndex.storage(Clock.systemUTC());
        Upstreams upstreams = new Upstreams(config.toUpstreamList(), CredentialStore.none(),
                RegistryClient.defaultHttpClient(), Clock.systemUTC(), RetryPolicy.none());
        ImageMirror mirror = new ImageMirror(upstreams, storage, pool, Clock.systemUTC());
        MirrorJobs jobs = new MirrorJobs(mirror, upstreams, storage.jobs(), queued::add, Clock.systemUTC());
        NameRouter names = new NameRouter(config);
        rules = new SyncRules(storage.rules(), storage.jobs(), names);
        planner = new SyncPlanner(rules, storage.rules(), storage.tagIndex(), upstreams, jobs, 10, Clock.systemUTC());
    }

    @AfterEach
    void stop() {
        hubServer.close();
        pool.shutdownNow();
    }

    @Test
    void belowTheFloorJobsAreDeferredAndTheNextRunQueuesThemAll() throws Exception {
        List<String> tags = List.of("3.18", "3.19", "3.20", "3.21", "edge", "latest");
        for (String t : tags) {
            hub.putManifest("library/alpine", t, MediaTypes.OCI_MANIFEST, ("{\"schemaVersion\":2,\"mediaType\":\""
                    + MediaTypes.OCI_MANIFEST + "\",\"config\":{},\"layers\":[],\"annotations\":{\"t\":\"" + t + "\"}}")
                    .getBytes(StandardCharsets.UTF_8));
        }
        hub.tagPageSize = 2;
        hub.rateLimit = "100;w=21600";
        hub.rateRemaining = "4;w=21600";
        Rule rule = rules.parse(new ObjectMapper().readTree(
                "{\"name\":\"alpine\",\"source\":\"alpine\",\"schedule\":\"rate(1 minute)\"}"));
        rules.put(rule);

        SyncRun starved = planner.run(List.of(rule), false, SyncListener.NONE).get(0);
        assertThat(starved.listed()).isEqualTo(6);
        assertThat(hub.requestsTo("/tags/list")).hasSize(3); // every Link page
        assertThat(starved.deferred()).containsExactlyInAnyOrderElementsOf(tags);
        assertThat(starved.jobs()).isEmpty();
        assertThat(queued).isEmpty();
        assertThat(hub.requests.stream().filter(r -> r.getMethod().equals("GET")
                && r.getUrl().encodedPath().contains("/manifests/"))).isEmpty();

        hub.rateRemaining = "90;w=21600";
        SyncRun fed = planner.run(List.of(rule), false, SyncListener.NONE).get(0);
        assertThat(fed.deferred()).isEmpty();
        assertThat(fed.changed()).containsExactlyInAnyOrderElementsOf(starved.deferred());
        assertThat(queued).containsExactlyInAnyOrderElementsOf(fed.jobs()).hasSize(6);
        assertThat(rules.runs("alpine", 10)).extracting(SyncRun::id).containsExactly(fed.id(), starved.id());
    }
}
