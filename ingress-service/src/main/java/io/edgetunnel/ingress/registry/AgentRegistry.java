package io.edgetunnel.ingress.registry;

import io.edgetunnel.ingress.routing.RouteEntry;
import io.edgetunnel.ingress.routing.RouteTable;
import io.edgetunnel.protocol.HostNames;
import io.edgetunnel.protocol.RouteClaim;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.stereotype.Component;

/**
 * Connected agent tunnels and the routes they claim. Registration changes rebuild an immutable
 * {@link RouteTable} under a lock (copy-on-write); the request path only reads the volatile table.
 */
@Component
public final class AgentRegistry {

    /** How long a host whose agents all left answers 503 instead of 404. */
    static final Duration VACATED_ROUTE_TTL = Duration.ofMinutes(10);

    private final Object writeLock = new Object();
    private final Map<RouteClaim, Long> vacatedAtNanos = new ConcurrentHashMap<>();
    private volatile RouteTable vacated = RouteTable.EMPTY;
    private final Map<String, Tunnel> tunnels = new LinkedHashMap<>();
    private final Map<RouteClaim, AtomicInteger> cursors = new ConcurrentHashMap<>();
    private volatile RouteTable table = RouteTable.EMPTY;
    private volatile List<Tunnel> snapshot = List.of();

    public void register(Tunnel tunnel) {
        synchronized (writeLock) {
            tunnels.put(tunnel.sessionId(), tunnel);
            rebuild();
        }
    }

    /** Removes the tunnel; true when it was registered. */
    public boolean unregister(Tunnel tunnel) {
        synchronized (writeLock) {
            if (tunnels.remove(tunnel.sessionId(), tunnel)) {
                rebuild();
                return true;
            }
            return false;
        }
    }

    private void rebuild() {
        List<Tunnel> current = List.copyOf(tunnels.values());
        Set<RouteClaim> live = new HashSet<>();
        current.forEach(t -> live.addAll(t.routes()));
        long now = System.nanoTime();
        for (RouteClaim previouslyLive : cursors.keySet()) {
            if (!live.contains(previouslyLive)) {
                vacatedAtNanos.put(previouslyLive, now);
            }
        }
        vacatedAtNanos.keySet().removeAll(live);
        vacatedAtNanos.values().removeIf(at -> now - at > VACATED_ROUTE_TTL.toNanos());
        vacated = RouteTable.vacated(List.copyOf(vacatedAtNanos.keySet()));
        cursors.keySet().retainAll(live);
        table = RouteTable.build(current, route -> cursors.computeIfAbsent(route, r -> new AtomicInteger()));
        snapshot = current;
    }

    /**
     * The route serving a normalised host and raw path, or null. Lock-free. A route whose tunnels
     * all left within {@link #VACATED_ROUTE_TTL} still matches, with no tunnels (503), unless a live
     * route also matches.
     */
    public RouteEntry match(String host, String path) {
        RouteEntry live = table.match(host, path);
        if (live != null) {
            return live;
        }
        RouteEntry gone = vacated.match(host, path);
        if (gone == null) {
            return null;
        }
        Long at = vacatedAtNanos.get(gone.route());
        return at != null && System.nanoTime() - at <= VACATED_ROUTE_TTL.toNanos() ? gone : null;
    }

    /** Registered tunnels serving {@code host} (any path prefix); for tests and operators. */
    public int tunnelCount(String host) {
        String normalised = HostNames.normalise(host);
        if (normalised == null) {
            return 0;
        }
        Set<Tunnel> distinct = new HashSet<>();
        for (RouteEntry entry : table.entriesFor(normalised)) {
            distinct.addAll(entry.tunnels());
        }
        return distinct.size();
    }

    public List<Tunnel> tunnels() {
        return snapshot;
    }

    public int tunnelCount() {
        return snapshot.size();
    }

    public int agentCount() {
        Set<String> agents = new HashSet<>();
        for (Tunnel tunnel : snapshot) {
            agents.add(tunnel.agentId());
        }
        return agents.size();
    }

    public int routeCount() {
        return table.routeCount();
    }

    /** Tunnels grouped by agent id, in registration order. */
    public Map<String, List<Tunnel>> byAgent() {
        Map<String, List<Tunnel>> result = new LinkedHashMap<>();
        for (Tunnel tunnel : snapshot) {
            result.computeIfAbsent(tunnel.agentId(), id -> new ArrayList<>()).add(tunnel);
        }
        return result;
    }
}
