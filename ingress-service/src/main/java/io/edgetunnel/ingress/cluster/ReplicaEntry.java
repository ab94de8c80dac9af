package io.edgetunnel.ingress.cluster;

import io.edgetunnel.protocol.RouteClaim;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What one replica publishes in the directory: where other replicas reach it and the routes it holds
 * healthy, non-draining agents for. {@code gone} marks a replica that left on purpose (its entry is
 * deleted at once instead of expiring). {@code version} grows with every entry a replica writes (and
 * across its restarts): a resync read that crosses a newer message on the channel must not roll the
 * view back.
 *
 * @param routes claims as {@code host} or {@code host/prefix}, the form {@link RouteClaim#toString()} writes
 */
public record ReplicaEntry(
        String id, String address, int port, List<String> routes, boolean draining, boolean gone, long version) {

    public ReplicaEntry {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(address, "address");
        routes = routes == null ? List.of() : List.copyOf(routes);
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port: " + port + " (expected: 0..65535)");
        }
    }

    static ReplicaEntry goneEntry(String id, long version) {
        return new ReplicaEntry(id, "", 0, List.of(), true, true, version);
    }

    /** The claims, parsed; a claim that does not parse is skipped (an entry from a newer replica). */
    List<RouteClaim> claims() {
        List<RouteClaim> claims = new ArrayList<>(routes.size());
        for (String route : routes) {
            RouteClaim claim = parse(route);
            if (claim != null) {
                claims.add(claim);
            }
        }
        return claims;
    }

    static RouteClaim parse(String route) {
        try {
            int slash = route.indexOf('/');
            return slash < 0 ? RouteClaim.host(route) : new RouteClaim(route.substring(0, slash), route.substring(slash));
        } catch (RuntimeException e) {
            return null;
        }
    }
}
