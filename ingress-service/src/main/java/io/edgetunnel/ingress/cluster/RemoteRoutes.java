package io.edgetunnel.ingress.cluster;

import io.edgetunnel.ingress.registry.Tunnel;
import io.edgetunnel.ingress.routing.RouteEntry;
import io.edgetunnel.ingress.routing.RouteTable;
import io.edgetunnel.protocol.RouteClaim;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * This replica's in-memory view of the other replicas and the routes they hold, kept current by the
 * directory: the request path only reads it, lock-free, and never waits for Redis. Changes are made
 * under a lock and touch only the routes of the replica that changed. A route that no replica holds
 * any more keeps answering 503 (not 404) for the grace period, as a host whose local agents left does.
 */
public final class RemoteRoutes {

    private record Seen(RemoteReplica replica, long atNanos, long version) {}

    private final long vacatedGraceNanos;
    private final Object lock = new Object();
    /** Guarded by lock. */
    private final Map<String, Seen> replicas = new LinkedHashMap<>();
    /** Guarded by lock. */
    private final Map<RouteClaim, List<Tunnel>> holders = new HashMap<>();
    private final Map<RouteClaim, AtomicInteger> cursors = new ConcurrentHashMap<>();
    private final RouteTable<Tunnel> live = new RouteTable<>();
    private final RouteTable<Tunnel> vacated = new RouteTable<>();
    private final Map<RouteClaim, Long> vacatedAtNanos = new ConcurrentHashMap<>();
    private volatile int replicaCount;

    public RemoteRoutes(long vacatedGraceNanos) {
        this.vacatedGraceNanos = vacatedGraceNanos;
    }

    /** Applies what a replica published; a draining or departed replica holds nothing. */
    void apply(ReplicaEntry entry, long nowNanos) {
        synchronized (lock) {
            Seen seen = replicas.get(entry.id());
            if (seen != null && entry.version() < seen.version()) {
                // older than what we have: a resync that crossed a newer message on the channel
                return;
            }
            if (entry.gone()) {
                removeLocked(entry.id(), nowNanos);
                return;
            }
            RemoteReplica replica = seen == null ? null : seen.replica();
            List<RouteClaim> oldRoutes = replica == null ? List.of() : replica.routes();
            if (replica != null && !replica.sameEndpoint(entry)) {
                // same id, new address (a replica restarted with a fixed id): a new holder object
                removeLocked(entry.id(), nowNanos);
                oldRoutes = List.of();
                replica = null;
            }
            List<RouteClaim> newRoutes = entry.draining() ? List.of() : entry.claims();
            if (replica == null) {
                replica = new RemoteReplica(entry.id(), entry.address(), entry.port(), newRoutes);
            } else {
                replica.routes(newRoutes);
            }
            replicas.put(entry.id(), new Seen(replica, nowNanos, entry.version()));
            Set<RouteClaim> added = new HashSet<>(newRoutes);
            oldRoutes.forEach(added::remove);
            Set<RouteClaim> removed = new HashSet<>(oldRoutes);
            newRoutes.forEach(removed::remove);
            for (RouteClaim route : added) {
                List<Tunnel> list = holders.computeIfAbsent(route, r -> new ArrayList<>(2));
                list.add(replica);
                publishLocked(route, list);
            }
            for (RouteClaim route : removed) {
                dropHolderLocked(route, replica, nowNanos);
            }
            replicaCount = replicas.size();
        }
    }

    /**
     * Counts every replica in view as just heard of: after an outage of the directory nobody could
     * refresh, so each gets a full TTL to re-publish before it is taken for dead.
     */
    void touchAll(long nowNanos) {
        synchronized (lock) {
            replicas.replaceAll((id, seen) -> new Seen(seen.replica(), nowNanos, seen.version()));
        }
    }

    /** Forgets replicas not heard of for {@code ttlNanos}: they died without saying so. */
    List<String> expire(long nowNanos, long ttlNanos) {
        List<String> expired = new ArrayList<>();
        synchronized (lock) {
            for (Seen seen : List.copyOf(replicas.values())) {
                if (nowNanos - seen.atNanos() > ttlNanos) {
                    expired.add(seen.replica().id());
                    removeLocked(seen.replica().id(), nowNanos);
                }
            }
            pruneVacancies(nowNanos);
        }
        return expired;
    }

    private void removeLocked(String id, long nowNanos) {
        Seen seen = replicas.remove(id);
        replicaCount = replicas.size();
        if (seen == null) {
            return;
        }
        for (RouteClaim route : seen.replica().routes()) {
            dropHolderLocked(route, seen.replica(), nowNanos);
        }
    }

    private void dropHolderLocked(RouteClaim route, RemoteReplica replica, long nowNanos) {
        List<Tunnel> list = holders.get(route);
        if (list == null || !list.remove(replica)) {
            return;
        }
        if (list.isEmpty()) {
            holders.remove(route);
            cursors.remove(route);
            // vacated first, then no longer live: a request in between gets 503, never 404
            vacatedAtNanos.put(route, nowNanos);
            vacated.put(route, List.of(), new AtomicInteger());
            live.remove(route);
        } else {
            live.put(route, list, cursors.computeIfAbsent(route, r -> new AtomicInteger()));
        }
    }

    private void publishLocked(RouteClaim route, List<Tunnel> list) {
        live.put(route, list, cursors.computeIfAbsent(route, r -> new AtomicInteger()));
        if (vacatedAtNanos.remove(route) != null) {
            vacated.remove(route);
        }
    }

    private void pruneVacancies(long nowNanos) {
        for (Iterator<Map.Entry<RouteClaim, Long>> it = vacatedAtNanos.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<RouteClaim, Long> vacancy = it.next();
            if (nowNanos - vacancy.getValue() > vacatedGraceNanos) {
                it.remove();
                vacated.remove(vacancy.getKey());
            }
        }
    }

    /** The other replicas' best route for a normalised host and raw path, or null. Lock-free. */
    public RouteEntry<Tunnel> match(String host, String path) {
        return live.match(host, path);
    }

    /** Whether a route for host/path was held elsewhere until recently (answer 503, not 404). Lock-free. */
    public boolean recentlyVacated(String host, String path, long nowNanos) {
        RouteEntry<Tunnel> gone = vacated.match(host, path);
        if (gone == null) {
            return false;
        }
        Long at = vacatedAtNanos.get(gone.route());
        return at != null && nowNanos - at <= vacatedGraceNanos;
    }

    /** Other replicas in view. */
    public int replicaCount() {
        return replicaCount;
    }

    /** The other replicas and the routes each holds, for operators. */
    public List<RemoteReplica> replicas() {
        synchronized (lock) {
            List<RemoteReplica> result = new ArrayList<>(replicas.size());
            replicas.values().forEach(seen -> result.add(seen.replica()));
            return result;
        }
    }
}
