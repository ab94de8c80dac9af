package io.edgetunnel.ingress.admin;

import io.edgetunnel.ingress.registry.AgentRegistry;
import io.edgetunnel.ingress.registry.Tunnel;
import io.edgetunnel.protocol.RouteClaim;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.stereotype.Component;

/**
 * {@code /actuator/tunnels} on the management port: connected agents, their tunnels and routes.
 * Carries no credential: the token is never kept past the handshake.
 */
@Component
@Endpoint(id = "tunnels")
public final class TunnelsEndpoint {

    private final AgentRegistry registry;

    public TunnelsEndpoint(AgentRegistry registry) {
        this.registry = registry;
    }

    @ReadOperation
    public Listing tunnels() {
        List<AgentView> agents = new ArrayList<>();
        registry.byAgent().forEach((agentId, tunnels) -> {
            List<TunnelView> views = new ArrayList<>();
            for (Tunnel tunnel : tunnels) {
                Set<RouteClaim> unhealthy = tunnel.unhealthyRoutes();
                List<RouteView> routes = new ArrayList<>();
                for (RouteClaim route : tunnel.routes()) {
                    routes.add(new RouteView(route.host(), route.pathPrefix(), !unhealthy.contains(route)));
                }
                views.add(new TunnelView(
                        tunnel.sessionId(),
                        tunnel.identity(),
                        tunnel.verifiedBy(),
                        tunnel.selfCheck(),
                        tunnel.remoteAddress(),
                        tunnel.connectedSince().toString(),
                        tunnel.isDraining(),
                        tunnel.activeStreams(),
                        routes));
            }
            agents.add(new AgentView(agentId, views));
        });
        return new Listing(registry.agentCount(), registry.tunnelCount(), registry.routeCount(), agents);
    }

    public record Listing(int agentCount, int tunnelCount, int routeCount, List<AgentView> agents) {}

    public record AgentView(String agentId, List<TunnelView> tunnels) {}

    /**
     * @param identity the verified identity ({@code token:NAME} or role ARN)
     * @param verifiedBy {@code token}, {@code iam} or {@code token-and-iam}
     * @param selfCheck the agent's own ECS Anywhere self-check: {@code true}, {@code false}
     *     (unverified: mode warn or off), or empty when the agent did not report it
     */
    public record TunnelView(
            String sessionId,
            String identity,
            String verifiedBy,
            String selfCheck,
            String remoteAddress,
            String connectedSince,
            boolean draining,
            int activeStreams,
            List<RouteView> routes) {}

    public record RouteView(String host, String pathPrefix, boolean healthy) {}
}
