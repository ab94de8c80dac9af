package io.edgetunnel.agent.console;

import io.edgetunnel.agent.config.AgentProperties;
import io.edgetunnel.agent.config.Route;
import io.edgetunnel.agent.health.LocalHealthChecker;
import io.edgetunnel.agent.tunnel.TunnelClient;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.stereotype.Component;

/**
 * {@code /actuator/agent}: what the agent's small status page ({@code /}) shows. No secrets: no
 * token, none of the header values a route adds for its local app, and URLs without user info.
 */
@Component
@Endpoint(id = "agent")
public final class AgentConsoleEndpoint {

    private final AgentProperties properties;
    private final TunnelClient tunnels;
    private final LocalHealthChecker health;

    public AgentConsoleEndpoint(AgentProperties properties, TunnelClient tunnels, LocalHealthChecker health) {
        this.properties = properties;
        this.tunnels = tunnels;
        this.health = health;
    }

    /**
     * @param ingress the ingress URI dialled, without user info
     * @param tunnelsWanted {@code agent.tunnel-count}
     * @param tunnels registered tunnels by name, with the ingress replica each reached ("" if unnamed)
     */
    public record AgentView(String agentId, String ingress, int tunnelsWanted, int tunnelsRegistered,
            Map<String, String> tunnels, int activeStreams, List<RouteView> routes) {
        public AgentView {
            tunnels = Map.copyOf(tunnels);
            routes = List.copyOf(routes);
        }
    }

    /**
     * @param healthCheck the local health check's path, empty when the route has none (then always healthy)
     * @param healthy the local health as last checked (and as the ingress was told)
     */
    public record RouteView(String route, String localUrl, String healthCheck, boolean healthy) {}

    @ReadOperation
    public AgentView agent() {
        List<RouteView> routes = new ArrayList<>();
        for (Route route : properties.allRoutes()) {
            routes.add(new RouteView(route.claim().toString(), withoutUserInfo(route.localUrl()),
                    route.healthCheck().path(), health.isHealthy(route)));
        }
        return new AgentView(properties.id(), withoutUserInfo(properties.ingressUri()), properties.tunnelCount(),
                tunnels.connectedTunnels(), tunnels.tunnelReplicas(), tunnels.activeStreams(), routes);
    }

    private static String withoutUserInfo(URI uri) {
        if (uri == null) {
            return "";
        }
        String port = uri.getPort() < 0 ? "" : ":" + uri.getPort();
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        return uri.getScheme() + "://" + uri.getHost() + port + path;
    }
}
