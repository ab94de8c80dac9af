package io.edgetunnel.ingress.routing;

import io.edgetunnel.protocol.RouteClaim;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One claimed route and an immutable snapshot of the tunnels serving it, grouped by agent so that an
 * agent with more tunnels is not picked more often. Picking is lock-free: two atomic counters over
 * the snapshot (agent first, then one of its tunnels). Among one agent's tunnels, an eligible one
 * served by the caller's event loop wins over the tunnel cursor: the request then stays on one
 * thread from the public connection to the tunnel.
 */
public final class RouteEntry<T extends RouteTarget> {

    private final RouteClaim route;
    private final List<AgentGroup<T>> agents;
    private final AtomicInteger agentCursor;

    RouteEntry(RouteClaim route, List<? extends T> tunnels, AtomicInteger agentCursor) {
        this.route = Objects.requireNonNull(route, "route");
        this.agentCursor = Objects.requireNonNull(agentCursor, "agentCursor");
        Map<String, List<T>> byAgent = new LinkedHashMap<>();
        for (T tunnel : tunnels) {
            byAgent.computeIfAbsent(tunnel.agentId(), id -> new ArrayList<>()).add(tunnel);
        }
        List<AgentGroup<T>> groups = new ArrayList<>(byAgent.size());
        byAgent.forEach((agentId, list) -> groups.add(new AgentGroup<>(agentId, List.copyOf(list))));
        this.agents = List.copyOf(groups);
    }

    public RouteClaim route() {
        return route;
    }

    /** Every tunnel of the snapshot, eligible or not. */
    public List<T> tunnels() {
        List<T> all = new ArrayList<>();
        for (AgentGroup<T> group : agents) {
            all.addAll(group.tunnels);
        }
        return all;
    }

    /**
     * The next eligible tunnel round-robin, skipping {@code excluded} (a tunnel that already refused
     * this request), or null when none can take a stream.
     */
    public T pick(T excluded) {
        int agentCount = agents.size();
        if (agentCount == 0) {
            return null;
        }
        int start = Math.floorMod(agentCursor.getAndIncrement(), agentCount);
        // a retry goes to another agent first: the one that refused is likely draining all its tunnels
        String refusingAgent = excluded == null ? null : excluded.agentId();
        for (int i = 0; i < agentCount; i++) {
            AgentGroup<T> group = agents.get((start + i) % agentCount);
            if (refusingAgent != null && refusingAgent.equals(group.agentId)) {
                continue;
            }
            T tunnel = group.pick(route, excluded);
            if (tunnel != null) {
                return tunnel;
            }
        }
        if (refusingAgent != null) {
            for (AgentGroup<T> group : agents) {
                if (refusingAgent.equals(group.agentId)) {
                    return group.pick(route, excluded);
                }
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return route + " -> " + agents.size() + " agent(s)";
    }

    private static final class AgentGroup<T extends RouteTarget> {
        final String agentId;
        final List<T> tunnels;
        final AtomicInteger cursor = new AtomicInteger();

        AgentGroup(String agentId, List<T> tunnels) {
            this.agentId = agentId;
            this.tunnels = tunnels;
        }

        T pick(RouteClaim route, T excluded) {
            int count = tunnels.size();
            if (count > 1) {
                // among one agent's tunnels, the one on this request's event loop needs no thread hand-off
                for (int i = 0; i < count; i++) {
                    T tunnel = tunnels.get(i);
                    if (tunnel != excluded && tunnel.onCurrentEventLoop() && tunnel.canAccept(route)) {
                        return tunnel;
                    }
                }
            }
            int start = count == 1 ? 0 : Math.floorMod(cursor.getAndIncrement(), count);
            for (int i = 0; i < count; i++) {
                T tunnel = tunnels.get((start + i) % count);
                if (tunnel != excluded && tunnel.canAccept(route)) {
                    return tunnel;
                }
            }
            return null;
        }

        @Override
        public String toString() {
            return agentId + tunnels;
        }
    }
}
