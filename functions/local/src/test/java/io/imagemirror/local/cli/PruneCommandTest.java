package io.imagemirror.local.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.imagemirror.testbed.LocalRegistry;
import io.imagemirror.testbed.TestImage;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code image-mirror prune} in process, over a local store mirrored from a real docker-registry. */
class PruneCommandTest {

    @TempDir
    Path tmp;

    LocalRegistry upstream;
    Path data;

    @BeforeEach
    void start() {
        upstream = LocalRegistry.start(tmp);
        data = tmp.resolve("data");
    }

    @AfterEach
    void stop() {
        upstream.close();
    }

    RefCommandTest.Run cli(String... args) {
        return RefCommandTest.run(Stream.concat(Stream.of("--data", data.toString(), "--insecure-registry",
                upstream.hostPort()), Stream.of(args)).toArray(String[]::new));
    }

    @Test
    void aDryRunListsWhatPruneThenDeletesAndTheMovedTagStaysWhole() throws Exception {
        TestImage.Blob base = TestImage.layer(1, 40_000);
        List<TestImage> versions = List.of(TestImage.builder(10).layer(base).layer(5_000).build(),
                TestImage.builder(11).layer(base).layer(6_000).build(),
                TestImage.builder(12).layer(base).layer(7_000).build());
        String ref = upstream.hostPort() + "/golftrack:1.5";
        for (TestImage v : versions) {
            upstream.pusher().pushImage("golftrack", "1.5", v);
            assertThat(cli("mirror", ref).status()).isZero();
        }

        RefCommandTest.Run kept = cli("prune");
        assertThat(kept.status()).as(kept.err()).isZero();
        assertThat(kept.out().lines()).containsExactly("Total reclaimed space: 0B");

        RefCommandTest.Run dry = cli("prune", "--grace", "0", "--dry-run");
        assertThat(dry.status()).as(dry.err()).isZero();
        List<String> wouldGo = dry.out().lines().filter(l -> l.contains("sha256:"))
                .map(l -> l.split("\\s+")[1]).toList();
        assertThat(wouldGo).contains(versions.get(0).digest(), versions.get(1).digest(),
                versions.get(0).layers().get(1).digest(), versions.get(1).config().digest())
                .doesNotContain(versions.get(2).digest(), base.digest());
        // 4 blobs and the 2 manifests' own bytes (swept like blobs once no record names them)
        assertThat(dry.out()).contains("Would delete 2 manifest(s) and 6 blob(s).");
        String total = dry.out().lines().filter(l -> l.startsWith("Total reclaimed space: ")).findFirst().orElseThrow();

        RefCommandTest.Run real = cli("prune", "--grace", "0");
        assertThat(real.status()).as(real.err()).isZero();
        List<String> deleted = real.out().lines().filter(l -> l.startsWith("deleted: "))
                .map(l -> l.substring(l.lastIndexOf(' ') + 1).replaceAll("^.*@", "")).toList();
        assertThat(deleted).containsExactlyInAnyOrderElementsOf(wouldGo);
        assertThat(real.out().lines().toList()).first().isEqualTo("Deleted Images:");
        assertThat(real.out().lines().reduce((a, b) -> b).orElseThrow()).isEqualTo(total);

        RefCommandTest.Run again = cli("prune", "--grace", "0", "--dry-run");
        assertThat(again.out()).contains("Would delete 0 manifest(s) and 0 blob(s).");
        RefCommandTest.Run status = cli("prune", "--status");
        assertThat(status.out().lines()).hasSize(3); // header, the real sweep, the first one (nothing deleted)
        assertThat(status.out().lines().skip(1).findFirst().orElseThrow()).contains(" 2 ").contains(" 6 ");
        // The tag still mirrors as up to date: everything it needs is there.
        RefCommandTest.Run up = cli("mirror", ref);
        assertThat(up.status()).as(up.err()).isZero();
    }

    @Test
    void pruneAllAppliesRetentionItsDryRunMatchesAndRmTakesAnImageId() throws Exception {
        for (int i = 0; i < 3; i++) {
            upstream.pusher().pushImage("golftrack", "1." + i, TestImage.builder(20 + i).layer(3_000 + i).build());
            assertThat(cli("mirror", upstream.hostPort() + "/golftrack:1." + i).status()).isZero();
        }
        Path config = tmp.resolve("mirror.json");
        java.nio.file.Files.writeString(config, "{\"sweep\": {\"retention\": [{\"repositories\": \""
                + upstream.hostPort() + "/*\", \"keepLatest\": 1, \"order\": \"semver\"}]}}");
        String repo = upstream.hostPort() + "/golftrack";

        RefCommandTest.Run plain = cli("--config", config.toString(), "prune", "--dry-run");
        assertThat(plain.out()).as("without --all no tag goes").doesNotContain("(untag)");
        RefCommandTest.Run dry = cli("--config", config.toString(), "prune", "--all", "--dry-run");
        assertThat(dry.status()).as(dry.err()).isZero();
        List<String> wouldUntag = dry.out().lines().filter(l -> l.contains("(untag)")).map(l -> l.split("\\s+")[0])
                .toList();
        assertThat(wouldUntag).containsExactlyInAnyOrder(repo + ":1.0", repo + ":1.1");
        String wouldTotal = dry.out().lines().filter(l -> l.startsWith("Would delete")).findFirst().orElseThrow();
        assertThat(wouldTotal).startsWith("Would delete 2 manifest(s)");

        RefCommandTest.Run real = cli("--config", config.toString(), "prune", "--all");
        assertThat(real.status()).as(real.err()).isZero();
        assertThat(real.out().lines().filter(l -> l.startsWith("untagged: ")).map(l -> l.substring(10)))
                .containsExactlyInAnyOrderElementsOf(wouldUntag);
        assertThat(real.out().lines().filter(l -> l.startsWith("deleted: ") && !l.contains("blob"))).hasSize(2);
        RefCommandTest.Run history = cli("history", repo + ":1.0");
        assertThat(history.out()).contains("retention");

        RefCommandTest.Run ids = cli("images", "-q");
        assertThat(ids.out().lines().toList()).singleElement().satisfies(id -> assertThat(id).hasSize(12));
        String id = ids.out().lines().findFirst().orElseThrow();
        RefCommandTest.Run rm = cli("rm", id);
        assertThat(rm.status()).as(rm.err()).isZero();
        assertThat(rm.out()).contains("Untagged: " + repo + ":1.2").contains("Deleted: " + repo + "@sha256:");
        RefCommandTest.Run unknown = cli("rm", "abcdef012345");
        assertThat(unknown.status()).isEqualTo(1);
        assertThat(unknown.err()).contains("No such image: abcdef012345");
    }

    @Test
    void usageErrorsExitTwo() {
        RefCommandTest.Run bad = cli("prune", "--grace", "soon");
        assertThat(bad.status()).isEqualTo(2);
        assertThat(bad.err()).startsWith("error: --grace: invalid duration");
        RefCommandTest.Run filter = cli("prune", "--filter", "dangling=false");
        assertThat(filter.status()).isEqualTo(2);
        assertThat(filter.err()).startsWith("error: --filter dangling is not supported");
    }
}
