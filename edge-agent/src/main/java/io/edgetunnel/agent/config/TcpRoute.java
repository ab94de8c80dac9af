package io.edgetunnel.agent.config;

import io.edgetunnel.protocol.TcpRoutes;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import org.springframework.boot.context.properties.bind.ConstructorBinding;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * One TCP route the agent serves ({@code agent.tcp-routes[i]}): each connection the ingress accepts on
 * its listener named {@code name} becomes a connection to {@code target}. Claimed as the host {@code
 * name._tcp} (see {@link TcpRoutes}), so host policy governs it like a host name. The target is
 * health-checked by connecting to it: unhealthy, the route is out of rotation as for HTTP.
 *
 * @param name the route name, as the ingress's {@code ingress.tcp.listeners} names it
 * @param target {@code host:port} of the local service ({@code [v6]:port} for an IPv6 literal); or
 *     found by DNS for each connection: {@code dns://name:port} (every A/AAAA address of the name,
 *     in random order, a refused one skipped to the next) or {@code dns+srv://_service._tcp.name}
 *     (SRV records: lowest priority first, by weight within one, each target's addresses in turn)
 * @param healthCheckInterval time between two connect checks of the target
 * @param proxyProtocol {@code v1} or {@code v2}: each connection to the target starts with a PROXY
 *     protocol header naming the public client (as the ingress saw it, or as its NLB told it); empty
 *     (the default): none
 * @param healthCheckTimeout time a connect check may take
 */
public record TcpRoute(
        String name,
        String target,
        @DefaultValue("5s") Duration healthCheckInterval,
        @DefaultValue("2s") Duration healthCheckTimeout,
        @DefaultValue("") String proxyProtocol) {

    /** The target URL's query parameter carrying {@link #proxyProtocol}. */
    public static final String PROXY_PROTOCOL = "proxy-protocol";

    @ConstructorBinding
    public TcpRoute {
        name = TcpRoutes.checkName(name);
        target = target == null ? "" : target.trim();
        URI uri = uri(name, target);
        boolean srv = "dns+srv".equals(uri.getScheme());
        boolean valid = srv ? uri.getRawAuthority() != null && uri.getRawAuthority().indexOf(':') < 0
                : uri.getRawAuthority() != null && uri.getPort() > 0;
        if (!valid) {
            throw new IllegalArgumentException("tcp route " + name + ": target " + target
                    + " (expected: host:port, dns://name:port or dns+srv://_service._tcp.name, e.g. 127.0.0.1:22)");
        }
        proxyProtocol = proxyProtocol == null ? "" : proxyProtocol.trim().toLowerCase(java.util.Locale.ROOT);
        if (!proxyProtocol.isEmpty() && !proxyProtocol.equals("v1") && !proxyProtocol.equals("v2")) {
            throw new IllegalArgumentException(
                    "tcp route " + name + ": proxy-protocol " + proxyProtocol + " (expected: v1, v2 or empty)");
        }
        healthCheckInterval = healthCheckInterval == null ? Duration.ofSeconds(5) : healthCheckInterval;
        healthCheckTimeout = healthCheckTimeout == null ? Duration.ofSeconds(2) : healthCheckTimeout;
    }

    public TcpRoute(String name, String target) {
        this(name, target, null, null, "");
    }

    /**
     * This route as the agent's tunnels see a route: a {@code tcp://} target, and a health check
     * that connects (its path only switches the check on; a TCP check never sends a request).
     */
    public Route asRoute() {
        // the PROXY protocol choice rides on the target URL, which is what the connector gets
        String url = uri(name, target) + (proxyProtocol.isEmpty() ? "" : "?" + PROXY_PROTOCOL + "=" + proxyProtocol);
        return new Route(name + TcpRoutes.SUFFIX, "/", URI.create(url),
                new HealthCheck("/", healthCheckInterval, healthCheckTimeout, 3, 2));
    }

    private static URI uri(String name, String target) {
        try {
            return new URI(target.startsWith("dns://") || target.startsWith("dns+srv://") ? target : "tcp://" + target);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(
                    "tcp route " + name + ": target " + target + " (expected: host:port, e.g. 127.0.0.1:22)", e);
        }
    }

    @Override
    public String toString() {
        return name + "=" + target;
    }
}
