package io.edgetunnel.ingress.admin;

import io.edgetunnel.ingress.cluster.RemoteReplica;
import io.edgetunnel.ingress.cluster.RemoteRoutes;
import io.edgetunnel.ingress.cluster.ReplicaInfo;
import io.edgetunnel.ingress.registry.AgentRegistry;
import io.edgetunnel.ingress.registry.Tunnel;
import io.edgetunnel.ingress.tcp.TcpServers;
import io.edgetunnel.protocol.RouteClaim;
import io.edgetunnel.protocol.TcpRoutes;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.stereotype.Component;

/**
 * {@code /actuator/tunnels} on the management port: connected agents, their tunnels and routes, and
 * the TCP listeners of TCP routes.
 * Carries no credential: the token is never kept past the handshake.
 */
@Component
@Endpoint(id = "tunnels")
public final class TunnelsEndpoint {

    private final AgentRegistry registry;
    private final ReplicaInfo replica;
    private final ObjectProvider<RemoteRoutes> remote;
    private final ObjectProvider<TcpServers> tcp;

    public TunnelsEndpoint(AgentRegistry registry, ReplicaInfo replica, ObjectProvider<RemoteRoutes> remote,
            ObjectProvider<TcpServers> tcp) {
        this.registry = registry;
        this.replica = replica;
        this.remote = remote;
        this.tcp = tcp;
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
                        tunnel.selfCheck().isEmpty() ? null : Boolean.valueOf(tunnel.selfCheck()),
                        tunnel.remoteAddress(),
                        tunnel.connectedSince().toString(),
                        tunnel.isDraining(),
                        tunnel.activeStreams(),
                        routes));
            }
            agents.add(new AgentView(agentId, views));
        });
        return new Listing(registry.agentCount(), registry.tunnelCount(), registry.routeCount(), agents, cluster(),
                tcpRoutes());
    }

    /** The TCP listeners, each with how many tunnels claim its route and how many of them are healthy. */
    private List<TcpRouteView> tcpRoutes() {
        TcpServers servers = tcp.getIfAvailable();
        List<TcpRouteView> views = new ArrayList<>();
        if (servers == null) {
            return views;
        }
        servers.ports().forEach((name, port) -> {
            RouteClaim claim = TcpRoutes.claim(name);
            int claimed = 0;
            int healthy = 0;
            for (Tunnel tunnel : registry.tunnels()) {
                if (tunnel.routes().contains(claim)) {
                    claimed++;
                    healthy += tunnel.unhealthyRoutes().contains(claim) ? 0 : 1;
                }
            }
            views.add(new TcpRouteView(name, claim.host(), port, claimed, healthy));
        });
        return views;
    }

    private ClusterView cluster() {
        RemoteRoutes routes = remote.getIfAvailable();
        List<ReplicaView> others = new ArrayList<>();
        if (routes != null) {
            for (RemoteReplica other : routes.replicas()) {
                List<String> held = new ArrayList<>();
                other.routes().forEach(route -> held.add(route.toString()));
                others.add(new ReplicaView(other.id(), other.remoteAddress(), held));
            }
        }
        return new ClusterView(routes != null, replica.replicaId(), replica.replicaCount(), others);
    }

    /** @param cluster this replica and the others it knows, with the routes each holds agents for */
    /** @param tcpRoutes the TCP listeners of TCP routes (docs/tcp.md) */
    public record Listing(int agentCount, int tunnelCount, int routeCount, List<AgentView> agents, ClusterView cluster,
            List<TcpRouteView> tcpRoutes) {}

    /**
     * @param claim the route as agents claim it ({@code name._tcp})
     * @param tunnels tunnels claiming it; {@code healthyTunnels} of them have its target healthy
     */
    public record TcpRouteView(String name, String claim, int port, int tunnels, int healthyTunnels) {}

    /**
     * @param enabled whether this ingress is one replica of a cluster ({@code ingress.cluster.redis-url})
     * @param replicaCount replicas in this replica's view, itself included
     * @param others the other replicas: id, cluster address, and the routes each holds healthy agents for
     */
    public record ClusterView(boolean enabled, String replicaId, int replicaCount, List<ReplicaView> others) {}

    public record ReplicaView(String replicaId, String address, List<String> routes) {}

    public record AgentView(String agentId, List<TunnelView> tunnels) {}

    /**
     * @param identity the verified identity ({@code token:NAME} or role ARN)
     * @param verifiedBy {@code token}, {@code iam} or {@code token-and-iam}
     * @param selfCheck the agent's own ECS Anywhere self-check: {@code true}, {@code false}
     *     (unverified: mode warn or off), or null when the agent did not report it
     */
    public record TunnelView(
            String sessionId,
            String identity,
            String verifiedBy,
            Boolean selfCheck,
            String remoteAddress,
            String connectedSince,
            boolean draining,
            int activeStreams,
            List<RouteView> routes) {}

    public record RouteView(String host, String pathPrefix, boolean healthy) {}
}
