package io.edgetunnel.ingress.console;

import java.util.List;

/**
 * What the operator console shows, as {@code /actuator/console} returns it: typed (booleans are
 * booleans, absent measurements are null), read-only, and without secrets (no token, proof or
 * header is ever kept past a handshake or a request). Times are ISO-8601 instants.
 *
 * @param generatedAt when this view was taken
 */
public record ConsoleView(String generatedAt, ReplicaView replica, List<AgentView> agents, List<RouteView> routes,
        List<RejectionView> rejectedHellos) {

    public ConsoleView {
        agents = List.copyOf(agents);
        routes = List.copyOf(routes);
        rejectedHellos = List.copyOf(rejectedHellos);
    }

    /**
     * @param draining this replica refuses new traffic (readiness DOWN: deregistered or shutting down)
     * @param clusterEnabled one replica of a cluster ({@code ingress.cluster.redis-url}) rather than alone
     * @param peers the other replicas this one knows, with the routes each holds agents for
     */
    public record ReplicaView(String replicaId, boolean draining, boolean clusterEnabled, int replicaCount,
            List<PeerView> peers) {
        public ReplicaView {
            peers = List.copyOf(peers);
        }
    }

    public record PeerView(String replicaId, String address, List<String> routes) {
        public PeerView {
            routes = List.copyOf(routes);
        }
    }

    /**
     * One agent id with its tunnels to this replica.
     *
     * @param identity the verified identity ({@code token:NAME} or role ARN)
     * @param selfCheck the agent's own ECS Anywhere self-check; null when it did not report one
     * @param version the agent software's version as reported, empty when not
     * @param connectedSince its oldest tunnel's registration
     * @param roundTripMillis the least last heartbeat round trip over its tunnels; null before one
     */
    public record AgentView(String agentId, String identity, String verifiedBy, Boolean selfCheck, String version,
            int protocolVersion, String replicaId, int tunnels, int drainingTunnels, int activeStreams,
            String connectedSince, Double roundTripMillis, List<String> routes) {
        public AgentView {
            routes = List.copyOf(routes);
        }
    }

    /**
     * One claimed route (host and path prefix) as seen from this replica.
     *
     * @param health {@code healthy} (every tunnel takes it), {@code degraded} (some do), {@code
     *     unhealthy} (none do: local app failing or agents draining), {@code elsewhere} (only another
     *     replica holds agents for it) or {@code no-agent} (its agents left; requests get 503)
     * @param requestsPerSecond over the last {@code windowSeconds}; null until two samples exist
     * @param errorRatio 5xx answers over all answers in the window; null as above
     * @param p99Millis histogram bucket bound of the window's 99th percentile; null without requests
     */
    public record RouteView(String route, String host, String pathPrefix, String health, List<String> agents,
            List<String> replicas, Double requestsPerSecond, Double errorRatio, Double p99Millis,
            Long windowSeconds) {
        public RouteView {
            agents = List.copyOf(agents);
            replicas = List.copyOf(replicas);
        }
    }

    /** A refused hello: the agent id as claimed (unverified), where from, and why. */
    public record RejectionView(String at, String agentId, String remoteAddress, String reason, String message) {}
}
