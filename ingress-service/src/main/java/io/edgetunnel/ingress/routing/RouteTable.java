package io.edgetunnel.ingress.routing;

import io.edgetunnel.protocol.RouteClaim;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Host/path routing table, read without locks and changed one route at a time.
 *
 * <p>Matching: exact host patterns first, then wildcards {@code *.suffix} from the longest suffix
 * down (a wildcard matches one or more labels in front of its suffix). Within a host pattern the
 * longest matching path prefix wins; {@code /api} matches {@code /api} and {@code /api/...} but not
 * {@code /apix}. When no prefix of a host pattern matches the path, the next pattern is tried.
 *
 * <p>Each host pattern maps to an immutable list of entries that a change replaces whole, so a reader
 * sees a route as it was before or after a change, never half of one. A change costs as much as the
 * routes of its host pattern, not the whole table: 10,000 agents registering one after the other must
 * not rebuild 10,000 routes each (that made registration quadratic).
 */
public final class RouteTable<T extends RouteTarget> {

    private static final Comparator<RouteEntry<?>> LONGEST_PREFIX_FIRST =
            Comparator.comparingInt((RouteEntry<?> e) -> e.route().pathPrefix().length()).reversed();

    /** Exact host → entries, longest prefix first. */
    private final Map<String, List<RouteEntry<T>>> exact = new ConcurrentHashMap<>();

    /** Wildcard suffix ({@code .example.com} for {@code *.example.com}) → entries, longest prefix first. */
    private final Map<String, List<RouteEntry<T>>> wildcards = new ConcurrentHashMap<>();

    private final AtomicInteger routeCount = new AtomicInteger();

    /**
     * Sets the tunnels serving {@code route}, replacing what it had; an empty list keeps the route
     * matching with no tunnel (a vacated host answers 503, not 404). {@code cursor} is the route's
     * round-robin counter, kept across changes so that churn does not reset the rotation. The list
     * is copied, not kept.
     */
    public void put(RouteClaim route, List<? extends T> tunnels, AtomicInteger cursor) {
        RouteEntry<T> entry = new RouteEntry<>(route, tunnels, cursor);
        indexOf(route).compute(keyOf(route), (key, entries) -> {
            List<RouteEntry<T>> changed = new ArrayList<>(entries == null ? 1 : entries.size() + 1);
            if (entries != null) {
                for (RouteEntry<T> e : entries) {
                    if (!e.route().equals(route)) {
                        changed.add(e);
                    }
                }
            }
            if (entries == null || changed.size() == entries.size()) {
                routeCount.incrementAndGet();
            }
            changed.add(entry);
            changed.sort(LONGEST_PREFIX_FIRST);
            return List.copyOf(changed);
        });
    }

    /** Forgets {@code route}: it no longer matches at all. */
    public void remove(RouteClaim route) {
        indexOf(route).computeIfPresent(keyOf(route), (key, entries) -> {
            List<RouteEntry<T>> changed = new ArrayList<>(entries.size());
            for (RouteEntry<T> e : entries) {
                if (!e.route().equals(route)) {
                    changed.add(e);
                }
            }
            if (changed.size() < entries.size()) {
                routeCount.decrementAndGet();
            }
            return changed.isEmpty() ? null : List.copyOf(changed);
        });
    }

    private Map<String, List<RouteEntry<T>>> indexOf(RouteClaim route) {
        return route.isWildcard() ? wildcards : exact;
    }

    private static String keyOf(RouteClaim route) {
        return route.isWildcard() ? route.host().substring(1) : route.host();
    }

    /**
     * The route for a normalised host and a raw request path, or null when none claims them.
     */
    public RouteEntry<T> match(String host, String path) {
        List<RouteEntry<T>> entries = exact.get(host);
        if (entries != null) {
            RouteEntry<T> entry = matchPath(entries, path);
            if (entry != null) {
                return entry;
            }
        }
        if (wildcards.isEmpty()) {
            return null;
        }
        // every dot after the first character starts a suffix a wildcard may claim, longest first
        // (at least one label must stay in front: "*.example.com" does not match "example.com")
        for (int dot = host.indexOf('.', 1); dot > 0; dot = host.indexOf('.', dot + 1)) {
            List<RouteEntry<T>> candidates = wildcards.get(host.substring(dot));
            if (candidates != null) {
                RouteEntry<T> entry = matchPath(candidates, path);
                if (entry != null) {
                    return entry;
                }
            }
        }
        return null;
    }

    /** Every entry whose host pattern would serve {@code host}, best pattern first. */
    public List<RouteEntry<T>> entriesFor(String host) {
        List<RouteEntry<T>> result = new ArrayList<>(exact.getOrDefault(host, List.of()));
        if (!wildcards.isEmpty()) {
            for (int dot = host.indexOf('.', 1); dot > 0; dot = host.indexOf('.', dot + 1)) {
                result.addAll(wildcards.getOrDefault(host.substring(dot), List.of()));
            }
        }
        return result;
    }

    public int routeCount() {
        return routeCount.get();
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

    private static <T extends RouteTarget> RouteEntry<T> matchPath(List<RouteEntry<T>> entries, String path) {
        for (RouteEntry<T> entry : entries) {
            if (prefixMatches(entry.route().pathPrefix(), path)) {
                return entry;
            }
        }
        return null;
    }
}
