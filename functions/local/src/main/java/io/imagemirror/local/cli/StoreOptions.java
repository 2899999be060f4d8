package io.imagemirror.local.cli;

import io.imagemirror.aws.store.AwsClients;
import io.imagemirror.aws.store.AwsStorage;
import io.imagemirror.local.store.DataDirectoryLock;
import io.imagemirror.local.store.FileBlobStore;
import io.imagemirror.local.store.SqliteIndex;
import io.imagemirror.store.Storage;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The global storage options of the CLI, for use as a {@code @Mixin} (or {@code @ArgGroup}):
 * <pre>
 *   --store local|aws   local: a directory + SQLite (default); aws: S3 + DynamoDB
 *   --data DIR          the local store's directory (default ./mirror-data)
 *   --bucket NAME       the S3 bucket (aws)
 *   --table NAME        the DynamoDB table (aws)
 *   --create-missing    create the bucket and table when absent
 * </pre>
 * The aws store takes endpoints from {@code AWS_ENDPOINT_URL_S3} / {@code AWS_ENDPOINT_URL_DYNAMODB},
 * region and credentials from the SDK's default chains. The local store always creates its
 * directory: it is the embedded default and a first run should just work.
 */
public final class StoreOptions {

    /** Which backend. Lowercase so the option reads {@code --store aws}. */
    public enum Backend {
        local,
        aws
    }

    @Option(names = "--store", defaultValue = "local", paramLabel = "local|aws",
            description = "Where mirrored content lives: local (a directory + SQLite) or aws (S3 + DynamoDB). "
                    + "Default: ${DEFAULT-VALUE}.")
    Backend store = Backend.local;

    @Option(names = "--data", defaultValue = "./mirror-data", paramLabel = "DIR",
            description = "Directory of the local store. Default: ${DEFAULT-VALUE}.")
    Path data = Path.of("./mirror-data");

    @Option(names = "--bucket", paramLabel = "NAME", description = "S3 bucket of the aws store.")
    String bucket;

    @Option(names = "--table", paramLabel = "NAME", description = "DynamoDB table of the aws store.")
    String table;

    @Option(names = "--create-missing",
            description = "Create the S3 bucket and DynamoDB table when they do not exist.")
    boolean createMissing;

    @Option(names = "--wait",
            description = "When another image-mirror process uses the --data directory, wait for it to finish "
                    + "instead of failing.")
    boolean waitForLock;

    public Backend backend() {
        return store;
    }

    public Path dataDir() {
        return data;
    }

    /** Opens the chosen store with the system clock and the process's AWS environment. */
    public Storage open() {
        return open(Clock.systemUTC(), AwsClients.fromEnvironment());
    }

    /**
     * Opens the chosen store; the caller closes it.
     *
     * @throws IllegalArgumentException when the aws store lacks {@code --bucket} or {@code --table}
     * @throws io.imagemirror.store.StoreException when the bucket or table is missing (without
     *     {@code --create-missing}) or the backend cannot be reached
     */
    public Storage open(Clock clock, AwsClients aws) {
        return switch (store) {
            case local -> {
                // One process per directory: the lock first (it also clears what a killed one left in
                // tmp/ and spool/), then the directories, then the database.
                DataDirectoryLock lock = DataDirectoryLock.acquire(data, waitForLock,
                        line -> System.err.println(line));
                try {
                    FileBlobStore blobs = FileBlobStore.blobs(data);
                    FileBlobStore manifests = FileBlobStore.manifests(data);
                    yield Storage.of(blobs, manifests, SqliteIndex.open(data, clock), List.of(lock));
                } catch (RuntimeException e) {
                    closeQuietly(lock);
                    throw e;
                }
            }
            case aws -> {
                if (bucket == null || bucket.isBlank() || table == null || table.isBlank()) {
                    throw new IllegalArgumentException("--store aws needs --bucket NAME and --table NAME");
                }
                yield AwsStorage.open(aws, bucket, table, createMissing, true, clock);
            }
        };
    }

    /**
     * Opens the chosen store for commands that only read it ({@code images}, {@code history},
     * {@code inspect}, {@code search}, {@code df}). The local store is opened without the
     * data-directory lock, so they answer while {@code serve} or a {@code mirror} holds it: they
     * write no blob and no temp file, and SQLite (WAL) lets readers run beside its one writer.
     */
    public Storage openForReading() {
        if (store == Backend.aws) {
            return open();
        }
        Clock clock = Clock.systemUTC();
        return Storage.of(FileBlobStore.blobs(data), FileBlobStore.manifests(data), SqliteIndex.open(data, clock),
                List.of());
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // already failing with the cause that matters
        }
    }
}
