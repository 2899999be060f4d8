package io.imagemirror.local.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.imagemirror.aws.store.AwsClients;
import io.imagemirror.aws.store.DynamoIndex;
import io.imagemirror.local.store.FileBlobStore;
import io.imagemirror.local.store.SqliteIndex;
import io.imagemirror.oci.Digest;
import io.imagemirror.store.BlobStore;
import io.imagemirror.store.StoreException;
import io.imagemirror.store.Storage;
import io.imagemirror.store.SyncRule;
import io.imagemirror.testbed.TestBed;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.s3.S3Client;

class StoreOptionsTest {

    @Command(name = "probe")
    static final class Probe {
        @Mixin
        StoreOptions storage;
    }

    @TempDir
    Path dir;

    private static StoreOptions parse(String... args) {
        Probe p = new Probe();
        new CommandLine(p).parseArgs(args);
        return p.storage;
    }

    private static AwsClients testBed() {
        return new AwsClients(Map.of("AWS_ENDPOINT_URL_S3", TestBed.s3().toString(),
                "AWS_ENDPOINT_URL_DYNAMODB", TestBed.dynamoDb().toString(), "AWS_REGION", TestBed.REGION,
                "AWS_ACCESS_KEY_ID", TestBed.ACCESS_KEY, "AWS_SECRET_ACCESS_KEY", TestBed.SECRET_KEY));
    }

    @Test
    void defaultsAreTheLocalStoreInMirrorData() {
        StoreOptions o = parse();
        assertThat(o.backend()).isEqualTo(StoreOptions.Backend.local);
        assertThat(o.dataDir()).isEqualTo(Path.of("./mirror-data"));
        assertThat(new CommandLine(new Probe()).getUsageMessage()).contains("--store", "--data", "--bucket",
                "--table", "--create-missing");
    }

    @Test
    void unknownStoreIsRefusedByTheParser() {
        assertThatThrownBy(() -> parse("--store", "gcs")).isInstanceOf(CommandLine.ParameterException.class);
    }

    @Test
    void localStoreOpensDirectoryAndIndex() throws Exception {
        Path data = dir.resolve("nested/mirror");
        try (Storage s = parse("--data", data.toString()).open(Clock.systemUTC(), testBed())) {
            assertThat(s.blobs()).isInstanceOf(FileBlobStore.class);
            assertThat(s.rules()).isInstanceOf(SqliteIndex.class);
            byte[] b = "layer".getBytes(StandardCharsets.UTF_8);
            Digest d = Digest.sha256(b);
            s.manifests().put(d, b.length, new ByteArrayInputStream(b));
            assertThat(s.blobs().exists(d)).isFalse();
            s.rules().putSyncRule(new SyncRule("r", "{}", true));
        }
        assertThat(data.resolve("index.db")).exists();
        assertThat(data.resolve("manifests/sha256")).isDirectory();
    }

    @Test
    void awsStoreNeedsBucketAndTable() {
        assertThatThrownBy(() -> parse("--store", "aws", "--bucket", "b").open(Clock.systemUTC(), testBed()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--table");
    }

    @Test
    void awsStoreWithoutCreateMissingNamesWhatIsMissing() {
        String name = "im-options-absent-" + UUID.randomUUID().toString().substring(0, 8);
        assertThatThrownBy(() -> parse("--store", "aws", "--bucket", name, "--table", name)
                .open(Clock.systemUTC(), testBed()))
                .isInstanceOf(StoreException.class).hasMessageContaining(name).hasMessageContaining("--create-missing");
    }

    @Test
    void awsStoreWithCreateMissingCreatesBucketAndTableAndWorks() throws Exception {
        String name = "im-options-" + UUID.randomUUID().toString().substring(0, 8);
        AwsClients clients = testBed();
        try {
            try (Storage s = parse("--store", "aws", "--bucket", name, "--table", name, "--create-missing")
                    .open(Clock.systemUTC(), clients)) {
                byte[] b = "config".getBytes(StandardCharsets.UTF_8);
                Digest d = Digest.sha256(b);
                assertThat(s.blobs().put(d, b.length, new ByteArrayInputStream(b)))
                        .isIn(BlobStore.PutResult.STORED, BlobStore.PutResult.ALREADY_EXISTS);
                assertThat(s.blobs().exists(d)).isTrue();
                assertThat(s.manifests().exists(d)).isFalse();
                assertThat(s.blobs().presignGet(d, java.time.Duration.ofMinutes(1))).isPresent();
                s.rules().putSyncRule(new SyncRule("r", "{}", true));
                assertThat(s.rules().getSyncRule("r")).isPresent();
            }
            // and now it opens without --create-missing
            try (Storage s = parse("--store", "aws", "--bucket", name, "--table", name)
                    .open(Clock.systemUTC(), clients)) {
                assertThat(s.rules().getSyncRule("r")).isPresent();
            }
        } finally {
            try (S3Client s3 = clients.s3(); DynamoDbClient dynamo = clients.dynamoDb()) {
                s3.listObjectsV2(b -> b.bucket(name)).contents()
                        .forEach(o -> s3.deleteObject(b -> b.bucket(name).key(o.key())));
                s3.deleteBucket(b -> b.bucket(name));
                if (DynamoIndex.tableExists(dynamo, name)) {
                    dynamo.deleteTable(b -> b.tableName(name));
                }
            }
        }
    }
}
