package io.edgetunnel.ingress.registry;

import io.edgetunnel.ingress.routing.RouteTarget;
import io.edgetunnel.protocol.RouteClaim;
import java.time.Instant;
import java.util.List;
import java.util.Set;

/** A registered agent tunnel as the registry and the balancer see it. */
public interface Tunnel extends RouteTarget {

    /** Unique per connection. */
    String sessionId();

    List<RouteClaim> routes();

    boolean isOpen();

    boolean isDraining();

    Set<RouteClaim> unhealthyRoutes();

    int activeStreams();

    String remoteAddress();

    Instant connectedSince();

    /** The verified identity policy applies to ({@code token:NAME} or a role ARN). */
    default String identity() {
        return agentId();
    }

    /** How {@link #identity()} was verified: {@code token}, {@code iam} or {@code token-and-iam}. */
    default String verifiedBy() {
        return "";
    }

    /** The agent's own ECS Anywhere self-check as it reported it: true, false, or empty if unreported. */
    default String selfCheck() {
        return "";
    }

    /** The agent software's version as its hello reported it, or empty. */
    default String agentVersion() {
        return "";
    }

    /** The tunnel protocol version negotiated in the handshake, 0 before it. */
    default int protocolVersion() {
        return 0;
    }

    /** The last heartbeat round trip in microseconds, 0 before the first was measured. */
    default long roundTripMicros() {
        return 0;
    }
}
