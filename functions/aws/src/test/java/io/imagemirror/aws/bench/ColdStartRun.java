package io.imagemirror.aws.bench;

import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import com.amazonaws.services.lambda.runtime.serialization.PojoSerializer;
import com.amazonaws.services.lambda.runtime.serialization.events.LambdaEventSerializers;
import io.imagemirror.aws.handlers.SnapStartPriming;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

/**
 * One cold start, as the Lambda Java runtime does it, in a fresh JVM whose class path is the
 * deployment jar, Lambda's event serialization and this class: load the handler class, run its
 * no-arg constructor (the function's init), then for a {@link RequestStreamHandler} hand it the
 * event's bytes and take the answer's, and for a typed {@link RequestHandler} read the event JSON
 * with the runtime's serializer, handle it, write the response JSON. Prints one line of timings
 * for {@link ColdStartBench}: {@code main} (JVM launch to main, from
 * {@code -Dbench.launchEpochNanos}), {@code init} (constructor), {@code event} (deserialize,
 * handle, serialize), {@code handle} (the handler's part of it: {@code handleRequest} alone, which
 * for a stream handler is all of it), {@code total} (launch to response),
 * {@code cpu} (CPU time of the JVM until the response).
 *
 * <p>Arguments: handler class, event file, and optionally {@code primed}: run the SnapStart priming
 * between init and the event, which approximates the first event after a restore (without the
 * restore itself).
 */
public final class ColdStartRun {
    private ColdStartRun() {
    }

    public static void main(String[] args) throws Exception {
        long mainAt = epochNanos();
        long launchAt = Long.parseLong(System.getProperty("bench.launchEpochNanos", Long.toString(mainAt)));
        String handlerClass = args[0];
        Path eventFile = Path.of(args[1]);
        boolean primed = args.length > 2 && args[2].equals("primed");

        ClassLoader loader = ColdStartRun.class.getClassLoader();
        Class<?> type = Class.forName(handlerClass, true, loader);
        Object handler = type.getConstructor().newInstance();
        long initAt = epochNanos();
        long primedAt = initAt;
        if (primed) {
            SnapStartPriming.registered().forEach(SnapStartPriming::prime);
            primedAt = epochNanos();
        }

        ByteArrayOutputStream json = new ByteArrayOutputStream();
        long readAt;
        long handledAt;
        if (handler instanceof RequestStreamHandler streaming) {
            // As the runtime calls a stream handler: the event's bytes in, the answer's bytes out;
            // reading and writing the JSON is the handler's own work, so "handle" is all of it.
            byte[] eventBytes = Files.readAllBytes(eventFile);
            readAt = epochNanos();
            streaming.handleRequest(new ByteArrayInputStream(eventBytes), json, null);
            handledAt = epochNanos();
        } else {
            Class<?> input = eventType(type, 0);
            Class<?> output = eventType(type, 1);
            @SuppressWarnings("unchecked")
            PojoSerializer<Object> in = (PojoSerializer<Object>) LambdaEventSerializers.serializerFor(input, loader);
            @SuppressWarnings("unchecked")
            PojoSerializer<Object> out = (PojoSerializer<Object>) LambdaEventSerializers.serializerFor(output, loader);
            Object event;
            try (InputStream s = Files.newInputStream(eventFile)) {
                event = in.fromJson(s);
            }
            readAt = epochNanos();
            @SuppressWarnings("unchecked")
            Object response = ((RequestHandler<Object, Object>) handler).handleRequest(event, null);
            handledAt = epochNanos();
            out.toJson(response, json);
        }
        long doneAt = epochNanos();

        String body = json.toString(java.nio.charset.StandardCharsets.UTF_8);
        String status = body.replaceAll("(?s).*\"statusCode\"\\s*:\\s*(\\d+).*", "$1");
        if (status.equals(body)) {
            status = body.contains("\"batchItemFailures\":[]") ? "ok" : "failures";
        }
        System.out.printf("COLDSTART main=%.1f init=%.1f prime=%.1f event=%.1f handle=%.1f total=%.1f cpu=%d "
                        + "status=%s%n", ms(mainAt - launchAt), ms(initAt - mainAt), ms(primedAt - initAt),
                ms(doneAt - primedAt), ms(handledAt - readAt), ms(doneAt - launchAt), cpuMillis(), status);
        if (Boolean.getBoolean("bench.threads")) {
            System.out.println("THREADS " + threadCpu());
        }
        // Lambda freezes the environment after the response; here the JVM simply ends.
        System.exit(0);
    }

    /** The {@code I} (0) or {@code O} (1) of the handler's {@code RequestHandler<I, O>}, as the runtime finds it. */
    private static Class<?> eventType(Class<?> handler, int index) {
        for (Type t : handler.getGenericInterfaces()) {
            if (t instanceof ParameterizedType p && p.getRawType() == RequestHandler.class) {
                return (Class<?>) p.getActualTypeArguments()[index];
            }
        }
        for (Method m : handler.getMethods()) {
            if (m.getName().equals("handleRequest") && !m.isBridge()) {
                return index == 0 ? m.getParameterTypes()[0] : m.getReturnType();
            }
        }
        throw new IllegalArgumentException(handler + " is not a RequestHandler");
    }

    /**
     * CPU time (user + system, all threads: JIT and GC included) this JVM used so far, from
     * {@code /proc/self/stat} in clock ticks of 10 ms; -1 where there is no such file. Less disturbed
     * than wall time by other load on the machine.
     */
    private static long cpuMillis() {
        try {
            String stat = Files.readString(Path.of("/proc/self/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10;
        } catch (Exception e) {
            return -1;
        }
    }

    /**
     * CPU milliseconds per thread name (digits dropped, so the compiler threads add up), from
     * {@code /proc/self/task/<tid>/stat}: where the CPU to the first response went.
     */
    private static String threadCpu() {
        java.util.Map<String, Long> byName = new java.util.TreeMap<>();
        try (var tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : tasks.toList()) {
                try {
                    String stat = Files.readString(t.resolve("stat"));
                    String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replaceAll("\\d+", "#");
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    byName.merge(name, (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10, Long::sum);
                } catch (Exception e) {
                    // the thread ended meanwhile
                }
            }
        } catch (Exception e) {
            return "unavailable: " + e;
        }
        return byName.toString();
    }

    private static long epochNanos() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }
}
