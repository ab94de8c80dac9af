package io.edgetunnel.ingress.cluster;

import io.edgetunnel.ingress.registry.Tunnel;
import io.edgetunnel.protocol.RouteClaim;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Another replica, as a holder of routes: the route table and its round-robin treat it like a tunnel
 * whose "agent" is the replica, so requests spread over the holders of a route the same way they
 * spread over agents.
 */
public final class RemoteReplica implements Tunnel {

    private final String id;
    private final String address;
    private final int port;
    private final Instant firstSeen = Instant.now();
    private volatile List<RouteClaim> routes;

    RemoteReplica(String id, String address, int port, List<RouteClaim> routes) {
        this.id = Objects.requireNonNull(id, "id");
        this.address = Objects.requireNonNull(address, "address");
        this.port = port;
        this.routes = List.copyOf(routes);
    }

    public String id() {
        return id;
    }

    public String address() {
        return address;
    }

    public int port() {
        return port;
    }

    /** {@code http://address:port}, IPv6 literals bracketed. */
    public String baseUri() {
        return "http://" + (address.indexOf(':') >= 0 ? "[" + address + "]" : address) + ":" + port;
    }

    void routes(List<RouteClaim> routes) {
        this.routes = List.copyOf(routes);
    }

    boolean sameEndpoint(ReplicaEntry entry) {
        return address.equals(entry.address()) && port == entry.port();
    }

    @Override
    public String agentId() {
        return id;
    }

    @Override
    public String sessionId() {
        return id;
    }

    @Override
    public List<RouteClaim> routes() {
        return routes;
    }

    @Override
    public boolean canAccept(RouteClaim route) {
        return true;
    }

    @Override
    public boolean isOpen() {
        return true;
    }

    @Override
    public boolean isDraining() {
        return false;
    }

    @Override
    public Set<RouteClaim> unhealthyRoutes() {
        return Set.of();
    }

    @Override
    public int activeStreams() {
        return 0;
    }

    @Override
    public String remoteAddress() {
        return address + ":" + port;
    }

    @Override
    public Instant connectedSince() {
        return firstSeen;
    }

    @Override
    public String toString() {
        return "replica " + id + " at " + remoteAddress();
    }
}
