package io.imagemirror.local.metrics;

import io.imagemirror.api.ApiHandler;
import io.imagemirror.api.ApiResponse;
import io.imagemirror.metrics.Meter;
import io.imagemirror.metrics.Metrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code serve}'s metrics: the {@link Metrics} port over Micrometer's Prometheus registry, scraped
 * at {@code GET /metrics} in the Prometheus text format. Names are {@code imagemirror_} plus the
 * meter's key with dots as underscores, and Prometheus' suffixes ({@code _total}, {@code _bytes},
 * {@code _seconds}); timers are histograms with fixed buckets from 5 ms to 15 min. Thread-safe.
 */
public final class PrometheusMetrics implements Metrics {

    /** The scrape path. */
    public static final String PATH = "/metrics";
    private static final String PREFIX = "imagemirror.";
    private static final Duration[] BUCKETS = {
        Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50),
        Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1),
        Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30),
        Duration.ofSeconds(60), Duration.ofMinutes(5), Duration.ofMinutes(15)};

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    /** Gauges read their value from here (Micrometer samples a gauge's object when scraped). */
    private final Map<List<String>, GaugeValue> gauges = new ConcurrentHashMap<>();

    private static final class GaugeValue {
        volatile double value;
    }

    @Override
    public void add(Meter meter, double amount, String... tags) {
        meter.check(tags);
        Counter.builder(PREFIX + meter.key()).description(meter.description()).baseUnit(unit(meter))
                .tags(tags(meter, tags)).register(registry).increment(amount);
    }

    @Override
    public void observe(Meter meter, double seconds, String... tags) {
        meter.check(tags);
        Timer.builder(PREFIX + meter.key()).description(meter.description()).tags(tags(meter, tags))
                .serviceLevelObjectives(BUCKETS).register(registry)
                .record(Duration.ofNanos((long) (Math.max(0, seconds) * 1e9)));
    }

    @Override
    public void set(Meter meter, double value, String... tags) {
        meter.check(tags);
        List<String> key = new java.util.ArrayList<>(List.of(tags));
        key.add(0, meter.key());
        gauges.computeIfAbsent(key, k -> {
            GaugeValue holder = new GaugeValue();
            Gauge.builder(PREFIX + meter.key(), holder, h -> h.value).description(meter.description())
                    .tags(tags(meter, tags)).strongReference(true).register(registry);
            return holder;
        }).value = value;
    }

    /** Everything measured so far, in the Prometheus text format (version 0.0.4). */
    public String scrape() {
        return registry.scrape();
    }

    /**
     * {@code handler} with {@code GET /metrics} answered by this registry in front of it (the
     * scrape itself is not counted as a request).
     */
    public ApiHandler serving(ApiHandler handler) {
        return request -> {
            if (!request.path().equals(PATH)) {
                return handler.handle(request);
            }
            if (!request.isRead()) {
                return ApiResponse.json(405, "{\"errors\":[{\"code\":\"UNSUPPORTED\",\"message\":\"GET only\"}]}")
                        .header("Allow", "GET, HEAD");
            }
            return ApiResponse.bytes(200, "text/plain; version=0.0.4; charset=utf-8",
                    scrape().getBytes(StandardCharsets.UTF_8)).header("Cache-Control", "no-store");
        };
    }

    private static String unit(Meter meter) {
        return meter.unit() == Meter.Unit.BYTES ? "bytes" : null;
    }

    private static Tags tags(Meter meter, String[] values) {
        String[] kv = new String[values.length * 2];
        for (int i = 0; i < values.length; i++) {
            kv[2 * i] = meter.tags().get(i);
            kv[2 * i + 1] = values[i];
        }
        return Tags.of(kv);
    }
}
