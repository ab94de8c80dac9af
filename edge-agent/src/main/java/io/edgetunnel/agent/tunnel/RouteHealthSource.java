package io.edgetunnel.agent.tunnel;

import io.edgetunnel.agent.config.Route;

/**
 * The local health of routes as the tunnels report it to the ingress (ROUTE_HEALTH frames) and act
 * on it: a request for an unhealthy route is refused, so the ingress retries it on another agent.
 */
@FunctionalInterface
public interface RouteHealthSource {

    /** Every route healthy: no health checks. */
    RouteHealthSource ALWAYS_HEALTHY = route -> true;

    boolean isHealthy(Route route);
}
