package io.imagemirror.metrics;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Keeps every measurement in memory, by meter and tag values, for tests. Thread-safe. */
public final class RecordingMetrics implements Metrics {

    private final Map<List<String>, Double> totals = new ConcurrentHashMap<>();
    private final Map<List<String>, Integer> observations = new ConcurrentHashMap<>();

    private static List<String> key(Meter meter, String... tags) {
        List<String> k = new ArrayList<>(List.of(tags));
        k.add(0, meter.key());
        return k;
    }

    @Override
    public void add(Meter meter, double amount, String... tags) {
        meter.check(tags);
        totals.merge(key(meter, tags), amount, Double::sum);
    }

    @Override
    public void observe(Meter meter, double seconds, String... tags) {
        meter.check(tags);
        observations.merge(key(meter, tags), 1, Integer::sum);
    }

    @Override
    public void set(Meter meter, double value, String... tags) {
        meter.check(tags);
        totals.put(key(meter, tags), value);
    }

    /** A counter's total or a gauge's value; 0 when never touched. */
    public double value(Meter meter, String... tags) {
        return totals.getOrDefault(key(meter, tags), 0.0);
    }

    /** How many values a timer got. */
    public int observations(Meter meter, String... tags) {
        return observations.getOrDefault(key(meter, tags), 0);
    }
}
