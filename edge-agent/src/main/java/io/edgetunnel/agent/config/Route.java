package io.edgetunnel.agent.config;

import io.edgetunnel.agent.discovery.DnsTargets;
import io.edgetunnel.protocol.RouteClaim;
import io.edgetunnel.protocol.TcpRoutes;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.springframework.boot.context.properties.bind.ConstructorBinding;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * One route the agent serves: requests for {@code host} (exact or {@code *.suffix}) under {@code
 * pathPrefix} go to {@code localUrl}. The ingress picks the route with the longest matching prefix.
 *
 * @param localUrl where requests go: {@code http://host[:port][/path]} or {@code https://...}; or a
 *     target found by DNS for each request, spoken to in cleartext: {@code dns://name:port[/path]}
 *     (every A/AAAA address of the name, in random order) or {@code dns+srv://_service._tcp.name[/path]}
 *     (SRV records: lowest priority first, by weight within one); a refused target is skipped to the
 *     next, answers are cached by their TTL within {@code agent.dns.min-ttl} and {@code max-ttl}
 * @param stripPrefix remove {@code pathPrefix} from the path before forwarding ({@code /api/x} →
 *     {@code /x}, {@code /api} → {@code /})
 * @param hostRewrite Host header sent to the local app instead of the client's; empty keeps it
 * @param maxRequestBodyBytes request bodies above this get 413; -1 means no route limit
 * @param responseTimeout time for the local app to send response headers (504); unset uses {@code
 *     agent.local.response-timeout}; the ingress's {@code ingress.proxy.response-timeout} still caps it
 * @param idleTimeout time without a body byte either way, once response headers arrived, that ends the
 *     exchange; unset uses {@code agent.local.idle-timeout}
 * @param requestHeaders request headers to set (replacing any the client sent)
 * @param removeRequestHeaders request headers to remove
 * @param responseHeaders response headers to set (replacing any the app sent)
 * @param removeResponseHeaders response headers to remove
 * @param healthCheck active HTTP health check of the local app; off unless its path is set
 * @param protocol how the agent talks to the local app: {@code http1} (default) or {@code h2c}
 *     (HTTP/2 cleartext with prior knowledge, for gRPC servers); h2c needs an {@code http://} URL or
 *     one found by DNS
 */
public record Route(
        String host,
        @DefaultValue("/") String pathPrefix,
        URI localUrl,
        @DefaultValue("false") boolean stripPrefix,
        @DefaultValue("") String hostRewrite,
        @DefaultValue("-1") long maxRequestBodyBytes,
        Duration responseTimeout,
        Duration idleTimeout,
        @DefaultValue Map<String, String> requestHeaders,
        @DefaultValue List<String> removeRequestHeaders,
        @DefaultValue Map<String, String> responseHeaders,
        @DefaultValue List<String> removeResponseHeaders,
        @DefaultValue HealthCheck healthCheck,
        @DefaultValue("http1") LocalProtocol protocol) {

    @ConstructorBinding
    public Route {
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("host: " + host + " (expected: a host name or *.suffix)");
        }
        host = host.trim().toLowerCase(Locale.ROOT);
        pathPrefix = (pathPrefix == null || pathPrefix.isEmpty()) ? "/" : pathPrefix;
        // validates host pattern and prefix the same way the ingress will
        new RouteClaim(host, pathPrefix);
        Objects.requireNonNull(localUrl, "localUrl");
        String scheme = localUrl.getScheme() == null ? "" : localUrl.getScheme().toLowerCase(Locale.ROOT);
        // a TCP route (agent.tcp-routes) is a route too: claimed as name._tcp, with a tcp:// target
        boolean byDns = scheme.equals("dns") || scheme.equals("dns+srv");
        boolean tcpScheme = scheme.equals("tcp");
        if (TcpRoutes.isTcp(host) ? !(tcpScheme || byDns) : tcpScheme) {
            throw new IllegalArgumentException("host " + host + " with localUrl " + localUrl
                    + " (expected: TCP routes, name" + TcpRoutes.SUFFIX + " with tcp://, dns:// or dns+srv://, only from "
                    + "agent.tcp-routes; HTTP routes with http://, https://, dns:// or dns+srv://)");
        }
        if (byDns) {
            String problem = DnsTargets.problem(localUrl);
            if (problem != null || (!TcpRoutes.isTcp(host) && localUrl.getRawQuery() != null)) {
                throw new IllegalArgumentException("localUrl: " + localUrl + " has " + (problem == null ? "a query" : problem)
                        + " (expected: dns://name:port[/path] or dns+srv://_service._tcp.name[/path], "
                        + "e.g. dns+srv://_app._tcp.svc.local)");
            }
        } else if (!(scheme.equals("http") || scheme.equals("https") || tcpScheme)
                || (tcpScheme ? localUrl.getRawAuthority() == null : localUrl.getHost() == null)) {
            throw new IllegalArgumentException("localUrl: " + localUrl
                    + " (expected: http://host[:port][/path], https://..., dns://name:port[/path] or dns+srv://name[/path])");
        }
        hostRewrite = hostRewrite == null ? "" : hostRewrite.trim();
        if (maxRequestBodyBytes < -1) {
            throw new IllegalArgumentException("max-request-body-bytes: " + maxRequestBodyBytes + " (expected: >= -1)");
        }
        if (responseTimeout != null && (responseTimeout.isZero() || responseTimeout.isNegative())) {
            throw new IllegalArgumentException("response-timeout: " + responseTimeout + " (expected: > 0)");
        }
        if (idleTimeout != null && (idleTimeout.isZero() || idleTimeout.isNegative())) {
            throw new IllegalArgumentException("idle-timeout: " + idleTimeout + " (expected: > 0)");
        }
        requestHeaders = requestHeaders == null ? Map.of() : Map.copyOf(requestHeaders);
        removeRequestHeaders = removeRequestHeaders == null ? List.of() : List.copyOf(removeRequestHeaders);
        responseHeaders = responseHeaders == null ? Map.of() : Map.copyOf(responseHeaders);
        removeResponseHeaders = removeResponseHeaders == null ? List.of() : List.copyOf(removeResponseHeaders);
        healthCheck = healthCheck == null ? HealthCheck.NONE : healthCheck;
        protocol = protocol == null ? LocalProtocol.HTTP1 : protocol;
        if (protocol == LocalProtocol.H2C && !(scheme.equals("http") || byDns)) {
            throw new IllegalArgumentException("localUrl: " + localUrl
                    + " (expected: http://..., dns://... or dns+srv://... for protocol h2c, which is cleartext)");
        }
    }

    /** A route with default settings. */
    public Route(String host, String pathPrefix, URI localUrl) {
        this(host, pathPrefix, localUrl, HealthCheck.NONE);
    }

    /** A route with default settings and a health check. */
    public Route(String host, String pathPrefix, URI localUrl, HealthCheck healthCheck) {
        this(host, pathPrefix, localUrl, healthCheck, LocalProtocol.HTTP1);
    }

    /** A route with default settings, a health check, speaking {@code protocol} to the local app. */
    public Route(String host, String pathPrefix, URI localUrl, HealthCheck healthCheck, LocalProtocol protocol) {
        this(host, pathPrefix, localUrl, false, "", -1, null, null, Map.of(), List.of(), Map.of(), List.of(),
                healthCheck, protocol);
    }

    public RouteClaim claim() {
        return new RouteClaim(host, pathPrefix);
    }

    /** The request target the local app gets: with the prefix removed when {@link #stripPrefix}. */
    public String localTarget(String target) {
        if (!stripPrefix || pathPrefix.equals("/")) {
            return target;
        }
        String prefix = pathPrefix.endsWith("/") ? pathPrefix.substring(0, pathPrefix.length() - 1) : pathPrefix;
        if (!target.startsWith(prefix)) {
            return target;
        }
        String rest = target.substring(prefix.length());
        if (rest.isEmpty() || rest.charAt(0) == '?') {
            return "/" + rest;
        }
        return rest.charAt(0) == '/' ? rest : "/" + rest;
    }

    /** Whether this is a TCP route (from {@code agent.tcp-routes}). */
    public boolean isTcp() {
        return TcpRoutes.isTcp(host);
    }

    @Override
    public String toString() {
        return claim() + "=" + localUrl;
    }
}
