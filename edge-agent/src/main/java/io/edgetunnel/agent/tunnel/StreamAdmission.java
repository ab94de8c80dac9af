package io.edgetunnel.agent.tunnel;

import io.edgetunnel.agent.config.Route;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.ResetCode;
import io.edgetunnel.protocol.session.TunnelStream;
import java.util.Map;

/**
 * Which streams the agent takes: a REQUEST for a route it claims, whose local app is healthy, within
 * the tunnel's stream limit. Anything else is refused with a RESET the ingress understands
 * ({@code REFUSED_STREAM} is retried on another agent, protocol section 7.3).
 */
final class StreamAdmission {

    private final Map<String, Route> routes;
    private final RouteHealthSource health;

    StreamAdmission(Map<String, Route> routes, RouteHealthSource health) {
        this.routes = routes;
        this.health = health;
    }

    static String routeKey(String host, String pathPrefix) {
        return host + " " + pathPrefix;
    }

    /** The route {@code request} goes to, or null once {@code stream} was refused. */
    Route admit(TunnelStream stream, Frame.Request request) {
        Route route = routes.get(routeKey(request.routeHost(), request.routePathPrefix()));
        if (route == null) {
            stream.reset(ResetCode.NO_ROUTE, "agent claims no route " + request.routeHost() + request.routePathPrefix());
            return null;
        }
        if (!health.isHealthy(route)) {
            // the ingress sent it before our ROUTE_HEALTH arrived: refused streams are retried elsewhere
            stream.reset(ResetCode.REFUSED_STREAM, "local app for " + route.claim() + " is unhealthy");
            return null;
        }
        int limit = stream.connection().maxConcurrentStreams();
        if (stream.connection().activeStreams() >= limit) {
            stream.reset(ResetCode.REFUSED_STREAM, "stream limit " + limit + " reached");
            return null;
        }
        return route;
    }
}
