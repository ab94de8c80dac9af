package io.edgetunnel.agent.config;

import io.edgetunnel.protocol.session.SessionLimits;
import io.edgetunnel.protocol.stream.WindowGrowth;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * The agent's tunnel configuration ({@code agent.*}).
 *
 * @param ingressUri the ingress tunnel endpoint, {@code ws://} or {@code wss://} (env {@code
 *     AGENT_INGRESS_URI})
 * @param token shared tunnel token; never logged
 * @param id agent id sent in the hello; defaults to the host name
 * @param routes routes this agent claims; also bindable from one string {@code
 *     host[/prefix]=url[;health-check.path=/path;...][;protocol=h2c],...} (env {@code AGENT_ROUTES})
 * @param tunnelCount independent tunnels kept open to the ingress
 * @param connectTimeout from dialling until the ingress accepted the hello
 * @param maxFrameBytes largest WebSocket message (one frame) the agent accepts
 * @param drainTimeout how long a graceful stop waits for in-flight streams
 * @param frameMasking the masking key of the WebSocket frames the agent sends (see {@link FrameMasking})
 * @param maxStreamWindow how far the window of a stream the agent receives (a request body) may grow
 *     while the window, not the local app, limits it, in bytes; at most the ingress's initial window
 *     turns growth off
 * @param windowGrowthBudget how much all streams of one tunnel together may grow their windows by:
 *     the most growth adds to what one tunnel buffers; the ingress queues what it sends under this
 *     growth, so keep it well below the ingress's {@code ingress.tunnel.max-queued-bytes}
 * @param spread spreading the tunnels over ingress replicas
 * @param heartbeatMissedLimit heartbeat intervals (the ingress's, from its accept) of silence after
 *     which the ingress is declared dead (close 4002); as {@code ingress.tunnel.heartbeat-missed-limit}
 * @param maxQueuedBytes outbound bytes queued per tunnel before it is cut as a slow consumer (close
 *     4011); above a quarter of it, response bodies stop sending until the queue drained; as {@code
 *     ingress.tunnel.max-queued-bytes}, larger by default because the agent sends the bulk of the data
 * @param closeBackstop after a close frame, how long the agent waits for the ingress to answer it
 *     before dropping the connection; as {@code ingress.tunnel.close-backstop}
 * @param tcpRoutes TCP routes this agent serves: connections the ingress accepts on its TCP listener of
 *     the same name go to the route's target; also bindable from one string {@code
 *     name=host:port,...} (env {@code AGENT_TCP_ROUTES})
 * @param dns DNS lookups of route targets (HTTP and TCP) given as {@code dns://} or {@code dns+srv://}
 */
// Checked in the records' constructors, not by Bean Validation: Hibernate Validator's ~680 classes
// cost the agent ~7 MiB of its 128 MiB container (docs/benchmarks.md, "Footprint").
@ConfigurationProperties("agent")
public record AgentProperties(
        URI ingressUri,
        @DefaultValue("") String token,
        String id,
        @DefaultValue List<Route> routes,
        @DefaultValue("2") int tunnelCount,
        @DefaultValue("10s") Duration connectTimeout,
        @DefaultValue Reconnect reconnect,
        @DefaultValue Local local,
        @DefaultValue("262144") int maxFrameBytes,
        @DefaultValue("20s") Duration drainTimeout,
        @DefaultValue("auto") FrameMasking frameMasking,
        @DefaultValue("4194304") int maxStreamWindow,
        @DefaultValue("8MB") DataSize windowGrowthBudget,
        @DefaultValue Spread spread,
        @DefaultValue("3") int heartbeatMissedLimit,
        @DefaultValue("128MB") DataSize maxQueuedBytes,
        @DefaultValue("5s") Duration closeBackstop,
        @DefaultValue List<TcpRoute> tcpRoutes,
        @DefaultValue Dns dns) {

    public AgentProperties {
        if (ingressUri == null) {
            throw new IllegalArgumentException("agent.ingress-uri: not set (expected: ws://host:port/path or wss://..., "
                    + "env AGENT_INGRESS_URI)");
        } else {
            String scheme = ingressUri.getScheme() == null ? "" : ingressUri.getScheme().toLowerCase(Locale.ROOT);
            if (!(scheme.equals("ws") || scheme.equals("wss")) || ingressUri.getHost() == null) {
                throw new IllegalArgumentException(
                        "agent.ingress-uri: " + ingressUri + " (expected: ws://host:port/path or wss://...)");
            }
        }
        between("agent.tunnel-count", tunnelCount, 1, 16);
        positive("agent.connect-timeout", required("agent.connect-timeout", connectTimeout));
        required("agent.reconnect", reconnect);
        required("agent.local", local);
        between("agent.max-frame-bytes", maxFrameBytes, 1024, Integer.MAX_VALUE);
        required("agent.drain-timeout", drainTimeout);
        required("agent.frame-masking", frameMasking);
        between("agent.max-stream-window", maxStreamWindow, 1024, 1 << 30);
        required("agent.window-growth-budget", windowGrowthBudget);
        required("agent.spread", spread);
        between("agent.heartbeat-missed-limit", heartbeatMissedLimit, 1, Integer.MAX_VALUE);
        required("agent.max-queued-bytes", maxQueuedBytes);
        required("agent.close-backstop", closeBackstop);
        required("agent.dns", dns);
        if (windowGrowthBudget.isNegative()) {
            throw new IllegalArgumentException("agent.window-growth-budget: " + windowGrowthBudget + " (expected: >= 0)");
        }
        if (drainTimeout.isNegative()) {
            throw new IllegalArgumentException("agent.drain-timeout: " + drainTimeout + " (expected: >= 0)");
        }
        if (maxQueuedBytes.toBytes() <= 0) {
            throw new IllegalArgumentException("agent.max-queued-bytes: " + maxQueuedBytes + " (expected: > 0)");
        }
        if (closeBackstop.isNegative()) {
            throw new IllegalArgumentException("agent.close-backstop: " + closeBackstop + " (expected: >= 0)");
        }
        token = token == null ? "" : token;
        id = (id == null || id.isBlank()) ? defaultId() : id.trim();
        routes = routes == null ? List.of() : List.copyOf(routes);
        tcpRoutes = tcpRoutes == null ? List.of() : List.copyOf(tcpRoutes);
        if (routes.isEmpty() && tcpRoutes.isEmpty()) {
            throw new IllegalArgumentException("agent.routes: none (expected: at least one route in agent.routes "
                    + "(env AGENT_ROUTES) or agent.tcp-routes (env AGENT_TCP_ROUTES))");
        }
    }

    /** The HTTP routes and the TCP routes, as the tunnels claim them. */
    public List<Route> allRoutes() {
        List<Route> all = new java.util.ArrayList<>(routes);
        for (TcpRoute tcp : tcpRoutes) {
            all.add(tcp.asRoute());
        }
        return List.copyOf(all);
    }

    /**
     * Connection settings for the local apps the agent forwards to.
     *
     * @param connectTimeout TCP connect timeout to a local app; a timeout resets the stream (502)
     * @param responseTimeout time for a local app to send response headers (504 at the ingress)
     * @param idleTimeout once response headers arrived, time without a body byte either way after which
     *     the exchange is ended (the client's connection is aborted, the local connection closed); long
     *     SSE streams and slow downloads live as long as bytes keep moving
     * @param maxConnections pooled connections to each local app address, the routes to it together
     *     (HTTP/1.1 requests without a body, those with one, and h2c routes each have pools this size; a
     *     route found by DNS has one per target address); each tunnel's event loop has its own pool of {@code max-connections / tunnel-count},
     *     so a request reaches its app on the thread its tunnel runs on
     * @param websocket WebSocket passthrough to local apps
     */
    public record Local(
            @DefaultValue("5s") Duration connectTimeout,
            @DefaultValue("60s") Duration responseTimeout,
            @DefaultValue("5m") Duration idleTimeout,
            @DefaultValue("500") int maxConnections,
            @DefaultValue Websocket websocket) {
        public Local {
            positive("agent.local.connect-timeout", required("agent.local.connect-timeout", connectTimeout));
            positive("agent.local.response-timeout", required("agent.local.response-timeout", responseTimeout));
            positive("agent.local.idle-timeout", required("agent.local.idle-timeout", idleTimeout));
            between("agent.local.max-connections", maxConnections, 1, Integer.MAX_VALUE);
            required("agent.local.websocket", websocket);
        }
    }

    /**
     * DNS lookups of local targets found by DNS ({@code agent.dns.*}): HTTP and TCP route targets {@code
     * dns://name:port} (A/AAAA) and {@code dns+srv://_service._tcp.name} (SRV), with Netty's
     * non-blocking resolver.
     *
     * @param servers DNS servers as {@code ip:port} ({@code [v6]:port}); empty (the default) uses the
     *     system's ({@code /etc/resolv.conf})
     * @param minTtl answers are kept at least this long, whatever their TTL
     * @param maxTtl answers are kept at most this long, whatever their TTL: a changed record is seen
     *     within this time
     */
    public record Dns(
            @DefaultValue List<String> servers,
            @DefaultValue("1s") Duration minTtl,
            @DefaultValue("60s") Duration maxTtl) {
        public static final Dns DEFAULTS = new Dns(List.of(), Duration.ofSeconds(1), Duration.ofSeconds(60));

        public Dns {
            servers = servers == null ? List.of() : List.copyOf(servers);
            for (String server : servers) {
                int colon = server.lastIndexOf(':');
                String host = colon <= 0 ? "" : server.substring(0, colon).replace("[", "").replace("]", "");
                if (colon <= 0 || !server.substring(colon + 1).matches("[0-9]{1,5}")
                        || !io.netty.util.NetUtil.isValidIpV4Address(host) && !io.netty.util.NetUtil.isValidIpV6Address(host)) {
                    throw new IllegalArgumentException(
                            "agent.dns.servers: " + server + " (expected: ip:port, e.g. 10.0.0.2:53)");
                }
            }
            minTtl = minTtl == null ? Duration.ofSeconds(1) : minTtl;
            maxTtl = maxTtl == null ? Duration.ofSeconds(60) : maxTtl;
            if (minTtl.isNegative() || maxTtl.compareTo(minTtl) < 0 || maxTtl.isZero()) {
                throw new IllegalArgumentException("agent.dns.max-ttl: " + maxTtl + " (expected: > 0 and >= agent.dns.min-ttl "
                        + minTtl + ")");
            }
        }
    }

    /** A fresh growth budget for one tunnel's receiving streams. */
    public WindowGrowth newWindowGrowth() {
        return new WindowGrowth(maxStreamWindow, windowGrowthBudget.toBytes());
    }

    /** The safety limits of each tunnel's session. */
    public SessionLimits sessionLimits() {
        return new SessionLimits(heartbeatMissedLimit, maxQueuedBytes.toBytes(), closeBackstop);
    }

    /**
     * WebSocket connections to local apps ({@code agent.local.websocket.*}).
     *
     * @param maxFrameBytes largest WebSocket frame payload accepted from a local app; larger frames
     *     close its socket with 1009 (messages may be larger, in several frames)
     */
    public record Websocket(@DefaultValue("16MB") DataSize maxFrameBytes) {
        public Websocket {
            required("agent.local.websocket.max-frame-bytes", maxFrameBytes);
            if ((maxFrameBytes.toBytes() < 125 || maxFrameBytes.toBytes() > Integer.MAX_VALUE)) {
                throw new IllegalArgumentException("agent.local.websocket.max-frame-bytes: " + maxFrameBytes
                        + " (expected: 125B..2GB)");
            }
        }
    }

    private static void positive(String property, Duration value) {
        if (value.isZero() || value.isNegative()) {
            throw new IllegalArgumentException(property + ": " + value + " (expected: > 0)");
        }
    }

    private static <T> T required(String property, T value) {
        if (value == null) {
            throw new IllegalArgumentException(property + ": not set (expected: a value)");
        }
        return value;
    }

    private static void between(String property, long value, long min, long max) {
        if (value < min || value > max) {
            String expected = max == Integer.MAX_VALUE ? ">= " + min : min + ".." + max;
            throw new IllegalArgumentException(property + ": " + value + " (expected: " + expected + ")");
        }
    }

    /**
     * Reconnect backoff: exponential with full jitter between the two bounds.
     *
     * @param minBackoff first delay before redialling a lost tunnel
     * @param maxBackoff delay cap
     * @param stableAfter a tunnel up this long resets the backoff to the minimum
     */
    public record Reconnect(
            @DefaultValue("500ms") Duration minBackoff,
            @DefaultValue("30s") Duration maxBackoff,
            @DefaultValue("30s") Duration stableAfter) {
        public Reconnect {
            required("agent.reconnect.min-backoff", minBackoff);
            required("agent.reconnect.max-backoff", maxBackoff);
            required("agent.reconnect.stable-after", stableAfter);
            if (maxBackoff.compareTo(minBackoff) < 0) {
                throw new IllegalArgumentException("agent.reconnect.max-backoff: " + maxBackoff
                        + " (expected: >= agent.reconnect.min-backoff " + minBackoff + ")");
            }
        }
    }

    /**
     * Spreading the tunnels over ingress replicas ({@code agent.spread.*}): with several tunnels and
     * an ingress that says it has several replicas, a tunnel that landed on a replica another tunnel
     * of this agent already holds dials a replacement, and drains the duplicate once the replacement
     * reached another replica.
     *
     * @param enabled move tunnels that share an ingress replica; off keeps every tunnel where the load
     *     balancer put it
     * @param maxRedials replacements one tunnel dials (each after a reconnect backoff delay) before it
     *     keeps the replica it has
     */
    public record Spread(@DefaultValue("true") boolean enabled, @DefaultValue("4") int maxRedials) {
        public Spread {
            between("agent.spread.max-redials", maxRedials, 0, 32);
        }
    }

    private static String defaultId() {
        String fromEnv = System.getenv("HOSTNAME");
        if (fromEnv != null && !fromEnv.isBlank()) {
            return fromEnv;
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "edge-agent";
        }
    }
}
