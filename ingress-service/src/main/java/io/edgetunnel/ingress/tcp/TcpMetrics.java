package io.edgetunnel.ingress.tcp;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Metrics of TCP routes, tagged by route name (bounded: the configured listeners): connections by
 * outcome, bytes each way, connection duration, open connections.
 */
final class TcpMetrics {

    private final MeterRegistry registry;
    private final AtomicInteger open = new AtomicInteger();

    TcpMetrics(MeterRegistry registry) {
        this.registry = registry;
        Gauge.builder("tunnel.ingress.tcp.connections.active", open, AtomicInteger::get)
                .description("Open public TCP connections, all routes")
                .register(registry);
    }

    void opened() {
        open.incrementAndGet();
    }

    /** One connection ended: its outcome, bytes from and to the client, and how long it lived. */
    void closed(String route, String outcome, long fromClient, long toClient, long nanos) {
        open.decrementAndGet();
        Counter.builder("tunnel.ingress.tcp.connections")
                .description("Public TCP connections by route and outcome")
                .tag("route", route)
                .tag("outcome", outcome)
                .register(registry)
                .increment();
        bytes(route, "in", fromClient);
        bytes(route, "out", toClient);
        Timer.builder("tunnel.ingress.tcp.duration")
                .description("How long public TCP connections lived")
                .tag("route", route)
                .register(registry)
                .record(nanos, TimeUnit.NANOSECONDS);
    }

    private void bytes(String route, String direction, long bytes) {
        Counter.builder("tunnel.ingress.tcp.bytes")
                .description("Bytes of TCP routes: in from public clients, out to them")
                .baseUnit("bytes")
                .tag("route", route)
                .tag("direction", direction)
                .register(registry)
                .increment(bytes);
    }
}
