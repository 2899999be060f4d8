package io.imagemirror.local.cli;

import io.imagemirror.local.LocalStores;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.imagemirror.listing.HumanUnits;
import io.imagemirror.local.LocalRuntime;
import io.imagemirror.local.http.LocalHttpServer;
import io.imagemirror.oci.Digest;
import io.imagemirror.store.Storage;
import io.imagemirror.testbed.LocalRegistry;
import io.imagemirror.testbed.TestImage;
import io.imagemirror.testbed.TestIndex;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * images, history, inspect, search and df as users run them, over a local store mirrored from a
 * real docker-registry: the seed's mutable {@code golftrack:1.5} moved twice, {@code app-*} images
 * with labels, a multi-platform image mirrored whole and with a platform filter. Then {@code serve}'s
 * {@code /v1} views and {@code /ui/} in a real headless browser (Debian's chromium).
 */
class ViewCommandsTest {

    @TempDir
    static Path tmp;
    static LocalRegistry upstream;
    static Path data;
    static Path config;
    static final ObjectMapper JSON = new ObjectMapper();
    static TestImage golf1;
    static TestImage golf2;
    static TestImage golf3;
    static TestImage web1;
    static TestImage web12;
    static TestImage db1;
    static TestImage amd;
    static TestImage arm;
    static TestIndex multi;

    record Run(int status, String out, String err) {
        List<String> lines() {
            return out.lines().toList();
        }
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        List<String> all = new ArrayList<>(List.of("--data", data.toString(), "--config", config.toString()));
        all.addAll(List.of(args));
        CommandLine cl = ImageMirrorCommand.commandLine(all.toArray(String[]::new));
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int status = cl.execute(all.toArray(String[]::new));
        return new Run(status, out.toString(), err.toString());
    }

    static void mirror(String ref, String... options) {
        List<String> args = new ArrayList<>(List.of("mirror", "-q", ref));
        args.addAll(List.of(options));
        Run r = run(args.toArray(String[]::new));
        assertThat(r.status()).as(r.err()).isZero();
    }

    @BeforeAll
    static void mirrorTheSeed() throws Exception {
        upstream = LocalRegistry.start(tmp);
        data = tmp.resolve("data");
        config = tmp.resolve("mirror.yaml");
        // The test registry is the default upstream, so names read as on Docker Hub: golftrack:1.5.
        Files.writeString(config, "defaultUpstream: " + upstream.hostPort() + "\nupstreams:\n  - name: "
                + upstream.hostPort() + "\n    endpoint: " + upstream.url() + "\n    insecure: true\n");
        golf1 = TestImage.builder(101).layer(4000).build();
        golf2 = TestImage.builder(102).layer(5000).build();
        golf3 = TestImage.builder(103).layer(6000).build();
        for (TestImage g : List.of(golf1, golf2, golf3)) {
            upstream.pusher().pushImage("golftrack", "1.5", g);
            mirror("golftrack:1.5");
        }
        TestImage.Blob base = TestImage.layer(7, 20_000);
        web1 = TestImage.builder(111).layer(base).layer(1000).label("team", "a").build();
        web12 = TestImage.builder(112).layer(base).layer(2000).label("team", "b").build();
        db1 = TestImage.builder(113).layer(base).layer(3000).label("tier", "db").build();
        upstream.pusher().pushImage("app-web", "1", web1);
        upstream.pusher().pushImage("app-web", "12", web12);
        upstream.pusher().pushImage("app-db", "1", db1);
        mirror("app-web:1");
        mirror("app-web:12");
        mirror("app-db:1");
        amd = TestImage.builder(121).layer(7000).build();
        arm = TestImage.builder(122).platform("linux", "arm64", "v8").layer(8000).build();
        multi = TestIndex.of(TestImage.Format.OCI, List.of(amd, arm), false);
        upstream.pusher().pushIndex("multi", "1", multi);
        upstream.pusher().pushIndex("multi-arm", "1", multi);
        mirror("multi:1");
        mirror("multi-arm:1", "--platform", "linux/arm64");
    }

    @AfterAll
    static void stop() {
        if (upstream != null) {
            upstream.close();
        }
    }

    static long size(TestImage i) {
        return i.config().size() + i.layers().stream().mapToLong(TestImage.Blob::size).sum();
    }

    static String shortId(TestImage i) {
        return Digest.parse(i.config().digest()).hex().substring(0, 12);
    }

    @Test
    void viewsAnswerWhileAnotherProcessHoldsTheDataDirectory() throws Exception {
        // serve or a mirror holds the lock; the views only read, so they need not wait for it
        try (var held = io.imagemirror.local.store.DataDirectoryLock.acquire(data, false, line -> { })) {
            Run r = run("images", "--format", "{{.Repository}}:{{.Tag}}");
            assertThat(r.status()).as(r.err()).isZero();
            assertThat(r.lines()).contains("golftrack:1.5");
            Run mirror = run("mirror", "-q", "golftrack:1.5");
            assertThat(mirror.status()).as("a writer still needs the lock").isNotZero();
            assertThat(mirror.err()).contains("already open");
        }
    }

    @Test
    void imagesListsTagsWithConfigIdsAndStoredSizes() {
        Run r = run("images");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.lines().get(0)).startsWith("REPOSITORY").contains("TAG", "IMAGE ID", "CREATED", "SIZE");
        assertThat(r.lines()).hasSize(7);
        assertThat(r.lines()).anySatisfy(l -> assertThat(l).startsWith("golftrack").contains("1.5", shortId(golf3),
                HumanUnits.size(size(golf3))));
        assertThat(r.lines()).anySatisfy(l -> assertThat(l).startsWith("app-web").contains(shortId(web12),
                HumanUnits.size(size(web12))));
        // a multi-platform image: the index digest, and the sum over stored platforms
        String multiId = Digest.parse(multi.digest()).hex().substring(0, 12);
        assertThat(r.lines()).anySatisfy(l -> assertThat(l).startsWith("multi ").contains(multiId,
                HumanUnits.size(size(amd) + size(arm))));
        assertThat(r.lines()).anySatisfy(l -> assertThat(l).startsWith("multi-arm ").contains(multiId,
                HumanUnits.size(size(arm))));

        Run ls = run("ls", "--format", "{{.Repository}}:{{.Tag}}");
        assertThat(ls.lines()).containsExactly("app-db:1", "app-web:1", "app-web:12", "golftrack:1.5", "multi:1",
                "multi-arm:1");
        assertThat(run("images", "golftrack").lines()).hasSize(2);
        assertThat(run("images", "-q", "app-web:12").lines()).containsExactly(shortId(web12));
        assertThat(run("images", "--no-trunc", "-q", "app-web:12").lines()).containsExactly(web12.config().digest());
        assertThat(run("images", "--digests", "app-web:1").lines().get(1)).contains(web1.digest());
    }

    @Test
    void danglingListsExactlyWhatTheMovedTagLeftBehind() {
        Run dangling = run("images", "--filter", "dangling=true", "--format", "{{.Repository}} {{.Tag}} {{.Digest}}");
        assertThat(dangling.status()).as(dangling.err()).isZero();
        assertThat(dangling.lines()).containsExactlyInAnyOrder("golftrack <none> " + golf1.digest(),
                "golftrack <none> " + golf2.digest());
        assertThat(run("images", "-a", "golftrack", "--format", "{{.Tag}}").lines())
                .containsExactlyInAnyOrder("1.5", "<none>", "<none>");
        assertThat(run("images", "-a", "--filter", "dangling=false").lines()).hasSize(7);
    }

    @Test
    void filtersFollowMirrorOrderLabelsAndGlobs() {
        assertThat(run("images", "--filter", "before=app-web:12", "--format", "{{.Repository}}:{{.Tag}}").lines())
                .containsExactly("app-web:1", "golftrack:1.5");
        assertThat(run("images", "--filter", "since=app-web:12", "--format", "{{.Repository}}:{{.Tag}}").lines())
                .containsExactly("app-db:1", "multi:1", "multi-arm:1");
        assertThat(run("images", "-f", "label=team", "--format", "{{.Repository}}:{{.Tag}}").lines())
                .containsExactly("app-web:1", "app-web:12");
        assertThat(run("images", "-f", "label=team=a", "--format", "{{.Repository}}:{{.Tag}}").lines())
                .containsExactly("app-web:1");
        assertThat(run("images", "-f", "reference=app-*:1", "--format", "{{.Repository}}:{{.Tag}}").lines())
                .containsExactly("app-db:1", "app-web:1");
    }

    @Test
    void formatJsonParsesLineByLine() throws Exception {
        Run r = run("images", "--format", "json");
        assertThat(r.lines()).hasSize(6);
        for (String line : r.lines()) {
            JsonNode o = JSON.readTree(line);
            assertThat(o.fieldNames()).toIterable().contains("Repository", "Tag", "ID", "Digest", "Size",
                    "CreatedAt", "CreatedSince");
        }
        assertThat(JSON.readTree(r.lines().get(0)).get("Repository").asText()).isEqualTo("app-db");
    }

    @Test
    void historyTellsTheMovesNewestFirstWithCauses() throws Exception {
        Run r = run("history", "golftrack:1.5");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.lines()).hasSize(4);
        assertThat(r.lines().get(0)).startsWith("WHEN").contains("FROM", "TO", "CAUSE");
        String h1 = Digest.parse(golf1.digest()).hex().substring(0, 12);
        String h2 = Digest.parse(golf2.digest()).hex().substring(0, 12);
        String h3 = Digest.parse(golf3.digest()).hex().substring(0, 12);
        assertThat(r.lines().get(1)).contains(h2, h3, "cli");
        assertThat(r.lines().get(2)).contains(h1, h2, "cli");
        assertThat(r.lines().get(3)).contains("<none>", h1, "cli");
        Run json = run("history", "--format", "json", "golftrack:1.5");
        assertThat(JSON.readTree(json.lines().get(0)).get("to").asText()).isEqualTo(golf3.digest());
        Run absent = run("history", "golftrack:9");
        assertThat(absent.status()).isEqualTo(1);
        assertThat(absent.err()).startsWith("error: no history of golftrack:9");
    }

    @Test
    void inspectListsPlatformsAndMarksAFilteredOneNotStored() throws Exception {
        Run r = run("inspect", "multi:1", "multi-arm:1");
        assertThat(r.status()).as(r.err()).isZero();
        JsonNode both = JSON.readTree(r.out());
        JsonNode whole = both.get(0);
        assertThat(whole.get("digest").asText()).isEqualTo(multi.digest());
        assertThat(whole.get("platforms")).hasSize(2);
        assertThat(whole.get("platforms")).allSatisfy(p -> assertThat(p.get("stored").asBoolean()).isTrue());
        assertThat(whole.at("/platforms/1/platform").asText()).isEqualTo("linux/arm64/v8");
        assertThat(whole.at("/tags/0").asText()).isEqualTo("1");
        JsonNode filtered = both.get(1);
        assertThat(filtered.at("/platforms/0/platform").asText()).isEqualTo("linux/amd64");
        assertThat(filtered.at("/platforms/0/stored").asBoolean()).isFalse();
        assertThat(filtered.at("/platforms/1/stored").asBoolean()).isTrue();
        assertThat(filtered.get("size").asLong()).isEqualTo(size(arm));

        Run one = run("inspect", "app-web:1");
        JsonNode web = JSON.readTree(one.out()).get(0);
        assertThat(web.get("id").asText()).isEqualTo(web1.config().digest());
        assertThat(web.at("/labels/team").asText()).isEqualTo("a");
        assertThat(web.get("layers")).hasSize(2);
        assertThat(web.get("created").asText()).isEqualTo("2024-01-01T00:00:00Z");
        assertThat(run("inspect", "--format", "{{.id}} {{.labels.team}}", "app-web:1").out().strip())
                .isEqualTo(web1.config().digest() + " a");
        Run missing = run("inspect", "nothing:1");
        assertThat(missing.status()).isEqualTo(1);
        assertThat(missing.err()).contains("no such image in the mirror: nothing:1");
    }

    @Test
    void searchAndDf() throws Exception {
        Run s = run("search", "app");
        assertThat(s.status()).as(s.err()).isZero();
        assertThat(s.lines()).hasSize(3);
        assertThat(s.lines().get(1)).startsWith("app-db");
        assertThat(run("search", "--limit", "1", "app").lines()).hasSize(2);
        assertThat(run("search", "-f", "is-official=true", "app").lines()).hasSize(1);

        Run df = run("df", "--format", "json");
        assertThat(df.status()).as(df.err()).isZero();
        JsonNode u = JSON.readTree(df.out());
        assertThat(u.get("tags").asLong()).isEqualTo(6);
        assertThat(u.get("dangling").asLong()).isEqualTo(2);
        assertThat(u.get("reclaimableBytes").asLong()).isEqualTo(size(golf1) + size(golf2));
        long base = web1.layers().get(0).size();
        assertThat(u.get("savedBytes").asLong()).as("the base layer three images share, and the arm64 platform")
                .isEqualTo(2 * base + size(arm));
        assertThat(run("df").out()).contains("Images").contains("layer sharing saved");
    }

    @Test
    void badFiltersFormatsAndReferencesAreUsageErrors() {
        Run name = run("images", "--filter", "colour=red");
        assertThat(name.status()).isEqualTo(2);
        assertThat(name.err().lines().toList()).hasSize(2);
        assertThat(name.err()).startsWith("error: invalid filter 'colour'").contains("--help");
        Run value = run("images", "--filter", "dangling=maybe");
        assertThat(value.status()).isEqualTo(2);
        assertThat(value.err()).contains("dangling=maybe");
        Run before = run("images", "--filter", "before=nope:1");
        assertThat(before.status()).isEqualTo(2);
        assertThat(before.err()).contains("no such image: nope:1");
        Run template = run("images", "--format", "{{.Nope}}");
        assertThat(template.status()).isEqualTo(2);
        assertThat(template.err()).contains("unknown field .Nope");
        Run unclosed = run("inspect", "--format", "{{.id", "golftrack:1.5");
        assertThat(unclosed.status()).isEqualTo(2);
        assertThat(unclosed.err()).contains("unclosed action");
        Run stars = run("search", "--filter", "stars=3", "x");
        assertThat(stars.status()).isEqualTo(2);
        assertThat(stars.err()).contains("a mirror has no stars");
        Run badRef = run("images", "Bad:Ref");
        assertThat(badRef.status()).isEqualTo(2);
        assertThat(badRef.err()).contains("invalid reference");
    }

    /** The /v1 views and /ui/ of serve: the same answers over HTTP, and the page in a real browser. */
    @Test
    void serveAnswersTheViewsAndThePageShowsTheMirroredImages() throws Exception {
        Storage storage = LocalStores.open(data);
        io.imagemirror.local.metrics.PrometheusMetrics metrics = new io.imagemirror.local.metrics.PrometheusMetrics();
        try (LocalRuntime rt = new LocalRuntime(LocalRuntime.readConfig(config, Map.of()), storage, tmp.resolve("spool"),
                Clock.systemUTC(), metrics);
             LocalHttpServer server = LocalHttpServer.start(new InetSocketAddress("127.0.0.1", 0), 8,
                     metrics.serving(new io.imagemirror.api.MeteredApi(rt.routes(true), metrics)), line -> { },
                     Clock.systemUTC())) {
            String base = "http://127.0.0.1:" + server.address().getPort();
            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> dangling = http.send(HttpRequest.newBuilder(URI.create(base
                    + "/v1/images?filter=dangling%3Dtrue")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(dangling.statusCode()).isEqualTo(200);
            List<String> digests = new ArrayList<>();
            JSON.readTree(dangling.body()).get("images").forEach(i -> digests.add(i.get("digest").asText()));
            assertThat(digests).containsExactlyInAnyOrder(golf1.digest(), golf2.digest());
            HttpResponse<String> bad = http.send(HttpRequest.newBuilder(URI.create(base
                    + "/v1/images?filter=colour%3Dred")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(bad.statusCode()).isEqualTo(400);
            assertThat(bad.body()).contains("'colour'");
            HttpResponse<String> page = http.send(HttpRequest.newBuilder(URI.create(base + "/ui/")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.headers().firstValue("Content-Security-Policy")).hasValueSatisfying(
                    csp -> assertThat(csp).contains("default-src 'self'"));

            HttpResponse<String> rule = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/rules/golf"))
                    .PUT(HttpRequest.BodyPublishers.ofString("{\"source\":\"golftrack\",\"schedule\":\"rate(1 day)\"}"))
                    .header("Content-Type", "application/json").build(), HttpResponse.BodyHandlers.ofString());
            assertThat(rule.statusCode()).as(rule.body()).isEqualTo(201);

            // a sweep with the default grace deletes nothing here, and is shown all the same
            HttpResponse<String> prune = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/prune"))
                    .POST(HttpRequest.BodyPublishers.ofString("{}")).header("Content-Type", "application/json").build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(prune.statusCode()).as(prune.body()).isEqualTo(200);

            String dom = chromium("--virtual-time-budget=8000", "--dump-dom", base + "/ui/#golftrack:1.5");
            assertThat(dom).as("the sweeps section shows the sweep").doesNotContain("aria-labelledby=\"sweeps-title\" hidden");
            assertThat(dom).as("the sync rules section shows the stored rule").contains("<td>golf</td>")
                    .doesNotContain("aria-labelledby=\"rules-title\" hidden");
            assertThat(dom).contains("data-loaded=\"true\"");
            for (String name : List.of("golftrack", "app-web", "app-db", "multi-arm")) {
                assertThat(dom).contains("<td>" + name + "</td>");
            }
            assertThat(dom).as("cache hits and misses from /metrics").contains("blob cache hits / misses since start")
                    .contains("manifest cache hits / misses since start");
            assertThat(dom).contains(shortId(golf3)).contains("layer sharing saved")
                    .contains("History of golftrack:1.5");
            assertThat(dom.split("class=\"cause\"", -1)).as("three moves on the timeline").hasSize(4);
            Path shot = Path.of("target", "ui-screenshot.png").toAbsolutePath();
            Files.deleteIfExists(shot);
            chromium("--virtual-time-budget=8000", "--hide-scrollbars", "--window-size=1280,1100",
                    "--screenshot=" + shot, base + "/ui/#golftrack:1.5");
            assertThat(shot).exists();
            assertThat(Files.size(shot)).isGreaterThan(10_000);
        }
    }

    /** Runs Debian's chromium headless (installed by infra/testbed.sh install) and returns its stdout. */
    static String chromium(String... args) throws Exception {
        Path profile = Files.createTempDirectory(tmp, "chromium");
        List<String> cmd = new ArrayList<>(List.of("chromium", "--headless", "--no-sandbox", "--disable-gpu",
                "--no-first-run", "--user-data-dir=" + profile));
        cmd.addAll(List.of(args));
        Path out = tmp.resolve("chromium-" + System.nanoTime() + ".out");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        boolean done = p.waitFor(90, TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly();
        }
        assertThat(done).as("chromium finished").isTrue();
        assertThat(p.exitValue()).as("chromium exit status").isZero();
        return Files.readString(out);
    }

}
