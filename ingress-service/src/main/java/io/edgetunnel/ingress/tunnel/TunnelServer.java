package io.edgetunnel.ingress.tunnel;

import io.edgetunnel.ingress.cluster.ReplicaInfo;
import io.edgetunnel.ingress.config.TunnelProperties;
import io.edgetunnel.ingress.metrics.IngressMetrics;
import io.edgetunnel.ingress.registry.AgentRegistry;
import io.edgetunnel.ingress.config.PreAuthProperties;
import io.edgetunnel.ingress.security.AgentAuthenticator;
import io.edgetunnel.ingress.security.HelloSource;
import io.edgetunnel.ingress.security.VerificationPool;
import io.edgetunnel.ingress.security.policy.HostPolicyProperties;
import io.edgetunnel.ingress.security.policy.TrustedProxies;
import io.edgetunnel.ingress.security.policy.TrustedProxiesProperties;
import io.edgetunnel.protocol.RejectReason;
import io.edgetunnel.protocol.CloseCode;
import io.edgetunnel.protocol.ProtocolException;
import io.edgetunnel.protocol.session.TunnelConnection;
import io.edgetunnel.protocol.ConnectionNonce;
import io.edgetunnel.protocol.FrameCodec;
import io.edgetunnel.protocol.ProtocolLimits;
import io.edgetunnel.protocol.websocket.FrameCumulation;
import io.edgetunnel.protocol.websocket.TunnelFrameEncoder;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.ApplicationContext;
import org.springframework.context.ApplicationListener;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.http.client.ReactorResourceFactory;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;
import reactor.netty.DisposableServer;
import reactor.netty.http.HttpResources;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.http.server.WebsocketServerSpec;
import reactor.netty.http.websocket.WebsocketInbound;
import reactor.netty.http.websocket.WebsocketOutbound;
import reactor.netty.resources.LoopResources;

/**
 * The agent-facing WebSocket listener ({@code ingress.tunnel.port}, path {@code ingress.tunnel.path}),
 * a raw Reactor Netty server next to the public WebFlux one.
 *
 * <p>Stopping: as the context starts closing, readiness goes DOWN and every tunnel gets a Drain (no
 * new streams; agents reconnect elsewhere) while public requests in flight keep their tunnels; after
 * the public server's graceful shutdown, remaining streams get up to {@code drain-timeout} to finish,
 * then every tunnel is closed with 1001 (going away).
 */
@Component
public final class TunnelServer implements SmartLifecycle, ApplicationListener<ContextClosedEvent> {

    private static final Logger log = LoggerFactory.getLogger(TunnelServer.class);

    /**
     * Slack above the tunnel frame limit that the WebSocket layer lets through, so that a slightly
     * oversized frame reaches the codec and gets the specific close code (4001) instead of 1009.
     */
    private static final int WEBSOCKET_SLACK_BYTES = 64 * 1024;

    /** Room for a hello's framing on top of {@code ingress.policy.max-hello-bytes} of strings. */
    private static final int HELLO_FRAMING_BYTES = 8 * 1024;

    private final TunnelProperties properties;
    private final AgentRegistry registry;
    private final AgentAuthenticator authenticator;
    private final IngressMetrics metrics;
    private final ReplicaInfo replica;
    private final ApplicationContext context;
    private final ObjectProvider<ReactorResourceFactory> resources;
    private final PreAuthProperties preAuth;
    private final PreAuthSlots slots;
    private final VerificationPool verificationPool;
    private final TrustedProxies proxies;
    private final int helloMessageLimit;
    private final FrameCodec codec;
    private final Set<TunnelSession> sessions = ConcurrentHashMap.newKeySet();
    private final AtomicReference<DisposableServer> server = new AtomicReference<>();
    private volatile boolean shuttingDown;

    public TunnelServer(
            TunnelProperties properties,
            AgentRegistry registry,
            AgentAuthenticator authenticator,
            IngressMetrics metrics,
            ReplicaInfo replica,
            ApplicationContext context,
            ObjectProvider<ReactorResourceFactory> resources,
            PreAuthProperties preAuth,
            VerificationPool verificationPool,
            TrustedProxiesProperties proxies,
            HostPolicyProperties policy) {
        this.properties = properties;
        this.registry = registry;
        this.authenticator = authenticator;
        this.metrics = metrics;
        this.replica = replica;
        this.context = context;
        this.resources = resources;
        this.preAuth = preAuth;
        this.slots = new PreAuthSlots(preAuth.maxConnections(), preAuth.maxConnectionsPerSource());
        this.verificationPool = verificationPool;
        this.proxies = TrustedProxies.of(proxies.trustedProxies());
        // a hello's strings plus its framing (lengths, counts, the frame header)
        this.helloMessageLimit = Math.min(properties.maxFrameBytes(), policy.maxHelloBytes() + HELLO_FRAMING_BYTES);
        ProtocolLimits defaults = ProtocolLimits.DEFAULTS;
        this.codec = new FrameCodec(new ProtocolLimits(
                properties.maxFrameBytes(),
                defaults.maxHeaderCount(),
                defaults.maxHeaderBytes(),
                Math.max(defaults.maxRoutes(), properties.maxRoutesPerAgent()),
                defaults.maxStringBytes()));
    }

    /** The bound port (useful with port 0); -1 before start. */
    public int port() {
        DisposableServer current = server.get();
        return current == null ? -1 : current.port();
    }

    /** Connections that have not authenticated yet (they hold a pre-authentication slot). */
    int unauthenticatedConnections() {
        return slots.unauthenticated();
    }

    public FrameCodec codec() {
        return codec;
    }

    /** The tunnel port's loops, once started. */
    private volatile BalancedTunnelLoops tunnelLoops;

    /** Connections accepted on the tunnel port and still open, per event loop (empty before start). */
    int[] openConnectionsPerLoop() {
        BalancedTunnelLoops loops = tunnelLoops;
        return loops == null ? new int[0] : loops.openPerLoop();
    }

    @Override
    public void start() {
        ConnectionNonce.warmUp();
        int limit = properties.maxFrameBytes() + WEBSOCKET_SLACK_BYTES;
        // the same event loops as the public server, so both live and die with this context's resources,
        // with each tunnel on the loop holding the fewest
        ReactorResourceFactory factory = resources.getIfAvailable();
        LoopResources loops = factory != null && factory.getLoopResources() != null
                ? factory.getLoopResources() : HttpResources.get();
        BalancedTunnelLoops balanced = new BalancedTunnelLoops(loops);
        tunnelLoops = balanced;
        HttpServer http = HttpServer.create().runOn(balanced);
        WebsocketServerSpec spec = WebsocketServerSpec.builder().maxFramePayloadLength(limit).build();
        if (properties.address() != null) {
            http = http.host(properties.address());
        }
        DisposableServer bound = http.port(properties.port())
                .route(routes -> routes.get(properties.path(), (request, response) -> admit(request, response, spec)))
                .bindNow();
        server.set(bound);
        boolean restarted = shuttingDown;
        shuttingDown = false;
        if (restarted) {
            // started again after a stop (Spring's lifecycle pause and restart, as the test context
            // cache does when it switches contexts): the drain said REFUSING_TRAFFIC, so take it back,
            // or readiness and every drain listener (public WebSockets, the cluster directory) would
            // stay in draining mode on a serving ingress
            AvailabilityChangeEvent.publish(context, ReadinessState.ACCEPTING_TRAFFIC);
        }
        log.info("Tunnel endpoint listening on {}:{} at {}", properties.address() == null ? "*" : properties.address(),
                bound.port(), properties.path());
    }

    /**
     * Before the WebSocket handshake: a source past its share of unauthenticated connections gets
     * 429; past the total, 503. (A source backing off after failed hellos is answered RATE_LIMITED
     * to its hello, which costs no verification.) The source is
     * the peer, or behind a trusted proxy the address that proxy appended to {@code X-Forwarded-For}
     * (its last entry, over every header line: earlier entries are the client's own claims).
     */
    private Publisher<Void> admit(HttpServerRequest request, HttpServerResponse response, WebsocketServerSpec spec) {
        // (isWebsocket() only turns true once upgraded; this is the request's own claim)
        if (!request.requestHeaders().containsValue("Upgrade", "websocket", true)) {
            return refuse(response, 400, "expected a WebSocket upgrade", 0);
        }
        String forwardedFor = request.requestHeaders().getAll("X-Forwarded-For").isEmpty() ? null
                : String.join(",", request.requestHeaders().getAll("X-Forwarded-For"));
        // a fresh nonce per connection, sent in the handshake: the agent's identity proof signs it,
        // so a proof is good for this connection only
        String nonce = ConnectionNonce.next();
        HelloSource source = new HelloSource(describe(request.remoteAddress()), forwardedFor, nonce);
        PreAuthSlots.Admission admission = slots.tryAcquire(proxies.sourceOf(source));
        if (admission.slot() == null) {
            boolean total = admission.refusal() == PreAuthSlots.Refusal.TOTAL;
            metrics.registrationRejected(RejectReason.RATE_LIMITED);
            return refuse(response, total ? 503 : 429, total
                    ? "too many unauthenticated tunnel connections (ingress.tunnel.pre-auth.max-connections)"
                    : "too many unauthenticated tunnel connections from this source "
                            + "(ingress.tunnel.pre-auth.max-connections-per-source)", 1);
        }
        PreAuthConnection connection = new PreAuthConnection(source, admission.slot(), authenticator, verificationPool,
                preAuth.authTimeout(), helloMessageLimit);
        // given back on Accept, or when the connection closes, whatever became of the handshake
        request.withConnection(c -> c.onDispose(connection::release));
        return response.header(ConnectionNonce.HEADER, nonce).sendWebsocket((in, out) -> handle(in, out, connection), spec)
                .doOnError(error -> connection.release());
    }

    private static Mono<Void> refuse(HttpServerResponse response, int status, String why, long retryAfterSeconds) {
        if (retryAfterSeconds > 0) {
            response.header("Retry-After", Long.toString(retryAfterSeconds));
        }
        return response.status(status)
                .header("Content-Type", "text/plain; charset=utf-8")
                .sendString(Mono.just(why + "\n"))
                .then();
    }

    private Publisher<Void> handle(WebsocketInbound in, WebsocketOutbound out, PreAuthConnection preAuth) {
        AtomicReference<Connection> connection = new AtomicReference<>();
        in.withConnection(c -> {
            connection.set(c);
            TunnelFrameEncoder.install(c.channel(), false);
            FrameCumulation.install(c.channel());
        });
        String remote = describe(connection.get() == null ? null : connection.get().channel().remoteAddress());
        ByteBufAllocator alloc = out.alloc();
        TunnelSession session = new TunnelSession(
                remote, preAuth, properties, codec, alloc, registry, metrics, replica,
                () -> shuttingDown,
                () -> {
                    Connection c = connection.get();
                    if (c != null) {
                        c.dispose();
                    }
                },
                connection.get() == null ? null : connection.get().channel().eventLoop());
        sessions.add(session);
        int limit = properties.maxFrameBytes() + WEBSOCKET_SLACK_BYTES;

        TunnelConnection tunnel = session.connection();
        Mono<Void> outbound = Mono.from(out.sendObject(tunnel.frames().frames().map(BinaryWebSocketFrame::new)))
                .then(Mono.defer(() -> out.sendClose(tunnel.closeCode().code(), tunnel.closeReason())))
                .onErrorResume(e -> Mono.empty());
        Mono<Void> inbound = in.aggregateFrames(limit)
                .receiveFrames()
                .doOnNext(tunnel::receive)
                .doOnError(error -> onWebSocketError(session, error))
                .onErrorResume(e -> Flux.empty())
                // count(), not then(): then() hands each frame to the context's discard hook, which
                // would release it a second time after Reactor Netty does
                .count()
                .then()
                .doFinally(signal -> {
                    preAuth.release();
                    session.onDisconnected();
                    sessions.remove(session);
                });
        // outbound first: the frame queue must have its subscriber before the hello can be answered
        return Mono.when(outbound, inbound.doOnSubscribe(s -> session.start()));
    }

    /** The WebSocket layer failed (oversized or corrupt message, reset connection). */
    private static void onWebSocketError(TunnelSession session, Throwable error) {
        if (session.connection().isClosing()) {
            return;
        }
        String message = error.getMessage() == null ? error.getClass().getSimpleName() : error.getMessage();
        if (error instanceof java.io.IOException) {
            // the connection itself failed (reset, broken pipe): a lost agent, not a protocol violation
            log.info("Tunnel {} (agent '{}', {}) lost: {}", session.sessionId(), session.agentId(),
                    session.remoteAddress(), message);
            session.close(CloseCode.GOING_AWAY, "connection lost");
            return;
        }
        CloseCode code = message.toLowerCase(java.util.Locale.ROOT).contains("too") ? CloseCode.FRAME_TOO_LARGE
                : CloseCode.PROTOCOL_ERROR;
        session.connection().fail(new ProtocolException(code, "websocket: " + message));
    }

    private static String describe(SocketAddress address) {
        if (address instanceof InetSocketAddress inet) {
            return inet.getAddress() == null ? inet.getHostString() + ":" + inet.getPort()
                    : inet.getAddress().getHostAddress() + ":" + inet.getPort();
        }
        return String.valueOf(address);
    }

    /** The context begins to close: stop advertising readiness and ask agents to drain. */
    @Override
    public void onApplicationEvent(ContextClosedEvent event) {
        if (event.getApplicationContext() == context) {
            drain("ingress shutting down");
        }
    }

    /**
     * Starts draining without stopping: readiness goes DOWN, every tunnel gets a Drain frame with
     * {@code reason} (agents re-dial elsewhere; their in-flight streams finish here) and new hellos are
     * rejected with {@code SHUTTING_DOWN}. The listener stays open until the context closes. Called
     * at shutdown, and earlier when the load balancer starts deregistering this task. Idempotent.
     *
     * @return true if this call started the drain, false if it was already draining or not started
     */
    public synchronized boolean drain(String reason) {
        if (shuttingDown || server.get() == null) {
            return false;
        }
        shuttingDown = true;
        AvailabilityChangeEvent.publish(context, ReadinessState.REFUSING_TRAFFIC);
        log.info("Draining {} tunnel(s): {}", sessions.size(), reason);
        for (TunnelSession session : sessions) {
            session.drain(reason);
        }
        return true;
    }

    /** True from the first {@link #drain} until the listener restarts. */
    public boolean draining() {
        return shuttingDown;
    }

    @Override
    public void stop() {
        drain("ingress shutting down");
        DisposableServer current = server.getAndSet(null);
        if (current == null) {
            return;
        }
        long deadline = System.nanoTime() + properties.drainTimeout().toNanos();
        // stop() runs on a lifecycle thread, never an event loop: waiting here is fine
        while (activeStreams() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        int remaining = activeStreams();
        if (remaining > 0) {
            log.warn("Drain timeout {} passed with {} stream(s) in flight; closing tunnels",
                    properties.drainTimeout(), remaining);
        }
        for (TunnelSession session : sessions) {
            session.close(CloseCode.GOING_AWAY, "ingress shutting down");
        }
        current.disposeNow(Duration.ofSeconds(5));
        log.info("Tunnel endpoint stopped");
    }

    private int activeStreams() {
        int total = 0;
        for (TunnelSession session : sessions) {
            total += session.activeStreams();
        }
        return total;
    }

    @Override
    public boolean isRunning() {
        return server.get() != null;
    }

    /**
     * Stops after the public server's graceful shutdown (phase {@code DEFAULT_PHASE - 1024}), so that
     * public requests still in flight keep their tunnels, and before the web servers are stopped.
     */
    @Override
    public int getPhase() {
        return SmartLifecycle.DEFAULT_PHASE - 1536;
    }
}
