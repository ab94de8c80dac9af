package io.edgetunnel.ingress.metrics;

import io.edgetunnel.ingress.registry.AgentRegistry;
import io.edgetunnel.protocol.RejectReason;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.springframework.stereotype.Component;

/**
 * Every ingress meter. Tags are bounded: {@code route} is a claimed route pattern or
 * {@code unmatched}, never the raw Host.
 */
@Component
public final class IngressMetrics {

    public static final String UNMATCHED = "unmatched";

    private final MeterRegistry registry;
    private final AtomicInteger activeStreams = new AtomicInteger();
    private final LongAdder bufferedBytes = new LongAdder();
    private final Counter requestBytes;
    private final Counter responseBytes;
    private final Counter servedLocally;
    private final Counter servedForwarded;
    private final RejectedHellos rejectedHellos = new RejectedHellos();
    /**
     * The request timers met so far: a builder, its tags and the registry's lookup per request cost
     * more than the timing (issue 18). As bounded as the tags (routes are claimed patterns), and the
     * registry keeps every timer anyway.
     */
    private final Map<RequestTimer, Timer> requestTimers = new ConcurrentHashMap<>();

    public IngressMetrics(MeterRegistry registry, AgentRegistry agents) {
        this.registry = registry;
        Gauge.builder("tunnel.ingress.agents.connected", agents, AgentRegistry::agentCount)
                .description("Agents with at least one registered tunnel")
                .register(registry);
        Gauge.builder("tunnel.ingress.tunnels.connected", agents, AgentRegistry::tunnelCount)
                .description("Registered agent tunnels")
                .register(registry);
        Gauge.builder("tunnel.ingress.routes", agents, AgentRegistry::routeCount)
                .description("Distinct claimed routes")
                .register(registry);
        Gauge.builder("tunnel.ingress.streams.active", activeStreams, AtomicInteger::get)
                .description("Open tunnel streams")
                .register(registry);
        Gauge.builder("tunnel.ingress.buffered.bytes", bufferedBytes, LongAdder::sum)
                .description("Response body bytes queued in the ingress, across all streams")
                .baseUnit("bytes")
                .register(registry);
        this.requestBytes = Counter.builder("tunnel.ingress.bytes")
                .tag("direction", "request")
                .baseUnit("bytes")
                .register(registry);
        this.responseBytes = Counter.builder("tunnel.ingress.bytes")
                .tag("direction", "response")
                .baseUnit("bytes")
                .register(registry);
        this.servedLocally = Counter.builder("tunnel.ingress.cluster.requests")
                .description("Public requests by where they were served: a tunnel of this replica, or another replica")
                .tag("via", "local")
                .register(registry);
        this.servedForwarded = Counter.builder("tunnel.ingress.cluster.requests")
                .description("Public requests by where they were served: a tunnel of this replica, or another replica")
                .tag("via", "forwarded")
                .register(registry);
        for (RejectReason reason : RejectReason.values()) {
            registrationCounter("rejected", reason.name());
        }
        registrationCounter("accepted", "none");
    }

    /** Shared by every stream's inbound body, so the gauge sums them. */
    public LongAdder bufferedBytes() {
        return bufferedBytes;
    }

    public AtomicInteger activeStreams() {
        return activeStreams;
    }

    public void requestBytes(long bytes) {
        requestBytes.increment(bytes);
    }

    public void responseBytes(long bytes) {
        responseBytes.increment(bytes);
    }

    public void registrationAccepted() {
        registrationCounter("accepted", "none").increment();
    }

    public void registrationRejected(RejectReason reason) {
        registrationCounter("rejected", reason.name()).increment();
    }

    /** Counts the refusal and keeps it among the {@link #rejectedHellos() recent ones}. */
    public void registrationRejected(RejectReason reason, String agentId, String remoteAddress, String message) {
        registrationRejected(reason);
        rejectedHellos.add(new RejectedHellos.Rejection(Instant.now(), agentId, remoteAddress, reason, message));
    }

    /** The last refused hellos, for the operator console. */
    public RejectedHellos rejectedHellos() {
        return rejectedHellos;
    }

    /** The meters, for the console's per-route figures. */
    public MeterRegistry meters() {
        return registry;
    }

    public double registrations(String result, String reason) {
        return registrationCounter(result, reason).count();
    }

    private Counter registrationCounter(String result, String reason) {
        return Counter.builder("tunnel.ingress.registrations")
                .description("Agent hellos by result and reject reason")
                .tag("result", result)
                .tag("reason", reason)
                .register(registry);
    }

    /** Where a public request was served; forwarded / (local + forwarded) is the forwarded fraction. */
    public void served(boolean forwarded) {
        (forwarded ? servedForwarded : servedLocally).increment();
    }

    public void request(String route, int status, String outcome, long nanos) {
        RequestTimer key = new RequestTimer(route, status / 100, outcome);
        Timer timer = requestTimers.get(key);
        if (timer == null) {
            timer = requestTimers.computeIfAbsent(key, k -> Timer.builder("tunnel.ingress.requests")
                    .description("Public requests by route, status class and outcome")
                    .tag("route", k.route())
                    .tag("status_class", k.statusClass() + "xx")
                    .tag("outcome", k.outcome())
                    .publishPercentileHistogram()
                    .register(registry));
        }
        timer.record(nanos, TimeUnit.NANOSECONDS);
    }

    /** The tags of one request timer. */
    private record RequestTimer(String route, int statusClass, String outcome) {}
}
