package io.imagemirror.aws.store;

import io.imagemirror.store.StoreException;
import io.imagemirror.store.Storage;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.ResourceNotFoundException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;

/** Opens the S3 + DynamoDB {@link Storage}: checks (or creates) the bucket and table, then wires the adapters. */
public final class AwsStorage {
    private AwsStorage() {
    }

    /** Opens the store without migrating its items (see {@link #open(AwsClients, String, String, boolean, boolean, Clock)}). */
    public static Storage open(AwsClients clients, String bucket, String table, boolean createMissing, Clock clock) {
        return open(clients, bucket, table, createMissing, false, clock);
    }

    /**
     * Opens the store on {@code bucket} and {@code table}, with clients from {@code clients}; the
     * returned {@link Storage} closes them. A table written by a newer program is refused.
     *
     * @param createMissing create a missing bucket or table instead of failing
     * @param migrate bring an older table's items to the current schema in place
     *     ({@link DynamoIndex#migrate}: a scan, once). The CLI does; the Lambda functions, whose
     *     permissions are only what they need to serve, do not.
     * @throws StoreException naming what is missing and how to create it
     */
    public static Storage open(AwsClients clients, String bucket, String table, boolean createMissing,
                               boolean migrate, Clock clock) {
        List<AutoCloseable> resources = java.util.Collections.synchronizedList(new ArrayList<>());
        java.util.concurrent.atomic.AtomicReference<DynamoDbClient> dynamoClient =
                new java.util.concurrent.atomic.AtomicReference<>();
        try {
            // S3 and DynamoDB are independent until here: their clients (each loads a few hundred SDK
            // classes) are built and their bucket and table checked at the same time, which is most of a
            // function's init (bench/cold-start.sh).
            java.util.concurrent.CompletableFuture<DynamoIndex> indexed = java.util.concurrent.CompletableFuture
                    .supplyAsync(() -> {
                        DynamoDbClient dynamo = clients.dynamoDb();
                        resources.add(dynamo);
                        dynamoClient.set(dynamo);
                        return openIndex(dynamo, table, createMissing, migrate, clock);
                    }, task -> {
                        Thread t = new Thread(task, "open-dynamodb");
                        t.setDaemon(true);
                        t.start();
                    });
            S3Client s3;
            S3Presigner presigner;
            try {
                s3 = clients.s3();
                resources.add(s3);
                presigner = clients.s3Presigner();
                resources.add(presigner);
                ensureBucket(s3, bucket, createMissing);
            } finally {
                // Never leave the other half running on a failure: its resources are closed below.
                awaitQuietly(indexed);
            }
            DynamoIndex index;
            try {
                index = indexed.join();
            } catch (java.util.concurrent.CompletionException e) {
                throw e.getCause() instanceof RuntimeException r ? r : e;
            }
            return Storage.of(new S3BlobStore(s3, presigner, bucket, "blobs"),
                    new S3BlobStore(s3, presigner, bucket, "manifests"), index,
                    new DynamoCoordination(dynamoClient.get(), table), List.copyOf(resources));
        } catch (RuntimeException e) {
            for (AutoCloseable c : resources) {
                try {
                    c.close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    private static DynamoIndex openIndex(DynamoDbClient dynamo, String table, boolean createMissing, boolean migrate,
                                         Clock clock) {
        // Without --create-missing (every Lambda init) the schema read below is the existence check:
        // a missing table fails it with ResourceNotFoundException. DescribeTable would cost a cold
        // start ~60 ms more (its answer's model classes) and the roles one more permission.
        if (createMissing && !DynamoIndex.tableExists(dynamo, table)) {
            DynamoIndex.createTable(dynamo, table);
        }
        DynamoIndex index = new DynamoIndex(dynamo, table, clock);
        try {
            if (migrate) {
                index.migrate();
            } else {
                index.refuseNewerSchema();
            }
        } catch (StoreException e) {
            if (e.getCause() instanceof ResourceNotFoundException) {
                throw new StoreException("DynamoDB table " + table + " does not exist; create it (see "
                        + "docs/storage.md) or pass --create-missing", e.getCause(), false);
            }
            throw e;
        }
        return index;
    }

    private static void awaitQuietly(java.util.concurrent.CompletableFuture<?> f) {
        try {
            f.join();
        } catch (RuntimeException ignored) {
            // reported by the caller's own join
        }
    }

    /** Fails (or, with {@code create}, creates the bucket) when {@code bucket} does not exist. */
    public static void ensureBucket(S3Client s3, String bucket, boolean create) {
        try {
            s3.headBucket(b -> b.bucket(bucket));
            return;
        } catch (NoSuchBucketException e) {
            // handled below
        } catch (S3Exception e) {
            if (e.statusCode() != 404) {
                throw new StoreException("cannot reach bucket " + bucket + ": " + e.statusCode() + " " + e.getMessage(),
                        e, e.statusCode() >= 500);
            }
        } catch (SdkException e) {
            throw new StoreException("cannot reach bucket " + bucket + ": " + e.getMessage(), e, true);
        }
        if (!create) {
            throw new StoreException("S3 bucket " + bucket + " does not exist; create it or pass --create-missing",
                    null, false);
        }
        try {
            s3.createBucket(b -> b.bucket(bucket));
        } catch (SdkException e) {
            throw new StoreException("create bucket " + bucket + " failed: " + e.getMessage(), e, false);
        }
    }
}
