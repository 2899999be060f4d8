package io.imagemirror.jobs;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import io.imagemirror.oci.Digest;
import io.imagemirror.oci.EchoedInput;
import io.imagemirror.oci.Platform;
import io.imagemirror.reference.ImageReference;
import io.imagemirror.reference.RepositoryName;
import io.imagemirror.store.Cause;
import io.imagemirror.store.Job;
import io.imagemirror.upstream.Prefetch;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * The edge between typed jobs and the strings a {@link Job} keeps: the kind name goes to
 * {@link Job#kind()}, the payload (without the kind) to {@link Job#request()}, the result to
 * {@link Job#result()}. Reading takes the kind from {@code Job.kind} alone, so the two cannot
 * disagree, and reads payloads stored by earlier releases (a {@code mirror} job without a cause was
 * recorded as {@code mirror} in tag history then, and still is). Thread-safe.
 */
public final class JobJson {

    /** The property that names the kind while Jackson resolves the type. */
    static final String KIND_PROPERTY = "kind";

    /** The kinds this release runs, as {@link JobRequest} declares them. */
    private static final List<String> KINDS = Arrays.stream(JobRequest.class.getAnnotation(JsonSubTypes.class).value())
            .map(JsonSubTypes.Type::name).toList();

    private static final ObjectMapper JSON = JsonMapper.builder()
            // A payload is ours: a string where a boolean belongs is damage, not a dialect.
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .addModule(new SimpleModule("image-mirror values")
                    .addSerializer(ImageReference.class, text(ImageReference.class, ImageReference::canonical))
                    .addDeserializer(ImageReference.class, parsed(ImageReference.class, ImageReference::parse))
                    .addSerializer(RepositoryName.class, text(RepositoryName.class, RepositoryName::toString))
                    .addDeserializer(RepositoryName.class, parsed(RepositoryName.class, RepositoryName::parse))
                    .addSerializer(Digest.class, text(Digest.class, Digest::toString))
                    .addDeserializer(Digest.class, parsed(Digest.class, Digest::parse))
                    .addSerializer(Platform.class, text(Platform.class, Platform::toString))
                    .addDeserializer(Platform.class, parsed(Platform.class, Platform::parse))
                    .addSerializer(Prefetch.class, text(Prefetch.class, Prefetch::toString))
                    .addDeserializer(Prefetch.class, parsed(Prefetch.class, Prefetch::parse)))
            .build();

    private JobJson() {
    }

    /** The payload of {@code request} as {@link Job#request()} keeps it (the kind goes to {@link Job#kind()}). */
    public static String payload(JobRequest request) {
        ObjectNode tree = JSON.valueToTree(request);
        tree.remove(KIND_PROPERTY);
        return tree.toString();
    }

    /**
     * The typed request of a stored job.
     *
     * @throws InvalidJobException when the kind is unknown here or the payload is not one of that kind
     */
    public static JobRequest request(Job job) throws InvalidJobException {
        if (!KINDS.contains(job.kind())) {
            throw new InvalidJobException("unknown job kind \"" + EchoedInput.of(job.kind()) + "\" (this release runs "
                    + String.join(", ", KINDS) + ")", null);
        }
        JsonNode tree;
        try {
            tree = JSON.readTree(job.request());
        } catch (JsonProcessingException e) {
            throw new InvalidJobException("malformed payload of " + job.kind() + " job: not JSON ("
                    + e.getOriginalMessage() + ")", e);
        }
        if (!(tree instanceof ObjectNode payload)) {
            throw new InvalidJobException("malformed payload of " + job.kind() + " job: not a JSON object", null);
        }
        if (job.kind().equals(MirrorImage.KIND) && !payload.has("cause")) {
            payload.put("cause", Cause.MIRROR.value()); // written before causes were kept
        }
        payload.put(KIND_PROPERTY, job.kind());
        try {
            return JSON.treeToValue(payload, JobRequest.class);
        } catch (JsonProcessingException | IllegalArgumentException e) {
            throw new InvalidJobException("malformed payload of " + job.kind() + " job: " + reason(e), e);
        }
    }

    /** A result as {@link Job#result()} keeps it. */
    public static String result(JobResult result) {
        try {
            return JSON.writeValueAsString(result);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e); // our own records always serialize
        }
    }

    /**
     * The typed result of a finished job, empty while it has none.
     *
     * @throws InvalidJobException when the job or its result cannot be read
     */
    public static Optional<JobResult> result(Job job) throws InvalidJobException {
        if (job.result() == null) {
            return Optional.empty();
        }
        Class<? extends JobResult> type = request(job).resultType();
        try {
            return Optional.of(JSON.readValue(job.result(), type));
        } catch (JsonProcessingException e) {
            throw new InvalidJobException("malformed result of " + job.kind() + " job: " + reason(e), e);
        }
    }

    private static String reason(Exception e) {
        return e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
    }

    private static <T> StdSerializer<T> text(Class<T> type, Function<T, String> form) {
        return new StdSerializer<>(type) {
            @Override
            public void serialize(T value, JsonGenerator gen, SerializerProvider provider) throws IOException {
                gen.writeString(form.apply(value));
            }
        };
    }

    /** A value type read from a JSON string only (a number is not a reference), by its own parser. */
    private static <T> StdDeserializer<T> parsed(Class<T> type, Function<String, T> parse) {
        return new StdDeserializer<>(type) {
            @Override
            public T deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
                if (!p.hasToken(JsonToken.VALUE_STRING)) {
                    return type.cast(ctxt.handleUnexpectedToken(type, p));
                }
                String text = p.getText();
                try {
                    return parse.apply(text);
                } catch (IllegalArgumentException e) {
                    throw ctxt.weirdStringException(text, type, e.getMessage());
                }
            }
        };
    }
}
