package io.edgetunnel.ingress.console;

import io.edgetunnel.ingress.cluster.RemoteReplica;
import io.edgetunnel.ingress.cluster.RemoteRoutes;
import io.edgetunnel.ingress.cluster.ReplicaInfo;
import io.edgetunnel.ingress.console.ConsoleView.AgentView;
import io.edgetunnel.ingress.console.ConsoleView.PeerView;
import io.edgetunnel.ingress.console.ConsoleView.RejectionView;
import io.edgetunnel.ingress.console.ConsoleView.ReplicaView;
import io.edgetunnel.ingress.console.ConsoleView.RouteView;
import io.edgetunnel.ingress.metrics.IngressMetrics;
import io.edgetunnel.ingress.metrics.RejectedHellos;
import io.edgetunnel.ingress.registry.AgentRegistry;
import io.edgetunnel.ingress.registry.Tunnel;
import io.edgetunnel.protocol.RouteClaim;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.availability.ApplicationAvailability;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.stereotype.Component;

/**
 * {@code /actuator/console} on the management port: the one small JSON document the operator
 * console ({@code /}) polls. Built from the registry, the cluster view, the readiness state and the
 * request metrics; a read costs a walk over the registered tunnels and the request timers, nothing
 * on the request path.
 */
@Component
@Endpoint(id = "console")
public final class ConsoleEndpoint {

    private final AgentRegistry registry;
    private final ReplicaInfo replica;
    private final ObjectProvider<RemoteRoutes> remote;
    private final ApplicationAvailability availability;
    private final RejectedHellos rejections;
    private final RouteStats stats;

    public ConsoleEndpoint(AgentRegistry registry, ReplicaInfo replica, ObjectProvider<RemoteRoutes> remote,
            ApplicationAvailability availability, IngressMetrics metrics) {
        this.registry = registry;
        this.replica = replica;
        this.remote = remote;
        this.availability = availability;
        this.rejections = metrics.rejectedHellos();
        this.stats = new RouteStats(metrics.meters(), System::nanoTime);
    }

    @ReadOperation
    public ConsoleView console() {
        Map<String, RouteStats.Figures> figures = stats.current();
        Map<String, RouteRow> routes = new TreeMap<>();
        List<AgentView> agents = new ArrayList<>();
        registry.byAgent().forEach((agentId, tunnels) -> agents.add(agent(agentId, tunnels, routes)));
        List<PeerView> peers = new ArrayList<>();
        RemoteRoutes others = remote.getIfAvailable();
        if (others != null) {
            for (RemoteReplica peer : others.replicas()) {
                List<String> held = new ArrayList<>();
                for (RouteClaim route : peer.routes()) {
                    held.add(route.toString());
                    routes.computeIfAbsent(route.toString(), k -> new RouteRow(route)).replicas.add(peer.id());
                }
                peers.add(new PeerView(peer.id(), peer.remoteAddress(), held));
            }
        }
        // routes with recent traffic but no agent any more: what their visitors now get is 503
        figures.keySet().stream()
                .filter(route -> !IngressMetrics.UNMATCHED.equals(route) && !routes.containsKey(route)
                        && figures.get(route).requestsPerSecond() > 0)
                .forEach(route -> routes.put(route, new RouteRow(null)));
        List<RouteView> routeViews = new ArrayList<>();
        routes.forEach((name, row) -> routeViews.add(row.view(name, figures.get(name))));
        boolean draining = availability.getReadinessState() == ReadinessState.REFUSING_TRAFFIC;
        ReplicaView self = new ReplicaView(replica.replicaId(), draining, others != null,
                Math.max(1, replica.replicaCount()), peers);
        List<RejectionView> rejected = new ArrayList<>();
        for (RejectedHellos.Rejection r : rejections.recent()) {
            rejected.add(new RejectionView(r.at().toString(), r.agentId(), r.remoteAddress(), r.reason().name(),
                    r.message()));
        }
        return new ConsoleView(Instant.now().toString(), self, agents, routeViews, rejected);
    }

    private AgentView agent(String agentId, List<Tunnel> tunnels, Map<String, RouteRow> routes) {
        Tunnel first = tunnels.get(0);
        Instant since = first.connectedSince();
        long roundTrip = 0;
        int draining = 0;
        int streams = 0;
        Set<String> claimed = new LinkedHashSet<>();
        for (Tunnel tunnel : tunnels) {
            since = tunnel.connectedSince().isBefore(since) ? tunnel.connectedSince() : since;
            long rtt = tunnel.roundTripMicros();
            roundTrip = rtt > 0 && (roundTrip == 0 || rtt < roundTrip) ? rtt : roundTrip;
            draining += tunnel.isDraining() ? 1 : 0;
            streams += tunnel.activeStreams();
            Set<RouteClaim> unhealthy = tunnel.unhealthyRoutes();
            for (RouteClaim route : tunnel.routes()) {
                claimed.add(route.toString());
                RouteRow row = routes.computeIfAbsent(route.toString(), k -> new RouteRow(route));
                row.agents.add(agentId);
                row.tunnels++;
                if (!tunnel.isDraining() && !unhealthy.contains(route)) {
                    row.healthyTunnels++;
                }
            }
        }
        String selfCheck = first.selfCheck();
        return new AgentView(agentId, first.identity(), first.verifiedBy(),
                selfCheck.isEmpty() ? null : Boolean.valueOf(selfCheck), first.agentVersion(), first.protocolVersion(),
                replica.replicaId(), tunnels.size(), draining, streams, since.toString(),
                roundTrip == 0 ? null : roundTrip / 1000.0, List.copyOf(claimed));
    }

    /** A route's row while the view is assembled. */
    private static final class RouteRow {
        final RouteClaim claim;
        final Set<String> agents = new LinkedHashSet<>();
        final Set<String> replicas = new LinkedHashSet<>();
        int tunnels;
        int healthyTunnels;

        RouteRow(RouteClaim claim) {
            this.claim = claim;
        }

        RouteView view(String name, RouteStats.Figures figures) {
            String health;
            if (tunnels > 0) {
                health = healthyTunnels == tunnels ? "healthy" : healthyTunnels > 0 ? "degraded" : "unhealthy";
            } else {
                health = replicas.isEmpty() ? "no-agent" : "elsewhere";
            }
            return new RouteView(name, claim == null ? null : claim.host(), claim == null ? null : claim.pathPrefix(),
                    health, List.copyOf(agents), List.copyOf(replicas),
                    figures == null ? null : figures.requestsPerSecond(),
                    figures == null ? null : figures.errorRatio(),
                    figures == null ? null : figures.p99Millis(),
                    figures == null ? null : figures.windowSeconds());
        }
    }
}
