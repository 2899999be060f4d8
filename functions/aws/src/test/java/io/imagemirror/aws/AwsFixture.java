package io.imagemirror.aws;

import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;
import software.amazon.awssdk.services.sqs.model.Message;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import com.amazonaws.services.lambda.runtime.serialization.events.LambdaEventSerializers;
import io.imagemirror.aws.store.AwsClients;
import io.imagemirror.aws.store.AwsStorage;
import io.imagemirror.aws.store.DynamoIndex;
import io.imagemirror.testbed.LocalRegistry;
import io.imagemirror.testbed.TestBed;
import io.imagemirror.upstream.RegistryClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import okhttp3.Interceptor;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/**
 * A bucket, a table and a copy queue with its dead-letter queue on the test bed's s3proxy,
 * dynoxide and ElasticMQ, under names unique to one test class (others use the same servers at
 * the same time), the environment the functions would see, and the SDK clients to look at what
 * they did. {@link #close()} removes all of it.
 */
public final class AwsFixture implements AutoCloseable {

    /** Deliveries before a message moves to the dead-letter queue. */
    public static final int MAX_RECEIVE_COUNT = 2;

    public final String bucket;
    public final String table;
    public final String queueUrl;
    public final String dlqUrl;
    public final S3Client s3;
    public final DynamoDbClient dynamo;
    public final SqsClient sqs;
    private final AwsClients clients;
    private final URI s3Endpoint;

    public AwsFixture(String prefix) {
        this(prefix, TestBed.s3());
    }

    /** A fixture whose bucket is on {@code s3Endpoint} (a test's own s3proxy) instead of the test bed's. */
    public AwsFixture(String prefix, URI s3Endpoint) {
        this.s3Endpoint = s3Endpoint;
        String suffix = UUID.randomUUID().toString().substring(0, 12);
        bucket = prefix + "-" + suffix;
        table = prefix + "-" + suffix;
        clients = new AwsClients(sdkEnv(s3Endpoint));
        s3 = clients.s3();
        dynamo = clients.dynamoDb();
        sqs = clients.sqs();
        AwsStorage.ensureBucket(s3, bucket, true);
        DynamoIndex.createTable(dynamo, table);
        dlqUrl = sqs.createQueue(b -> b.queueName(prefix + "-" + suffix + "-dlq")).queueUrl();
        String dlqArn = sqs.getQueueAttributes(b -> b.queueUrl(dlqUrl).attributeNames(QueueAttributeName.QUEUE_ARN))
                .attributes().get(QueueAttributeName.QUEUE_ARN);
        queueUrl = sqs.createQueue(b -> b.queueName(prefix + "-" + suffix).attributes(Map.of(
                QueueAttributeName.REDRIVE_POLICY, "{\"deadLetterTargetArn\":\"" + dlqArn + "\",\"maxReceiveCount\":\""
                        + MAX_RECEIVE_COUNT + "\"}"))).queueUrl();
    }

    /** Endpoints, region and credentials of the test bed, as the SDK reads them. */
    public static Map<String, String> sdkEnv() {
        return sdkEnv(TestBed.s3());
    }

    private static Map<String, String> sdkEnv(URI s3) {
        return Map.of("AWS_ENDPOINT_URL_S3", s3.toString(),
                "AWS_ENDPOINT_URL_DYNAMODB", TestBed.dynamoDb().toString(),
                "AWS_ENDPOINT_URL_SQS", TestBed.sqs().toString(),
                "AWS_REGION", TestBed.REGION, "AWS_ACCESS_KEY_ID", TestBed.ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY", TestBed.SECRET_KEY);
    }

    /** What a deployed function's environment holds, with {@code config} as {@code IMAGE_MIRROR_CONFIG}. */
    public Map<String, String> functionEnv(String config) {
        Map<String, String> env = new HashMap<>(sdkEnv(s3Endpoint));
        env.put(AwsWiring.BUCKET, bucket);
        env.put(AwsWiring.TABLE, table);
        env.put(AwsWiring.QUEUE_URL, queueUrl);
        if (config != null) {
            env.put(AwsWiring.CONFIG, config);
        }
        return env;
    }

    /**
     * The production wiring over this fixture's bucket, table and queue, with {@code upstream}
     * configured as Docker Hub (so the sample events run unchanged) and every request it sends
     * upstream seen by {@code counter}.
     */
    public AwsWiring wiringWithDockerHubAt(LocalRegistry upstream, String extraConfig,
                                           Interceptor counter) {
        String config = "{\"upstreams\": [{\"name\": \"docker.io\", \"endpoint\": \"" + upstream.url()
                + "\", \"insecure\": true}]" + (extraConfig == null ? "" : ", " + extraConfig) + "}";
        try {
            return AwsWiring.fromEnvironment(functionEnv(config),
                    RegistryClient.defaultHttpClient().newBuilder().addNetworkInterceptor(counter).build(), Clock.systemUTC());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The keys of every object in the bucket under {@code prefix}. */
    public List<String> keys(String prefix) {
        return s3.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(prefix)).contents().stream()
                .map(S3Object::key).toList();
    }

    /** The file under {@code events/} read through the Lambda runtime's own event deserialization. */
    public static <T> T event(String file, Class<T> type) {
        return eventFromJson(eventJson(file), type);
    }

    public static String eventJson(String file) {
        Path p = TestBed.repoRoot().resolve("events").resolve(file);
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static <T> T eventFromJson(String json, Class<T> type) {
        return LambdaEventSerializers.serializerFor(type, AwsFixture.class.getClassLoader()).fromJson(json);
    }

    /** The one message on the copy queue (waiting up to 5 s), with its system attributes. */
    public Message receiveOne() {
        return receiveOne(queueUrl);
    }

    /** The one message on {@code queue} (waiting up to 5 s), with its system attributes; fails if there is none. */
    public Message receiveOne(String queue) {
        List<Message> got = sqs.receiveMessage(b -> b.queueUrl(queue).waitTimeSeconds(5).maxNumberOfMessages(1)
                .messageSystemAttributeNames(MessageSystemAttributeName.ALL)).messages();
        org.assertj.core.api.Assertions.assertThat(got).as("one message on " + queue).hasSize(1);
        return got.get(0);
    }

    /** The SQS event Lambda's event source mapping would deliver for {@code message}, in the sample's shape. */
    public static SQSEvent sqsEvent(Message message) {
        try {
            ObjectNode event = (ObjectNode) new ObjectMapper().readTree(eventJson("copy-worker-sqs.json"));
            ObjectNode record = (ObjectNode) event.get("Records").get(0);
            record.put("messageId", message.messageId());
            record.put("receiptHandle", message.receiptHandle());
            record.put("body", message.body());
            record.put("md5OfBody", message.md5OfBody());
            ObjectNode attributes = record.putObject("attributes");
            message.attributes().forEach((k, v) -> attributes.put(k.toString(), v));
            return eventFromJson(event.toString(), SQSEvent.class);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        try {
            for (String key : keys("")) {
                s3.deleteObjects(b -> b.bucket(bucket).delete(d -> d.objects(ObjectIdentifier.builder().key(key).build())));
            }
            s3.deleteBucket(b -> b.bucket(bucket));
            dynamo.deleteTable(b -> b.tableName(table));
            sqs.deleteQueue(b -> b.queueUrl(queueUrl));
            sqs.deleteQueue(b -> b.queueUrl(dlqUrl));
        } catch (SdkException e) {
            // Names are unique per class: a leftover costs nothing but disk on a throwaway server.
            System.err.println("cleanup of " + bucket + " incomplete: " + e.getMessage());
        } finally {
            s3.close();
            dynamo.close();
            sqs.close();
        }
    }
}
