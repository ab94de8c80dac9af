package io.edgetunnel.agent.tunnel;

import io.edgetunnel.protocol.RejectReason;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

/** The agent's tunnel meters; one instance per {@link TunnelClient}. */
final class TunnelMetrics {

    private final MeterRegistry registry;
    private final Counter reconnects;
    private final Counter spreadRedials;
    private final AtomicInteger activeStreams = new AtomicInteger();
    private final LongAdder bufferedBytes = new LongAdder();

    TunnelMetrics(
            MeterRegistry registry, IntSupplier connectedTunnels, LongSupplier queuedBytes, IntSupplier replicas) {
        this.registry = registry;
        // The suppliers are method references held by nothing else: a weak gauge would read NaN after a GC.
        Gauge.builder("tunnel.agent.tunnels.connected", connectedTunnels, s -> s.getAsInt())
                .description("Tunnels registered with the ingress (accepted, not draining)")
                .strongReference(true)
                .register(registry);
        Gauge.builder("tunnel.agent.streams.active", activeStreams, AtomicInteger::get)
                .description("Streams being proxied to local apps")
                .register(registry);
        Gauge.builder("tunnel.agent.buffered.bytes", bufferedBytes, LongAdder::sum)
                .description("Request body bytes received from the ingress and not yet taken by a local app")
                .baseUnit("bytes")
                .register(registry);
        Gauge.builder("tunnel.agent.outbound.queued.bytes", queuedBytes, s -> s.getAsLong())
                .description("Encoded frames waiting to be written to the tunnels")
                .baseUnit("bytes")
                .strongReference(true)
                .register(registry);
        Gauge.builder("tunnel.agent.replicas", replicas, s -> s.getAsInt())
                .description("Distinct ingress replicas the agent's tunnels reached, as the Accepts named them")
                .strongReference(true)
                .register(registry);
        spreadRedials = Counter.builder("tunnel.agent.spread.redials")
                .description("Replacement tunnels dialled because a tunnel shared an ingress replica with another")
                .register(registry);
        reconnects = Counter.builder("tunnel.agent.reconnects")
                .description("Tunnel connection attempts after the first one")
                .register(registry);
    }

    void reconnect() {
        reconnects.increment();
    }

    void spreadRedial() {
        spreadRedials.increment();
    }

    void rejected(RejectReason reason) {
        Counter.builder("tunnel.agent.registrations.rejected")
                .description("Hellos the ingress rejected, by reason")
                .tag("reason", reason.name())
                .register(registry)
                .increment();
    }

    void streamOpened() {
        activeStreams.incrementAndGet();
    }

    void streamClosed() {
        activeStreams.decrementAndGet();
    }

    int activeStreams() {
        return activeStreams.get();
    }

    LongAdder bufferedBytes() {
        return bufferedBytes;
    }
}
