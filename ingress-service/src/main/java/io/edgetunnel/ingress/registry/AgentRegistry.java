package io.edgetunnel.ingress.registry;

import io.edgetunnel.ingress.routing.RouteEntry;
import io.edgetunnel.ingress.routing.RouteTable;
import io.edgetunnel.protocol.HostNames;
import io.edgetunnel.protocol.RouteClaim;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.springframework.stereotype.Component;

/**
 * Connected agent tunnels and the routes they claim. Changes are made under a lock and touch only
 * the routes of the tunnel that comes or goes (so registering the 10,000th agent costs what the
 * first did); the request path and the counts read without locks.
 */
@Component
public final class AgentRegistry {

    /** How long a host whose agents all left answers 503 instead of 404. */
    static final Duration VACATED_ROUTE_TTL = Duration.ofMinutes(10);

    /** A registered tunnel as it was when it registered, so that leaving undoes exactly that. */
    private record Registration(Tunnel tunnel, String agentId, String identity, Set<RouteClaim> routes) {}

    /** The tunnels serving one live route, in registration order, and its round-robin cursor. */
    private record LiveRoute(List<Tunnel> tunnels, AtomicInteger cursor) {}

    private final LongSupplier nanoClock;
    private final Object writeLock = new Object();
    /** By session id, in registration order; guarded by writeLock. */
    private final Map<String, Registration> tunnels = new LinkedHashMap<>();
    /** Guarded by writeLock. */
    private final Map<RouteClaim, LiveRoute> live = new HashMap<>();
    /** Vacated routes, oldest first (a route vacated again moves to the end); guarded by writeLock. */
    private final LinkedHashMap<RouteClaim, Long> vacancies = new LinkedHashMap<>();

    private final RouteTable<Tunnel> table = new RouteTable<>();
    private final RouteTable<Tunnel> vacated = new RouteTable<>();
    private final Map<RouteClaim, Long> vacatedAtNanos = new ConcurrentHashMap<>();
    private final Map<String, Integer> tunnelsByIdentity = new ConcurrentHashMap<>();
    private final Map<String, Integer> tunnelsByAgent = new ConcurrentHashMap<>();
    private volatile int tunnelCount;
    /** All tunnels in registration order; null once stale, rebuilt when asked for. */
    private volatile List<Tunnel> snapshot = List.of();

    public AgentRegistry() {
        this(System::nanoTime);
    }

    /** @param nanoClock {@link System#nanoTime()}, or a test's clock */
    AgentRegistry(LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
    }

    public void register(Tunnel tunnel) {
        Registration registration =
                new Registration(tunnel, tunnel.agentId(), tunnel.identity(), new LinkedHashSet<>(tunnel.routes()));
        synchronized (writeLock) {
            Registration previous = tunnels.put(tunnel.sessionId(), registration);
            if (previous != null) {
                // the same session registered twice: replace, do not count it twice
                remove(previous);
            }
            long now = nanoClock.getAsLong();
            for (RouteClaim route : registration.routes()) {
                LiveRoute state = live.computeIfAbsent(route, r -> new LiveRoute(new ArrayList<>(1), new AtomicInteger()));
                state.tunnels().add(tunnel);
                table.put(route, state.tunnels(), state.cursor());
                // live first, then no longer vacated: a request in between matches one or the other
                if (vacancies.remove(route) != null) {
                    vacatedAtNanos.remove(route);
                    vacated.remove(route);
                }
            }
            tunnelsByIdentity.merge(registration.identity(), 1, Integer::sum);
            tunnelsByAgent.merge(registration.agentId(), 1, Integer::sum);
            changed(now);
        }
    }

    /** Removes the tunnel; true when it was registered. */
    public boolean unregister(Tunnel tunnel) {
        synchronized (writeLock) {
            Registration registration = tunnels.get(tunnel.sessionId());
            if (registration == null || registration.tunnel() != tunnel) {
                return false;
            }
            tunnels.remove(tunnel.sessionId());
            remove(registration);
            changed(nanoClock.getAsLong());
            return true;
        }
    }

    /** Takes a registration's routes and counts back; guarded by writeLock. */
    private void remove(Registration registration) {
        Tunnel tunnel = registration.tunnel();
        long now = nanoClock.getAsLong();
        for (RouteClaim route : registration.routes()) {
            LiveRoute state = live.get(route);
            if (state == null || !state.tunnels().remove(tunnel)) {
                continue;
            }
            if (state.tunnels().isEmpty()) {
                live.remove(route);
                // vacated first, then no longer live: a request in between gets 503, never 404
                vacancies.remove(route);
                vacancies.put(route, now);
                vacatedAtNanos.put(route, now);
                vacated.put(route, List.of(), new AtomicInteger());
                table.remove(route);
            } else {
                table.put(route, state.tunnels(), state.cursor());
            }
        }
        tunnelsByIdentity.computeIfPresent(registration.identity(), (k, n) -> n == 1 ? null : n - 1);
        tunnelsByAgent.computeIfPresent(registration.agentId(), (k, n) -> n == 1 ? null : n - 1);
    }

    /** Guarded by writeLock. */
    private void changed(long now) {
        tunnelCount = tunnels.size();
        snapshot = null;
        // vacancies are in vacating order: the expired ones are at the front
        for (Iterator<Map.Entry<RouteClaim, Long>> it = vacancies.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<RouteClaim, Long> vacancy = it.next();
            if (now - vacancy.getValue() <= VACATED_ROUTE_TTL.toNanos()) {
                break;
            }
            it.remove();
            vacatedAtNanos.remove(vacancy.getKey());
            vacated.remove(vacancy.getKey());
        }
    }

    /**
     * The route serving a normalised host and raw path, or null. Lock-free. A route whose tunnels
     * all left within {@link #VACATED_ROUTE_TTL} still matches, with no tunnels (503), unless a live
     * route also matches.
     */
    public RouteEntry<Tunnel> match(String host, String path) {
        RouteEntry<Tunnel> live = table.match(host, path);
        if (live != null) {
            return live;
        }
        RouteEntry<Tunnel> gone = vacated.match(host, path);
        if (gone == null) {
            return null;
        }
        Long at = vacatedAtNanos.get(gone.route());
        return at != null && nanoClock.getAsLong() - at <= VACATED_ROUTE_TTL.toNanos() ? gone : null;
    }

    /** Registered tunnels serving {@code host} (any path prefix); for tests and operators. */
    public int tunnelCount(String host) {
        String normalised = HostNames.normalise(host);
        if (normalised == null) {
            return 0;
        }
        Set<Tunnel> distinct = new HashSet<>();
        for (RouteEntry<Tunnel> entry : table.entriesFor(normalised)) {
            distinct.addAll(entry.tunnels());
        }
        return distinct.size();
    }

    /** Registered tunnels whose verified identity ({@link Tunnel#identity()}) is {@code identity}. Lock-free. */
    public int identityTunnelCount(String identity) {
        return tunnelsByIdentity.getOrDefault(identity, 0);
    }

    /** Every registered tunnel, in registration order (a copy made once per change, when first asked for). */
    public List<Tunnel> tunnels() {
        List<Tunnel> current = snapshot;
        if (current != null) {
            return current;
        }
        synchronized (writeLock) {
            if (snapshot == null) {
                List<Tunnel> all = new ArrayList<>(tunnels.size());
                tunnels.values().forEach(r -> all.add(r.tunnel()));
                snapshot = List.copyOf(all);
            }
            return snapshot;
        }
    }

    public int tunnelCount() {
        return tunnelCount;
    }

    public int agentCount() {
        return tunnelsByAgent.size();
    }

    public int routeCount() {
        return table.routeCount();
    }

    /** Tunnels grouped by agent id, in registration order. */
    public Map<String, List<Tunnel>> byAgent() {
        Map<String, List<Tunnel>> result = new LinkedHashMap<>();
        for (Tunnel tunnel : tunnels()) {
            result.computeIfAbsent(tunnel.agentId(), id -> new ArrayList<>()).add(tunnel);
        }
        return result;
    }
}
