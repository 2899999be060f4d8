package io.imagemirror.aws.handlers;

import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import io.imagemirror.oci.Digest;
import io.imagemirror.store.Storage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import org.crac.Context;
import org.crac.Core;
import org.crac.Resource;

/**
 * Primes a function before Lambda SnapStart takes its snapshot: a CRaC {@link Resource} that, in
 * {@code beforeCheckpoint}, feeds its handler a few representative events that have no side
 * effects (a {@code /v2/} ping and a catalog page, a job that does not exist, a mirror request
 * that does not parse, an SQS job message for no job) and signs one S3 URL, so that the classes
 * on the request path (API Gateway and SQS event types, the API routing, Jackson, the SDK's
 * marshalling, signing and HTTP client) are loaded and initialised in the snapshot rather than on
 * the first request after each restore. The requests reach the function's own table and bucket
 * (reads of keys that do not exist) and never an upstream registry; nothing is written.
 *
 * <p>Without a checkpoint (a plain JVM, or Lambda without SnapStart) registration is all that
 * happens. A priming failure is logged and swallowed: a snapshot without priming still serves.
 * The handlers' no-arg (production) constructors register one each; CRaC contexts may hold
 * resources weakly, so registered instances are also kept here. Thread-safe.
 */
public final class SnapStartPriming implements Resource {

    /** A job id no mirror job ever has (those are UUIDs): the priming reads it and finds nothing. */
    static final String NO_SUCH_JOB = "snapstart-priming";
    /** The digest whose (absent) blob is presigned and looked up. */
    static final Digest NO_SUCH_BLOB = Digest.parse("sha256:" + "0".repeat(64));

    private static final List<SnapStartPriming> REGISTERED = new CopyOnWriteArrayList<>();

    private final String function;
    private final Supplier<List<String>> requests;
    private volatile List<String> lastOutcomes = List.of();

    private SnapStartPriming(String function, Supplier<List<String>> requests) {
        this.function = Objects.requireNonNull(function, "function");
        this.requests = Objects.requireNonNull(requests, "requests");
    }

    /** Primes the Registry function: {@code GET /v2/}, {@code GET /v2/_catalog?n=1}, a presigned URL and a HEAD of an absent blob. */
    public static SnapStartPriming forRegistry(RegistryHandler handler, Storage storage) {
        return new SnapStartPriming("Registry", () -> {
            List<String> out = new ArrayList<>();
            out.add(status("GET /v2/", viaStream(handler, httpEvent("GET", "/v2/", "", null), APIGatewayV2HTTPResponse.class)));
            out.add(status("GET /v2/_catalog", viaStream(handler, httpEvent("GET", "/v2/_catalog", "n=1", null),
                    APIGatewayV2HTTPResponse.class)));
            out.add("presign " + storage.blobs().presignGet(NO_SUCH_BLOB, Duration.ofMinutes(1)).isPresent());
            out.add("blob exists " + storage.blobs().exists(NO_SUCH_BLOB));
            return out;
        });
    }

    /** Primes the MirrorApi function: a job that does not exist (404) and a mirror request that does not parse (400). */
    public static SnapStartPriming forMirrorApi(MirrorApiHandler handler) {
        return new SnapStartPriming("MirrorApi", () -> List.of(
                status("GET /v1/jobs", viaStream(handler, httpEvent("GET", "/v1/jobs/" + NO_SUCH_JOB, "", null),
                        APIGatewayV2HTTPResponse.class)),
                status("POST /v1/mirror", viaStream(handler,
                        httpEvent("POST", "/v1/mirror", "", "{\"image\": \"\", \"platforms\": [], \"allTags\": false}"),
                        APIGatewayV2HTTPResponse.class))));
    }

    /** Primes the CopyWorker function: an SQS batch with a message for a job that does not exist (acknowledged, nothing copied). */
    public static SnapStartPriming forCopyWorker(CopyWorkerHandler handler) {
        return new SnapStartPriming("CopyWorker", () -> {
            SQSEvent event = sqsEvent();
            SQSBatchResponse response = viaStream(handler, event, SQSBatchResponse.class);
            return List.of("SQS failures " + response.getBatchItemFailures().size());
        });
    }

    /** Registers this priming with the JVM's global CRaC context (and keeps it reachable). */
    public SnapStartPriming register() {
        return register(Core.getGlobalContext());
    }

    /** Registers this priming with {@code context} (and keeps it reachable). */
    public SnapStartPriming register(Context<Resource> context) {
        REGISTERED.add(this);
        context.register(this);
        return this;
    }

    @Override
    public void beforeCheckpoint(Context<? extends Resource> context) {
        prime();
    }

    @Override
    public void afterRestore(Context<? extends Resource> context) {
        // Nothing to renew: the SDK's HTTP client opens new connections as needed, credentials are the restored environment's.
    }

    /**
     * Runs the priming requests once more; never throws.
     *
     * @return whether every request ran (each answer, whatever its status, counts)
     */
    public boolean prime() {
        long start = System.nanoTime();
        try {
            lastOutcomes = List.copyOf(requests.get());
            LambdaLog.line(null, "snapstart priming of " + function + " in "
                    + (System.nanoTime() - start) / 1_000_000 + " ms: " + lastOutcomes);
            return true;
        } catch (RuntimeException | LinkageError e) {
            LambdaLog.line(null, "snapstart priming of " + function + " failed, snapshot taken unprimed: " + e);
            return false;
        }
    }

    /** What the last {@link #prime()} saw, one line per request (for tests and logs). */
    public List<String> lastOutcomes() {
        return lastOutcomes;
    }

    public String function() {
        return function;
    }

    /** The primings registered in this JVM (the cold-start benchmark runs them without a checkpoint). */
    public static List<SnapStartPriming> registered() {
        return List.copyOf(REGISTERED);
    }

    /**
     * Sends {@code event} through the handler's stream entry point, as Lambda does, so that the
     * event's JSON reading and the answer's writing are primed too.
     */
    private static <T> T viaStream(RequestStreamHandler handler, Object event, Class<T> answer) {
        try {
            ByteArrayOutputStream json = new ByteArrayOutputStream();
            EventJson.write(event, json);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            handler.handleRequest(new ByteArrayInputStream(json.toByteArray()), out, null);
            return EventJson.read(new ByteArrayInputStream(out.toByteArray()), answer);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String status(String what, APIGatewayV2HTTPResponse response) {
        return what + " " + response.getStatusCode();
    }

    /** An SQS batch of one message for a job that does not exist. */
    static SQSEvent sqsEvent() {
        SQSEvent.SQSMessage message = new SQSEvent.SQSMessage();
        message.setMessageId("snapstart-priming");
        message.setBody("{\"jobId\":\"" + NO_SUCH_JOB + "\"}");
        message.setAttributes(Map.of("ApproximateReceiveCount", "1"));
        SQSEvent event = new SQSEvent();
        event.setRecords(List.of(message));
        return event;
    }

    /** An HTTP API (payload 2.0) event as API Gateway sends it on the default stage. */
    static APIGatewayV2HTTPEvent httpEvent(String method, String path, String query, String body) {
        return APIGatewayV2HTTPEvent.builder().withVersion("2.0").withRouteKey("$default").withRawPath(path)
                .withRawQueryString(query)
                .withHeaders(body == null ? Map.of("accept", "application/json")
                        : Map.of("accept", "application/json", "content-type", "application/json"))
                .withBody(body).withIsBase64Encoded(false)
                .withRequestContext(APIGatewayV2HTTPEvent.RequestContext.builder().withStage("$default")
                        .withRequestId("snapstart-priming")
                        .withHttp(APIGatewayV2HTTPEvent.RequestContext.Http.builder().withMethod(method).withPath(path)
                                .withProtocol("HTTP/1.1").build())
                        .build())
                .build();
    }
}
