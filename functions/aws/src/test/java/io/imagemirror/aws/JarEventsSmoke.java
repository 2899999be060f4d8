package io.imagemirror.aws;

import com.amazonaws.services.lambda.runtime.serialization.PojoSerializer;
import com.amazonaws.services.lambda.runtime.serialization.events.LambdaEventSerializers;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What the Lambda runtime does with an event before and after the handler, in a JVM whose class
 * path is the deployment jar, Lambda's event serialization and this class: each argument
 * {@code FILE=EVENT_CLASS} is read with the runtime's serializer for that class (which loads
 * classes by name from the function's jar) and written back. Prints {@code ok FILE} per event.
 */
public final class JarEventsSmoke {
    private JarEventsSmoke() {
    }

    public static void main(String[] args) throws Exception {
        ClassLoader loader = JarEventsSmoke.class.getClassLoader();
        for (String arg : args) {
            String file = arg.substring(0, arg.indexOf('='));
            Class<?> type = Class.forName(arg.substring(arg.indexOf('=') + 1), true, loader);
            @SuppressWarnings("unchecked")
            PojoSerializer<Object> serializer = (PojoSerializer<Object>) LambdaEventSerializers.serializerFor(type, loader);
            Object event;
            try (InputStream in = Files.newInputStream(Path.of(file))) {
                event = serializer.fromJson(in);
            }
            serializer.toJson(event, new ByteArrayOutputStream());
            System.out.println("ok " + Path.of(file).getFileName());
        }
    }
}
