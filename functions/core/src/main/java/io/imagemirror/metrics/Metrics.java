package io.imagemirror.metrics;

/**
 * Where image-mirror's measurements go: the port the engine reports to, implemented by
 * {@code serve} over Micrometer's Prometheus registry and by the Lambda functions as CloudWatch
 * embedded-metric-format lines. Our own small interface, not Micrometer's, so that the core and
 * the Lambda deployment jar do not carry a metrics library they do not use there.
 *
 * <p>Calls are cheap and never throw for a backend's failure; implementations are thread-safe.
 * Tag values follow {@link Meter#tags()} in order.
 */
public interface Metrics {

    /** Measures nothing (the CLI, and every component nobody asked to measure). */
    Metrics NONE = new Metrics() {
        @Override
        public void add(Meter meter, double amount, String... tags) {
        }

        @Override
        public void observe(Meter meter, double seconds, String... tags) {
        }

        @Override
        public void set(Meter meter, double value, String... tags) {
        }
    };

    /** Adds {@code amount} to a {@link Meter.Kind#COUNTER}. */
    void add(Meter meter, double amount, String... tags);

    /** Records one duration, in seconds, in a {@link Meter.Kind#TIMER}. */
    void observe(Meter meter, double seconds, String... tags);

    /** Sets a {@link Meter.Kind#GAUGE}. */
    void set(Meter meter, double value, String... tags);

    /** Adds one to a counter. */
    default void count(Meter meter, String... tags) {
        add(meter, 1, tags);
    }

    /** Records the time since {@code startNanos} (a {@link System#nanoTime()} reading) in a timer. */
    default void since(Meter meter, long startNanos, String... tags) {
        observe(meter, (System.nanoTime() - startNanos) / 1e9, tags);
    }
}
