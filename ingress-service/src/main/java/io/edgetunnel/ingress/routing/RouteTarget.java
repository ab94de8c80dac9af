package io.edgetunnel.ingress.routing;

import io.edgetunnel.protocol.RouteClaim;

/**
 * What the balancer needs to know of a candidate for a route: whose it is, whether it can take a
 * stream now, and whether it runs on the caller's event loop. The registry's tunnels are targets;
 * routing knows nothing else of them, so it never depends on the registry.
 */
public interface RouteTarget {

    /** The agent this target belongs to: balancing is round-robin over agents first. */
    String agentId();

    /** Open, not draining, the route's local app healthy and below the stream limit. Lock-free. */
    boolean canAccept(RouteClaim route);

    /**
     * Whether this target's connection is served by the caller's event loop. A request picked onto such
     * a target is forwarded without a hand-off to another thread; the balancer prefers it among one
     * agent's targets.
     */
    default boolean onCurrentEventLoop() {
        return false;
    }
}
