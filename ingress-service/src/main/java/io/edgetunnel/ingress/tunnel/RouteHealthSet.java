package io.edgetunnel.ingress.tunnel;

import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.RouteClaim;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The routes of one tunnel its agent reported unhealthy (protocol section 11); read from any thread. */
final class RouteHealthSet {

    private static final Logger log = LoggerFactory.getLogger(TunnelSession.class);

    private final Set<RouteClaim> unhealthy = ConcurrentHashMap.newKeySet();

    /** A ROUTE_HEALTH frame; health of a route the agent did not claim is ignored. */
    void update(Frame.RouteHealth health, List<RouteClaim> claimed, TunnelSession tunnel) {
        if (!claimed.contains(health.route())) {
            log.debug("Tunnel {}: health for unclaimed route {} ignored", tunnel.sessionId(), health.route());
            return;
        }
        boolean changed = health.healthy() ? unhealthy.remove(health.route()) : unhealthy.add(health.route());
        if (changed) {
            log.info("Tunnel {} (agent '{}'): route {} is now {}", tunnel.sessionId(), tunnel.agentId(),
                    health.route(), health.healthy() ? "healthy" : "unhealthy");
        }
    }

    boolean healthy(RouteClaim route) {
        return unhealthy.isEmpty() || !unhealthy.contains(route);
    }

    Set<RouteClaim> unhealthy() {
        return new HashSet<>(unhealthy);
    }
}
