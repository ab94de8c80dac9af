package io.edgetunnel.ingress.console;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Per-route request rate, error rate and p99 over the last half minute, read from the request timer
 * the proxy already records ({@code tunnel.ingress.requests}, cumulative counts and a percentile
 * histogram): each read takes a sample of the cumulative figures and compares it with the oldest
 * sample still in the window, so no Prometheus is needed to see them, and nothing is added to the
 * request path.
 */
final class RouteStats {

    static final String TIMER = "tunnel.ingress.requests";
    /** Samples closer than this to the newest one are not kept: a console polls every few seconds. */
    private static final long MIN_SPACING_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long WINDOW_NANOS = TimeUnit.SECONDS.toNanos(30);

    /**
     * @param requestsPerSecond over the window
     * @param errorRatio answers of status 5xx (the ingress's own 502/503/504 included) over all answers
     * @param p99Millis the upper bound of the histogram bucket holding the 99th percentile; null when
     *     no request finished in the window
     */
    record Figures(double requestsPerSecond, double errorRatio, Double p99Millis, long windowSeconds) {}

    /** Cumulative figures of one route at one instant. */
    private record Totals(long count, long errors, TreeMap<Double, Double> buckets) {}

    private record Sample(long atNanos, Map<String, Totals> byRoute) {}

    private final MeterRegistry registry;
    private final LongSupplier nanoClock;
    private final Deque<Sample> samples = new ArrayDeque<>();

    RouteStats(MeterRegistry registry, LongSupplier nanoClock) {
        this.registry = registry;
        this.nanoClock = nanoClock;
    }

    /** Figures per route tag value; a route without a sample old enough yet is missing. */
    synchronized Map<String, Figures> current() {
        long now = nanoClock.getAsLong();
        Sample newest = new Sample(now, read());
        while (samples.size() > 1 && now - samples.peekFirst().atNanos() > WINDOW_NANOS) {
            samples.removeFirst();
        }
        Sample oldest = samples.peekFirst();
        Sample last = samples.peekLast();
        if (last == null || now - last.atNanos() >= MIN_SPACING_NANOS) {
            samples.addLast(newest);
        }
        Map<String, Figures> figures = new HashMap<>();
        if (oldest == null || now - oldest.atNanos() <= 0) {
            return figures;
        }
        double seconds = (now - oldest.atNanos()) / 1e9;
        newest.byRoute().forEach((route, totals) -> {
            Totals before = oldest.byRoute().getOrDefault(route, new Totals(0, 0, new TreeMap<>()));
            long requests = totals.count() - before.count();
            long errors = totals.errors() - before.errors();
            figures.put(route, new Figures(requests / seconds, requests == 0 ? 0 : (double) errors / requests,
                    p99(totals.buckets(), before.buckets(), requests), Math.round(seconds)));
        });
        return figures;
    }

    private Map<String, Totals> read() {
        Map<String, Totals> byRoute = new HashMap<>();
        for (Timer timer : registry.find(TIMER).timers()) {
            String route = timer.getId().getTag("route");
            if (route == null) {
                continue;
            }
            long count = timer.count();
            boolean error = "5xx".equals(timer.getId().getTag("status_class"));
            TreeMap<Double, Double> buckets = new TreeMap<>();
            for (CountAtBucket bucket : timer.takeSnapshot().histogramCounts()) {
                buckets.put(bucket.bucket(TimeUnit.MILLISECONDS), bucket.count());
            }
            byRoute.merge(route, new Totals(count, error ? count : 0, buckets), RouteStats::sum);
        }
        return byRoute;
    }

    private static Totals sum(Totals a, Totals b) {
        TreeMap<Double, Double> buckets = new TreeMap<>(a.buckets());
        b.buckets().forEach((bound, count) -> buckets.merge(bound, count, Double::sum));
        return new Totals(a.count() + b.count(), a.errors() + b.errors(), buckets);
    }

    /** The smallest bucket bound below which 99% of the window's requests fall (cumulative buckets). */
    private static Double p99(TreeMap<Double, Double> now, TreeMap<Double, Double> before, long requests) {
        if (requests <= 0) {
            return null;
        }
        double wanted = requests * 0.99;
        for (Map.Entry<Double, Double> bucket : now.entrySet()) {
            double inWindow = bucket.getValue() - before.getOrDefault(bucket.getKey(), 0.0);
            if (inWindow >= wanted) {
                return bucket.getKey();
            }
        }
        return null; // beyond the last bucket
    }
}
