package io.imagemirror.local.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.imagemirror.local.store.SqliteIndex;
import io.imagemirror.testbed.LocalRegistry;
import io.imagemirror.testbed.TestImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.time.Clock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code rules apply} and {@code sync} on the local store against a real upstream. */
class SyncCommandsTest {

    @TempDir
    Path tmp;
    LocalRegistry upstream;
    Path config;
    Path data;

    @BeforeEach
    void start() throws Exception {
        upstream = LocalRegistry.start(tmp);
        data = tmp.resolve("data");
        config = tmp.resolve("mirror.yaml");
        Files.writeString(config, "upstreams:\n  - name: docker.io\n  - name: " + upstream.hostPort()
                + "\n    insecure: true\n    endpoint: " + upstream.url() + "\n    prefix: up\n");
    }

    @AfterEach
    void stop() {
        upstream.close();
    }

    RefCommandTest.Run run(String... args) {
        String[] all = new String[args.length + 4];
        all[0] = "--config";
        all[1] = config.toString();
        all[2] = "--data";
        all[3] = data.toString();
        System.arraycopy(args, 0, all, 4, args.length);
        return RefCommandTest.run(all);
    }

    Path file(String name, String yaml) throws Exception {
        Path f = tmp.resolve(name);
        Files.writeString(f, yaml);
        return f;
    }

    int storedRules() {
        try (SqliteIndex index = SqliteIndex.open(data, Clock.systemUTC())) {
            return index.listSyncRules(100, null).items().size();
        }
    }

    @Test
    void rulesApplyIsIdempotentAndPrunes() throws Exception {
        Path two = file("two.yaml", """
                rules:
                  - name: app
                    source: up/team/app
                    schedule: rate(1 hour)
                  - name: base
                    source: up/team/base
                    schedule: cron(0 3 * * ? *)
                    tags: {include: ['^v']}
                """);
        RefCommandTest.Run first = run("rules", "apply", two.toString());
        assertThat(first.status()).as(first.err()).isZero();
        assertThat(first.out().lines()).containsExactly("rule/app created", "rule/base created");
        assertThat(run("rules", "apply", two.toString()).out().lines())
                .containsExactly("rule/app unchanged", "rule/base unchanged");

        Path one = file("one.yaml", """
                - name: app
                  source: up/team/app
                  schedule: rate(2 hours)
                """);
        assertThat(run("rules", "apply", one.toString()).out().lines()).containsExactly("rule/app updated");
        assertThat(storedRules()).isEqualTo(2);
        assertThat(run("rules", "apply", "--prune", one.toString()).out().lines())
                .containsExactly("rule/app unchanged", "rule/base deleted");
        assertThat(storedRules()).isEqualTo(1);
        assertThat(run("rules", "ls").out()).contains("name: \"app\"").contains("rate(2 hours)");
    }

    @Test
    void aBadRuleIsAUsageErrorNamingItsFieldAndNothingIsStored() throws Exception {
        Path bad = file("bad.yaml", """
                rules:
                  - name: fine
                    source: up/team/app
                    schedule: rate(1 hour)
                  - name: broken
                    source: up/team/app
                    schedule: rate(1 hour)
                    tags: {include: ['(unclosed']}
                """);
        RefCommandTest.Run r = run("rules", "apply", bad.toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err().lines().findFirst().orElseThrow()).startsWith("error: " + bad + ": rules[1].tags.include[0]: ");
        assertThat(storedRules()).isZero();

        Files.writeString(config, Files.readString(config) + "rules:\n  - name: x\n    source: up/a\n"
                + "    schedule: rate(5 minutes)\n    keepLatest: 3\n");
        RefCommandTest.Run fromConfig = run("sync");
        assertThat(fromConfig.status()).isNotZero();
        assertThat(fromConfig.err()).contains("rules[0].keepLatest: unknown key");
    }

    @Test
    void syncCopiesChangedTagsInTheForegroundAndStatusShowsTheRuns() throws Exception {
        TestImage img = TestImage.builder(7).build();
        upstream.pusher().pushImage("team/app", "v1", img);
        upstream.pusher().pushImage("team/app", "v2", TestImage.builder(8).build());
        upstream.pusher().pushImage("team/app", "dev", TestImage.builder(9).build());
        Files.writeString(config, Files.readString(config) + "rules:\n  - name: app\n    source: up/team/app\n"
                + "    schedule: rate(1 hour)\n    tags: {include: ['^v']}\n");

        RefCommandTest.Run dry = run("sync", "--dry-run");
        assertThat(dry.status()).as(dry.err()).isZero();
        assertThat(dry.out()).contains("v1: Would copy").contains("v2: Would copy").doesNotContain("dev:")
                .contains("app: 3 listed, 2 selected, 0 unchanged, 2 to copy");

        RefCommandTest.Run first = run("sync");
        assertThat(first.status()).as(first.err() + first.out()).isZero();
        assertThat(first.out()).contains(":v1: Pull complete").contains(":v2: Pull complete")
                .contains("app: 3 listed, 2 selected, 0 unchanged, 2 copied");
        // docker pull's voice, line by line (not a terminal): each layer of v1 starts and completes
        // between the image's first and last lines, then one summary
        List<String> lines = first.out().lines().toList();
        int pulling = lines.indexOf(upstream.hostPort() + "/team/app:v1: Pulling");
        int complete = lines.indexOf(lines.stream().filter(l -> l.startsWith(upstream.hostPort() + "/team/app:v1: Pull complete"))
                .findFirst().orElseThrow());
        assertThat(pulling).isNotNegative().isLessThan(complete);
        for (TestImage.Blob layer : img.layers()) {
            String hex = layer.digest().substring("sha256:".length(), "sha256:".length() + 12);
            assertThat(lines.subList(pulling, complete)).contains(hex + ": Pull complete")
                    .anyMatch(l -> l.startsWith(hex + ": Pulling fs layer ("));
        }
        assertThat(lines).noneMatch(l -> l.contains("\u001b"));
        assertThat(lines.get(lines.size() - 1)).startsWith("Summary: 1 rule(s), 2 tag(s) checked, 0 up to date, 2 copied (")
                .endsWith(", 0 deferred, 0 failed");

        RefCommandTest.Run second = run("sync", "app");
        assertThat(second.status()).isZero();
        assertThat(second.out()).contains("v1: Image is up to date").contains("app: 3 listed, 2 selected, 2 unchanged, 0 copied");
        assertThat(run("sync").out()).contains("no rule is due");

        RefCommandTest.Run status = run("sync", "--status");
        assertThat(status.out().lines().filter(l -> l.startsWith("app "))).hasSize(2);
        assertThat(status.out().lines().filter(l -> l.startsWith("app ")).toList().get(1)).contains(" ok ");
        assertThat(run("sync", "nope").status()).isEqualTo(2);
    }

    @Test
    void aDisabledRuleIsListedAsSuchSkippedWhenDueAndRunWhenNamed() throws Exception {
        upstream.pusher().pushImage("team/app", "v1", TestImage.builder(13).build());
        Path rulesFile = file("rules.yaml", "rules:\n  - name: app\n    source: up/team/app\n"
                + "    schedule: rate(1 hour)\n    enabled: false\n");
        assertThat(run("rules", "apply", rulesFile.toString()).out().lines()).containsExactly("rule/app created");
        assertThat(run("rules", "ls").out()).contains("enabled: false");

        RefCommandTest.Run due = run("sync");
        assertThat(due.status()).as(due.err()).isZero();
        assertThat(due.out()).contains("no rule is due");
        assertThat(run("sync", "--dry-run").out()).doesNotContain("v1");

        RefCommandTest.Run named = run("sync", "app");
        assertThat(named.status()).as(named.err() + named.out()).isZero();
        assertThat(named.out()).contains("/team/app:v1: Pull complete");
    }

    @Test
    void aTagWhoseCopyFailsIsReportedAndTheExitStatusIsOne() throws Exception {
        TestImage good = TestImage.builder(11).build();
        TestImage broken = TestImage.builder(12).build();
        upstream.pusher().pushImage("team/app", "v1", good);
        upstream.pusher().pushImage("team/app", "v2", broken);
        // the registry still answers v2's manifest, but one of its layers is gone from its storage
        String hex = broken.layers().get(0).digest().substring("sha256:".length());
        Path blob = upstream.directory().resolve("data/docker/registry/v2/blobs/sha256/" + hex.substring(0, 2) + "/" + hex
                + "/data");
        assertThat(blob).exists();
        Files.delete(blob);
        Files.writeString(config, Files.readString(config) + "rules:\n  - name: app\n    source: up/team/app\n"
                + "    schedule: rate(1 hour)\n");

        RefCommandTest.Run r = run("sync", "app");
        assertThat(r.status()).as(r.out() + r.err()).isEqualTo(1);
        assertThat(r.out()).contains("/team/app:v1: Pull complete").contains("/team/app:v2: error: ");
        assertThat(r.out().lines().toList().get((int) r.out().lines().count() - 1))
                .startsWith("Summary: 1 rule(s), 2 tag(s) checked, 0 up to date, 1 copied (").endsWith(", 0 deferred, 1 failed");
    }

    @Test
    void rulesSuggestPrintsPulledRepositoriesAsRulesThatApplyTakes() throws Exception {
        TestImage img = TestImage.builder(11).build();
        upstream.pusher().pushImage("team/app", "v1", img);
        assertThat(run("mirror", "up/team/app:v1").status()).isZero();
        try (SqliteIndex index = SqliteIndex.open(data, Clock.systemUTC())) {
            for (int i = 0; i < 3; i++) {
                index.recordPull(upstream.hostPort() + "/team/app", io.imagemirror.oci.Digest.parse(img.digest()));
            }
        }
        assertThat(run("rules", "suggest", "--min-pulls", "4").out()).startsWith("# no repository");
        RefCommandTest.Run suggested = run("rules", "suggest", "--min-pulls", "3", "--days", "1");
        assertThat(suggested.status()).as(suggested.err()).isZero();
        assertThat(suggested.out()).contains("# " + upstream.hostPort() + "/team/app: 3 pulls").contains("name: \"app\"");
        Path file = file("suggested.yaml", suggested.out());
        assertThat(run("rules", "apply", file.toString()).out().lines()).containsExactly("rule/app created");
        assertThat(run("rules", "suggest", "--min-pulls", "3").out()).startsWith("# no repository");
    }
}
