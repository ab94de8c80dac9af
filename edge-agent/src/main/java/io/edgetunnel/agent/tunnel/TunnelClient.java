package io.edgetunnel.agent.tunnel;

import io.edgetunnel.agent.EdgeAgentApplication;
import io.edgetunnel.agent.config.AgentProperties;
import io.edgetunnel.agent.config.Route;
import io.edgetunnel.agent.proxy.LocalAppForwarder;
import io.edgetunnel.agent.tcp.ReadBuffers;
import io.edgetunnel.protocol.CloseCode;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.FrameCodec;
import io.edgetunnel.protocol.ProtocolLimits;
import io.edgetunnel.protocol.ProtocolVersion;
import io.edgetunnel.protocol.RouteClaim;
import io.edgetunnel.protocol.websocket.FrameCumulation;
import io.edgetunnel.protocol.websocket.TunnelFrameEncoder;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.EventExecutor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.client.WebsocketClientSpec;
import reactor.netty.resources.ConnectionProvider;

/**
 * Keeps {@code agent.tunnel-count} independent tunnels to the ingress: each dials, says hello, and
 * once accepted serves streams until the connection ends, then reconnects with exponential backoff
 * and full jitter, for ever. A rejected hello is retried the same way (an operator may fix the
 * token); a failed first connection never stops the agent. Tunnels that the load balancer put on
 * the same ingress replica move until they reach distinct replicas ({@link TunnelSlot},
 * {@link ReplicaSpread}).
 */
public final class TunnelClient {

    private static final Logger log = LoggerFactory.getLogger(TunnelClient.class);

    /** After the drain, how long closing tunnels may take to finish their close handshake. */
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(2);

    final AgentProperties properties;
    private final LocalAppForwarder forwarder;
    private final FrameCodec codec;
    private final Map<String, Route> routes;
    private final List<RouteClaim> claims;
    final TunnelCredentials credentials;
    private final RouteHealthSource health;
    final Backoff backoff;
    final ReplicaSpread spread;
    final TunnelMetrics metrics;
    /** One client per tunnel slot, each bound to the slot's event loop ({@link TunnelLoops}). */
    private final List<HttpClient.WebsocketSender> clients = new ArrayList<>();
    private final boolean zeroMask;
    private final List<TunnelSlot> slots = new ArrayList<>();
    private final AtomicBoolean started = new AtomicBoolean();
    volatile boolean stopping;

    public TunnelClient(AgentProperties properties, LocalAppForwarder forwarder, MeterRegistry meters) {
        this(properties, forwarder, meters, TunnelCredentials.token(properties.token()));
    }

    public TunnelClient(
            AgentProperties properties,
            LocalAppForwarder forwarder,
            MeterRegistry meters,
            TunnelCredentials credentials) {
        this(properties, forwarder, meters, credentials, RouteHealthSource.ALWAYS_HEALTHY);
    }

    /** @param health local health of the routes, reported to the ingress on every tunnel */
    public TunnelClient(
            AgentProperties properties,
            LocalAppForwarder forwarder,
            MeterRegistry meters,
            TunnelCredentials credentials,
            RouteHealthSource health) {
        this.credentials = Objects.requireNonNull(credentials, "credentials");
        this.health = Objects.requireNonNull(health, "health");
        this.properties = Objects.requireNonNull(properties, "properties");
        this.forwarder = Objects.requireNonNull(forwarder, "forwarder");
        ProtocolLimits defaults = ProtocolLimits.DEFAULTS;
        this.codec = new FrameCodec(new ProtocolLimits(
                properties.maxFrameBytes(),
                defaults.maxHeaderCount(),
                defaults.maxHeaderBytes(),
                defaults.maxRoutes(),
                defaults.maxStringBytes()));
        Map<String, Route> byClaim = new LinkedHashMap<>();
        List<RouteClaim> claims = new ArrayList<>();
        for (Route route : properties.allRoutes()) {
            byClaim.put(StreamAdmission.routeKey(route.host(), route.pathPrefix()), route);
            claims.add(route.claim());
        }
        this.routes = Map.copyOf(byClaim);
        this.claims = List.copyOf(claims);
        this.backoff = new Backoff(properties.reconnect().minBackoff(), properties.reconnect().maxBackoff());
        this.spread = new ReplicaSpread(
                properties.tunnelCount(), properties.spread().enabled(), properties.spread().maxRedials());
        this.metrics = new TunnelMetrics(meters, this::connectedTunnels, this::queuedBytes, spread::distinctReplicas);
        HttpClient base = HttpClient.create(ConnectionProvider.newConnection())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) properties.connectTimeout().toMillis())
                // window updates and pings are tiny: Nagle plus delayed ACKs would stall every window
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.RCVBUF_ALLOCATOR, ReadBuffers.forSockets())
                .headers(h -> h.set("User-Agent", "edge-agent/" + agentVersion()));
        WebsocketClientSpec spec = WebsocketClientSpec.builder()
                .maxFramePayloadLength(properties.maxFrameBytes())
                .handlePing(false)
                .build();
        this.zeroMask = properties.frameMasking().zeroKeyFor(properties.ingressUri());
        TunnelLoops loops = TunnelLoops.ofDefaultClients();
        for (int i = 0; i < properties.tunnelCount(); i++) {
            EventLoop loop = loops.forTunnel(i);
            clients.add((loop == null ? base : base.runOn(loop)).websocket(spec));
            slots.add(new TunnelSlot(this, i));
        }
    }

    /** A session for one connection attempt of {@code slot}; not yet connected. */
    TunnelSession newSession(String name, SessionListener slot) {
        return new TunnelSession(
                name, this::hello, codec, routes, health, forwarder, metrics, slot, properties.newWindowGrowth(), properties.sessionLimits());
    }

    /** Dials the ingress for tunnel {@code index} and runs {@code session} on the connection until it ends. */
    Mono<Void> connection(int index, TunnelSession session) {
        return clients.get(index).uri(properties.ingressUri())
                .handle((in, out) -> {
                    in.withConnection(c -> {
                        if (zeroMask) {
                            TunnelFrameEncoder.install(c.channel(), true);
                        }
                        FrameCumulation.install(c.channel());
                    });
                    return session.handle(in, out);
                })
                .then();
    }

    /** A hello with fresh credentials, built when a connection is up and its nonce known. */
    private Mono<Frame.Hello> hello(String nonce) {
        return credentials.next(nonce).map(c -> {
            Map<String, String> attributes = new LinkedHashMap<>(c.attributes());
            attributes.put("agent.version", agentVersion());
            return new Frame.Hello(
                    ProtocolVersion.MIN,
                    ProtocolVersion.MAX,
                    properties.id(),
                    c.token(),
                    c.identityProof(),
                    claims,
                    attributes);
        });
    }

    /** Starts every tunnel; returns at once (connecting happens in the background). */
    public void start() {
        if (started.compareAndSet(false, true)) {
            stopping = false;
            log.info(
                    "agent {} connecting {} tunnel(s) to {} for routes {} (frames masked with {} key)",
                    properties.id(),
                    slots.size(),
                    properties.ingressUri(),
                    properties.allRoutes(),
                    zeroMask ? "the zero" : "a random");
            slots.forEach(TunnelSlot::connect);
        }
    }

    /**
     * Graceful stop: no reconnects, drain announced on every tunnel, in-flight streams given up to
     * {@code drainTimeout}, then every tunnel closed with 1001.
     */
    public Mono<Void> stop(Duration drainTimeout) {
        return Mono.defer(() -> {
            if (!started.compareAndSet(true, false)) {
                return Mono.empty();
            }
            stopping = true;
            slots.forEach(TunnelSlot::cancelRetry);
            slots.forEach(slot -> slot.drain("agent shutting down"));
            return Flux.interval(Duration.ofMillis(25))
                    .filter(tick -> activeStreams() == 0 && slots.stream().allMatch(TunnelSlot::drainSettled))
                    .next()
                    .timeout(drainTimeout, Mono.just(-1L))
                    .doOnNext(tick -> {
                        if (tick < 0) {
                            log.warn("drain timeout {} passed with {} streams in flight; closing", drainTimeout, activeStreams());
                        }
                    })
                    .then(Mono.fromRunnable(() -> slots.forEach(slot -> slot.close(CloseCode.GOING_AWAY, "agent stopped"))))
                    .then(Flux.interval(Duration.ofMillis(25))
                            .filter(tick -> slots.stream().allMatch(TunnelSlot::isIdle))
                            .next()
                            .timeout(CLOSE_WAIT, Mono.just(-1L)))
                    .doFinally(signal -> slots.forEach(TunnelSlot::dispose))
                    .then();
        });
    }

    /**
     * The local health of {@code route} changed: every open tunnel tells the ingress (ROUTE_HEALTH),
     * which stops or resumes routing it here without a reconnect.
     */
    public void routeHealthChanged(Route route) {
        for (TunnelSlot slot : slots) {
            slot.live.forEach(session -> session.announceHealth(route));
        }
    }

    /** Tunnels registered with the ingress and not draining; readiness is UP while this is > 0. */
    public int connectedTunnels() {
        int count = 0;
        for (TunnelSlot slot : slots) {
            if (slot.isRegistered()) {
                count++;
            }
        }
        return count;
    }

    /** The event loops the registered tunnels run on, in slot order. */
    List<EventExecutor> tunnelLoops() {
        List<EventExecutor> loops = new ArrayList<>();
        for (TunnelSlot slot : slots) {
            EventExecutor loop = slot.eventLoop();
            if (loop != null) {
                loops.add(loop);
            }
        }
        return loops;
    }

    /**
     * The ingress replica each registered tunnel reached, by tunnel name (empty when the ingress did
     * not name it); tunnels not registered are left out.
     */
    public Map<String, String> tunnelReplicas() {
        Map<String, String> replicas = new LinkedHashMap<>();
        for (TunnelSlot slot : slots) {
            if (slot.isRegistered()) {
                replicas.put(slot.name(), slot.replica());
            }
        }
        return replicas;
    }

    /** Distinct ingress replicas the tunnels reached (the {@code tunnel.agent.replicas} gauge). */
    public int distinctReplicas() {
        return spread.distinctReplicas();
    }

    public int activeStreams() {
        return metrics.activeStreams();
    }

    /** Request body bytes held in stream buffers, waiting for a local app to read them. */
    public long bufferedBytes() {
        return metrics.bufferedBytes().sum();
    }

    /** Encoded frames waiting for the WebSocket writers, over every tunnel. */
    public long queuedBytes() {
        long total = 0;
        for (TunnelSlot slot : slots) {
            total += slot.queuedBytes();
        }
        return total;
    }

    public boolean isRunning() {
        return started.get();
    }

    private static String agentVersion() {
        String version = EdgeAgentApplication.class.getPackage().getImplementationVersion();
        return version == null ? "dev" : version;
    }
}
