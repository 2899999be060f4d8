package io.imagemirror.aws.metrics;

import io.imagemirror.metrics.Meter;
import io.imagemirror.metrics.Metrics;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import software.amazon.cloudwatchlogs.emf.environment.Environment;
import software.amazon.cloudwatchlogs.emf.logger.MetricsLogger;
import software.amazon.cloudwatchlogs.emf.model.DimensionSet;
import software.amazon.cloudwatchlogs.emf.model.Unit;

/**
 * The Lambda functions' metrics: the {@link Metrics} port collected during an invocation and
 * written by {@link #flush} as CloudWatch embedded-metric-format lines (aws-embedded-metrics), which
 * CloudWatch turns into metrics in the namespace {@value #NAMESPACE}. Metric names are the meters'
 * keys ({@code cache.lookups}, ...), dimensions their tags; counters are summed per invocation,
 * timers keep every value (seconds, at most 100 per line), gauges their last value. One line per
 * distinct set of dimensions, each with the invocation's request id as a property.
 *
 * <p>Nothing of the library is loaded before the first flush (after the first event's work), so
 * it adds nothing to a function's init. Thread-safe.
 */
public final class EmfMetrics implements Metrics {

    public static final String NAMESPACE = "ImageMirror";
    /** EMF's limit of values per metric in one line. */
    static final int MAX_VALUES = 100;

    private record Series(Meter meter, List<String> tags) {
    }

    private final Supplier<Environment> environment;
    private final Map<Series, List<Double>> pending = new LinkedHashMap<>();

    /** @param environment where lines go: {@code LambdaEnvironment::new} (standard output) in a function */
    public EmfMetrics(Supplier<Environment> environment) {
        this.environment = environment;
    }

    @Override
    public void add(Meter meter, double amount, String... tags) {
        meter.check(tags);
        synchronized (this) {
            List<Double> v = pending.computeIfAbsent(new Series(meter, List.of(tags)), s -> new ArrayList<>(1));
            if (v.isEmpty()) {
                v.add(amount);
            } else {
                v.set(0, v.get(0) + amount);
            }
        }
    }

    @Override
    public void observe(Meter meter, double seconds, String... tags) {
        meter.check(tags);
        synchronized (this) {
            pending.computeIfAbsent(new Series(meter, List.of(tags)), s -> new ArrayList<>()).add(seconds);
        }
    }

    @Override
    public void set(Meter meter, double value, String... tags) {
        meter.check(tags);
        synchronized (this) {
            List<Double> v = pending.computeIfAbsent(new Series(meter, List.of(tags)), s -> new ArrayList<>(1));
            v.clear();
            v.add(value);
        }
    }

    /**
     * Loads the library and its JSON serializer by serializing a line that is thrown away: run off the
     * request path (a thread started after init), so the first flush does not pay for it.
     */
    public static void prepare() {
        try {
            software.amazon.cloudwatchlogs.emf.model.MetricsContext context =
                    new software.amazon.cloudwatchlogs.emf.model.MetricsContext();
            context.setNamespace(NAMESPACE);
            context.setDimensions(new DimensionSet());
            context.putMetric(Meter.HTTP_REQUESTS.key(), 0, Unit.SECONDS);
            context.serialize();
        } catch (com.fasterxml.jackson.core.JsonProcessingException | RuntimeException e) {
            // only a warm-up: the first flush reports what is wrong
        }
    }

    /**
     * Writes what was measured since the last flush, one EMF line per set of dimensions, and forgets
     * it. A failure to write is reported on standard error and does not fail the invocation.
     *
     * @param requestId the invocation's request id, written with every line (null: none)
     */
    public void flush(String requestId) {
        Map<Series, List<Double>> taken;
        synchronized (this) {
            if (pending.isEmpty()) {
                return;
            }
            taken = new LinkedHashMap<>(pending);
            pending.clear();
        }
        Map<Map<String, String>, List<Map.Entry<Series, List<Double>>>> byDimensions = new LinkedHashMap<>();
        for (Map.Entry<Series, List<Double>> e : taken.entrySet()) {
            byDimensions.computeIfAbsent(dimensions(e.getKey()), d -> new ArrayList<>()).add(e);
        }
        try {
            Environment env = environment.get();
            for (Map.Entry<Map<String, String>, List<Map.Entry<Series, List<Double>>>> group : byDimensions.entrySet()) {
                // EMF takes at most 100 values of a metric per line: more go on further lines.
                for (int chunk = 0; ; chunk++) {
                    MetricsLogger line = new MetricsLogger(env);
                    line.setNamespace(NAMESPACE);
                    DimensionSet dims = new DimensionSet();
                    for (Map.Entry<String, String> d : group.getKey().entrySet()) {
                        dims.addDimension(d.getKey(), d.getValue());
                    }
                    line.setDimensions(dims);
                    boolean more = false;
                    boolean any = false;
                    for (Map.Entry<Series, List<Double>> s : group.getValue()) {
                        List<Double> values = s.getValue();
                        int from = chunk * MAX_VALUES;
                        for (int i = from; i < Math.min(values.size(), from + MAX_VALUES); i++) {
                            line.putMetric(s.getKey().meter().key(), values.get(i), unit(s.getKey().meter()));
                            any = true;
                        }
                        more |= values.size() > from + MAX_VALUES;
                    }
                    if (any) {
                        if (requestId != null) {
                            line.putProperty("requestId", requestId);
                        }
                        line.flush();
                    }
                    if (!more) {
                        break;
                    }
                }
            }
        } catch (RuntimeException e) {
            // The library's own exceptions are unchecked (invalid names, too many dimensions); metrics
            // must never fail the request they describe, so the line says what was lost.
            System.err.println("{\"level\":\"WARN\",\"message\":\"metrics not written: "
                    + e.getClass().getSimpleName() + "\"}");
        }
    }

    private static Map<String, String> dimensions(Series s) {
        Map<String, String> d = new LinkedHashMap<>();
        for (int i = 0; i < s.tags().size(); i++) {
            d.put(s.meter().tags().get(i), s.tags().get(i));
        }
        return d;
    }

    private static Unit unit(Meter meter) {
        return switch (meter.unit()) {
            case BYTES -> Unit.BYTES;
            case SECONDS -> Unit.SECONDS;
            case NONE -> Unit.COUNT;
        };
    }
}
