package io.imagemirror.aws.handlers;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.imagemirror.aws.AwsWiring;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * Reads the events and writes the answers of the functions that take their JSON as a stream
 * ({@link com.amazonaws.services.lambda.runtime.RequestStreamHandler}): the Registry, MirrorApi and
 * CopyWorker functions. For a typed handler the Lambda Java runtime loads its own serialization
 * (a relocated Jackson with mix-ins per event type) on the first event, about 300 ms of every cold
 * start (bench/cold-start.sh); the Jackson the function already loaded at init does the same work
 * for these event types.
 *
 * <p>The event classes are the runtime library's POJOs, bound by their bean properties: property
 * names match case-insensitively (SQS sends {@code Records} and {@code eventSourceARN}), unknown
 * properties are ignored (API Gateway and SQS add fields over time), and null properties are left
 * out of answers (API Gateway reads an absent field as null). {@code EventJsonTest} checks every
 * sample event under {@code events/} against the runtime's own serialization.
 */
final class EventJson {

    private static final ObjectMapper JSON = JsonMapper.builder()
            .configure(MapperFeature.ACCEPT_CASE_INSENSITIVE_PROPERTIES, true)
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
            .serializationInclusion(JsonInclude.Include.NON_NULL)
            .disable(StreamReadFeature.AUTO_CLOSE_SOURCE)
            .disable(StreamWriteFeature.AUTO_CLOSE_TARGET)
            .build();

    private EventJson() {
    }

    /** The event in {@code in}, which is read to its end but not closed (the runtime owns it). */
    static <T> T read(InputStream in, Class<T> type) throws IOException {
        return JSON.readValue(in, type);
    }

    /**
     * Builds, on a daemon thread, what reading {@code sample}'s type and writing {@code answer}
     * takes (Jackson introspects each class once, about 80 ms for an API Gateway event in a fresh
     * JVM), while {@code init} runs on the calling thread: a production handler's init overlaps
     * it with building its SDK clients and their round trips instead of its first event paying for
     * it. The sample is written and read back; a failure only means the first event does the work.
     *
     * @return what {@code init} returned
     */
    static <T> T preparedWhile(Object sample, Class<?> answer, java.util.function.Supplier<T> init) {
        AwsWiring.initThread(() -> {
            try {
                read(new java.io.ByteArrayInputStream(JSON.writeValueAsBytes(sample)), sample.getClass());
                JSON.writerFor(answer);
            } catch (IOException | RuntimeException e) {
                LambdaLog.line(null, "event JSON not prepared at init: " + e);
            }
        }, "init-event-json");
        return init.get();
    }

    /** Writes {@code answer} to {@code out}, flushed and not closed (the runtime owns it). */
    static void write(Object answer, OutputStream out) throws IOException {
        JSON.writeValue(out, answer);
        out.flush();
    }
}
