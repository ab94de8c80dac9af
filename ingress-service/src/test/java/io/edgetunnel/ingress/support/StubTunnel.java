package io.edgetunnel.ingress.support;

import io.edgetunnel.ingress.registry.Tunnel;
import io.edgetunnel.protocol.RouteClaim;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** A registry-level tunnel with switchable state, for routing unit tests. */
public final class StubTunnel implements Tunnel {

    private static int counter;

    private final String agentId;
    private final String sessionId;
    private final List<RouteClaim> routes;
    public volatile boolean open = true;
    public volatile boolean draining;
    public volatile boolean full;
    /** Pretends the caller runs on this tunnel's event loop. */
    public volatile boolean onCallersLoop;
    public final Set<RouteClaim> unhealthy = new HashSet<>();

    public StubTunnel(String agentId, String... hosts) {
        this.agentId = agentId;
        this.sessionId = agentId + "#" + (++counter);
        this.routes = Arrays.stream(hosts).map(StubTunnel::claim).toList();
    }

    private static RouteClaim claim(String spec) {
        int slash = spec.indexOf('/');
        return slash < 0 ? RouteClaim.host(spec) : new RouteClaim(spec.substring(0, slash), spec.substring(slash));
    }

    @Override
    public String agentId() {
        return agentId;
    }

    @Override
    public String sessionId() {
        return sessionId;
    }

    @Override
    public List<RouteClaim> routes() {
        return routes;
    }

    @Override
    public boolean canAccept(RouteClaim route) {
        return open && !draining && !full && !unhealthy.contains(route);
    }

    @Override
    public boolean onCurrentEventLoop() {
        return onCallersLoop;
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public boolean isDraining() {
        return draining;
    }

    @Override
    public Set<RouteClaim> unhealthyRoutes() {
        return Set.copyOf(unhealthy);
    }

    @Override
    public int activeStreams() {
        return 0;
    }

    @Override
    public String remoteAddress() {
        return "127.0.0.1:1";
    }

    @Override
    public Instant connectedSince() {
        return Instant.EPOCH;
    }

    @Override
    public String toString() {
        return sessionId;
    }
}
