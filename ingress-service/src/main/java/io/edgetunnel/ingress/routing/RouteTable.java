package io.edgetunnel.ingress.routing;

import io.edgetunnel.ingress.registry.Tunnel;
import io.edgetunnel.protocol.RouteClaim;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * Immutable Host/path routing table, rebuilt on every registration change and read without locks.
 *
 * <p>Matching: exact host patterns first, then wildcards {@code *.suffix} from the longest suffix
 * down (a wildcard matches one or more labels in front of its suffix). Within a host pattern the
 * longest matching path prefix wins; {@code /api} matches {@code /api} and {@code /api/...} but not
 * {@code /apix}. When no prefix of a host pattern matches the path, the next pattern is tried.
 */
public final class RouteTable {

    public static final RouteTable EMPTY = new RouteTable(Map.of(), List.of());

    private static final Comparator<RouteEntry> LONGEST_PREFIX_FIRST =
            Comparator.comparingInt((RouteEntry e) -> e.route().pathPrefix().length()).reversed();

    /** Exact host → entries, longest prefix first. */
    private final Map<String, List<RouteEntry>> exact;

    /** Wildcards, longest suffix first. */
    private final List<Wildcard> wildcards;

    private RouteTable(Map<String, List<RouteEntry>> exact, List<Wildcard> wildcards) {
        this.exact = exact;
        this.wildcards = wildcards;
    }

    /**
     * Builds a table over {@code tunnels}; {@code cursors} supplies the round-robin counter of each
     * route, kept across rebuilds so that churn does not reset the rotation.
     */
    public static RouteTable build(List<? extends Tunnel> tunnels, Function<RouteClaim, AtomicInteger> cursors) {
        Map<RouteClaim, List<Tunnel>> byRoute = new LinkedHashMap<>();
        for (Tunnel tunnel : tunnels) {
            for (RouteClaim route : tunnel.routes()) {
                List<Tunnel> list = byRoute.computeIfAbsent(route, r -> new ArrayList<>());
                if (!list.contains(tunnel)) {
                    list.add(tunnel);
                }
            }
        }
        return of(byRoute, cursors);
    }

    /**
     * A table of routes that no tunnel serves any more: they still match, with no tunnels, so a
     * host whose agents all left answers 503 (come back later) rather than 404 (no such host).
     */
    public static RouteTable vacated(Iterable<RouteClaim> routes) {
        Map<RouteClaim, List<Tunnel>> byRoute = new LinkedHashMap<>();
        routes.forEach(route -> byRoute.put(route, List.of()));
        return of(byRoute, route -> new AtomicInteger());
    }

    private static RouteTable of(Map<RouteClaim, List<Tunnel>> byRoute, Function<RouteClaim, AtomicInteger> cursors) {
        Map<String, List<RouteEntry>> exact = new HashMap<>();
        Map<String, List<RouteEntry>> wild = new HashMap<>();
        byRoute.forEach((route, list) -> {
            RouteEntry entry = new RouteEntry(route, list, cursors.apply(route));
            if (route.isWildcard()) {
                wild.computeIfAbsent(route.host().substring(1), s -> new ArrayList<>()).add(entry);
            } else {
                exact.computeIfAbsent(route.host(), h -> new ArrayList<>()).add(entry);
            }
        });
        Map<String, List<RouteEntry>> exactSorted = new HashMap<>();
        exact.forEach((host, entries) -> exactSorted.put(host, sorted(entries)));
        List<Wildcard> wildcards = new ArrayList<>();
        wild.forEach((suffix, entries) -> wildcards.add(new Wildcard(suffix, sorted(entries))));
        wildcards.sort(Comparator.comparingInt((Wildcard w) -> w.suffix.length()).reversed());
        return new RouteTable(Map.copyOf(exactSorted), List.copyOf(wildcards));
    }

    private static List<RouteEntry> sorted(List<RouteEntry> entries) {
        List<RouteEntry> copy = new ArrayList<>(entries);
        copy.sort(LONGEST_PREFIX_FIRST);
        return List.copyOf(copy);
    }

    /**
     * The route for a normalised host and a raw request path, or null when none claims them.
     */
    public RouteEntry match(String host, String path) {
        List<RouteEntry> entries = exact.get(host);
        if (entries != null) {
            RouteEntry entry = matchPath(entries, path);
            if (entry != null) {
                return entry;
            }
        }
        for (Wildcard wildcard : wildcards) {
            // ".example.com" must leave at least one label in front: "example.com" does not match
            if (host.length() > wildcard.suffix.length() && host.endsWith(wildcard.suffix)) {
                RouteEntry entry = matchPath(wildcard.entries, path);
                if (entry != null) {
                    return entry;
                }
            }
        }
        return null;
    }

    /** Every entry whose host pattern would serve {@code host}, best pattern first. */
    public List<RouteEntry> entriesFor(String host) {
        List<RouteEntry> result = new ArrayList<>(exact.getOrDefault(host, List.of()));
        for (Wildcard wildcard : wildcards) {
            if (host.length() > wildcard.suffix.length() && host.endsWith(wildcard.suffix)) {
                result.addAll(wildcard.entries);
            }
        }
        return result;
    }

    public int routeCount() {
        int count = 0;
        for (List<RouteEntry> entries : exact.values()) {
            count += entries.size();
        }
        for (Wildcard wildcard : wildcards) {
            count += wildcard.entries.size();
        }
        return count;
    }

    static boolean prefixMatches(String prefix, String path) {
        if (prefix.equals("/") || prefix.isEmpty()) {
            return true;
        }
        if (!path.startsWith(prefix)) {
            return false;
        }
        return path.length() == prefix.length()
                || prefix.endsWith("/")
                || path.charAt(prefix.length()) == '/'
                || path.charAt(prefix.length()) == '?';
    }

    private static RouteEntry matchPath(List<RouteEntry> entries, String path) {
        for (RouteEntry entry : entries) {
            if (prefixMatches(entry.route().pathPrefix(), path)) {
                return entry;
            }
        }
        return null;
    }

    private record Wildcard(String suffix, List<RouteEntry> entries) {}
}
