package io.edgetunnel.ingress.tunnel;

import io.edgetunnel.ingress.cluster.ReplicaInfo;
import io.edgetunnel.ingress.config.TunnelProperties;
import io.edgetunnel.ingress.metrics.IngressMetrics;
import io.edgetunnel.ingress.registry.AgentRegistry;
import io.edgetunnel.ingress.registry.Tunnel;
import io.edgetunnel.ingress.security.AuthResult;
import io.edgetunnel.protocol.CloseCode;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.FrameCodec;
import io.edgetunnel.protocol.ProtocolException;
import io.edgetunnel.protocol.ProtocolVersion;
import io.edgetunnel.protocol.RejectReason;
import io.edgetunnel.protocol.RouteClaim;
import io.edgetunnel.protocol.session.ConnectionSide;
import io.edgetunnel.protocol.session.Role;
import io.edgetunnel.protocol.session.SessionLimits;
import io.edgetunnel.protocol.session.StreamHandler;
import io.edgetunnel.protocol.session.StreamSettings;
import io.edgetunnel.protocol.session.TunnelConnection;
import io.edgetunnel.protocol.session.TunnelStream;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ImmediateEventExecutor;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.IntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * One agent WebSocket: the hello handshake and authentication, registration and route health, on
 * a {@link TunnelConnection} in the opener role, which does the rest (frame intake, streams,
 * heartbeats, drain, close). Frames are handled on the connection's event loop, one at a time;
 * streams may be opened from any thread ({@link #openStream}).
 */
public final class TunnelSession implements Tunnel, ConnectionSide, StreamOpener {

    private static final Logger log = LoggerFactory.getLogger(TunnelSession.class);

    private enum State {
        AWAITING_HELLO,
        AUTHENTICATING,
        OPEN,
        CLOSED
    }

    private final String sessionId = Ids.random();
    private final Instant connectedSince = Instant.now();
    private final String remoteAddress;
    private final PreAuthConnection preAuth;
    private final TunnelProperties properties;
    private final FrameCodec codec;
    private final AgentRegistry registry;
    private final IngressMetrics metrics;
    private final ReplicaInfo replica;
    private final BooleanSupplier shuttingDown;
    private final EventExecutor eventLoop;
    private final TunnelConnection connection;
    private final RouteHealthSet routeHealth = new RouteHealthSet();

    private volatile State state = State.AWAITING_HELLO;
    private volatile String agentId = "";
    private volatile List<RouteClaim> routes = List.of();
    private volatile Disposable helloTimer;
    private volatile boolean registered;
    private volatile String identity = "";
    private volatile String verifiedBy = "";
    private volatile String selfCheck = "";
    private volatile String agentVersion = "";
    private volatile int protocolVersion;

    TunnelSession(
            String remoteAddress,
            PreAuthConnection preAuth,
            TunnelProperties properties,
            FrameCodec codec,
            ByteBufAllocator alloc,
            AgentRegistry registry,
            IngressMetrics metrics,
            ReplicaInfo replica,
            BooleanSupplier shuttingDown,
            Runnable forceClose,
            EventExecutor eventLoop) {
        this.remoteAddress = remoteAddress;
        this.eventLoop = eventLoop;
        this.preAuth = preAuth;
        this.properties = properties;
        this.codec = codec;
        this.registry = registry;
        this.metrics = metrics;
        this.replica = replica;
        this.shuttingDown = shuttingDown;
        this.connection = new TunnelConnection(Role.OPENER, "Tunnel " + sessionId, codec, alloc,
                eventLoop != null ? eventLoop : ImmediateEventExecutor.INSTANCE,
                new SessionLimits(properties.heartbeatMissedLimit(), properties.maxQueuedBytes().toBytes(),
                        properties.closeBackstop()),
                this, forceClose);
    }

    /** Starts the hello timer; call once the outbound frame flux is subscribed. */
    void start() {
        Duration timeout = properties.helloTimeout();
        helloTimer = Mono.delay(timeout)
                .subscribe(tick -> {
                    if (state == State.AWAITING_HELLO) {
                        connection.fail(new ProtocolException(CloseCode.HELLO_TIMEOUT, "no hello within " + timeout));
                    }
                });
    }

    /** The session's connection: its outbound frames, its close code and reason. */
    TunnelConnection connection() {
        return connection;
    }

    // ------------------------------------------------------------------ inbound

    /** The connection went away (peer close or network). */
    void onDisconnected() {
        if (!connection.isClosing()) {
            log.info("Tunnel {} (agent '{}', {}) disconnected", sessionId, agentId, remoteAddress);
            close(CloseCode.GOING_AWAY, "connection closed");
        }
    }

    @Override
    public void checkInbound(int bytes) {
        preAuth.checkSize(bytes);
    }

    @Override
    public void onProtocolError(ProtocolException e) {
        preAuth.failed(); // a hello timeout or protocol error before authentication counts as a failed hello
        log.warn("Tunnel {} (agent '{}', {}) closed with {}: {}", sessionId, agentId, remoteAddress,
                e.closeCode(), e.getMessage());
    }

    @Override
    public void onHandshake(Frame frame) {
        if (frame instanceof Frame.Data data) {
            data.content().release(); // nothing takes DATA before the tunnel is open
        }
        State current = state;
        if (current == State.AWAITING_HELLO) {
            if (frame instanceof Frame.Hello hello) {
                onHello(hello);
                return;
            }
            throw new ProtocolException(CloseCode.PROTOCOL_ERROR, frame.getClass().getSimpleName()
                    + " before hello (expected: Hello)");
        }
        if (frame instanceof Frame.Ping ping) {
            connection.answerPing(ping.payload());
            return;
        }
        if (current == State.CLOSED) {
            return;
        }
        throw new ProtocolException(CloseCode.PROTOCOL_ERROR, frame.getClass().getSimpleName()
                + " before accept (expected: nothing until Accept)");
    }

    @Override
    public void onControl(Frame frame) {
        if (frame instanceof Frame.RouteHealth health) {
            routeHealth.update(health, routes, this);
            return;
        }
        throw new ProtocolException(CloseCode.PROTOCOL_ERROR,
                frame.getClass().getSimpleName() + " from agent on an open tunnel (expected: stream frames)");
    }

    @Override
    public void onPeerDrain(String reason, boolean wasDraining) {
        log.info("Tunnel {} (agent '{}') draining: {}", sessionId, agentId, LogText.clip(reason));
    }

    @Override
    public void onStreamCount(int delta) {
        metrics.activeStreams().addAndGet(delta);
    }

    // ------------------------------------------------------------------ handshake

    private void onHello(Frame.Hello hello) {
        state = State.AUTHENTICATING;
        Disposable timer = helloTimer;
        if (timer != null) {
            timer.dispose();
        }
        agentId = LogText.clip(hello.agentId(), 128);
        new HelloHandshake(this, properties, preAuth, shuttingDown).verify(hello);
    }

    /** The hello passed its checks and authentication. */
    void authenticated(AuthResult result, Frame.Hello hello, int version) {
        if (result instanceof AuthResult.Authenticated authenticated) {
            identity = authenticated.principal();
            verifiedBy = authenticated.method();
        }
        selfCheck = LogText.clip(hello.attributes().getOrDefault("identity.verified", ""));
        agentVersion = LogText.clip(hello.attributes().getOrDefault("agent.version", ""));
        protocolVersion = version;
        accept(version, hello);
    }

    private void accept(int version, Frame.Hello hello) {
        if (connection.isClosing()) {
            return;
        }
        routes = List.copyOf(new java.util.LinkedHashSet<>(hello.routes()));
        preAuth.authenticated();
        // open before the Accept goes out: what the agent sends once it has it finds an open tunnel
        connection.open(
                properties.heartbeatInterval(),
                new StreamSettings(properties.initialStreamWindow(), codec.limits().maxDataPayload(),
                        properties.newWindowGrowth(), metrics.bufferedBytes()),
                properties.maxConcurrentStreams());
        // registered before the Accept goes out, so an agent that has it finds itself registered
        registry.register(this);
        registered = true;
        if (connection.isClosing()) {
            registry.unregister(this); // closed while registering: make sure it does not linger
            return;
        }
        metrics.registrationAccepted();
        // read at accept time: the cluster view changes as replicas come and go
        boolean replicaFields = version >= ProtocolVersion.REPLICA_IN_ACCEPT;
        connection.send(new Frame.Accept(
                version,
                sessionId,
                properties.maxFrameBytes(),
                properties.initialStreamWindow(),
                properties.maxConcurrentStreams(),
                (int) Math.min(Integer.MAX_VALUE, properties.heartbeatInterval().toMillis()),
                replicaFields ? replica.replicaId() : "",
                replicaFields ? Math.max(1, replica.replicaCount()) : 1));
        if (!connection.isClosing()) {
            state = State.OPEN; // streams open from now on, behind the Accept
        }
        log.info("Tunnel {} accepted: agent '{}' from {} claims {}", sessionId, agentId, remoteAddress, routes);
    }

    void reject(RejectReason reason, String message) {
        if (reason != RejectReason.SHUTTING_DOWN) {
            preAuth.failed(); // no-op when the authenticator counted it
        }
        metrics.registrationRejected(reason, agentId, remoteAddress, message);
        log.warn("Tunnel {} rejected: agent '{}' from {}: {} ({})", sessionId, agentId, remoteAddress, reason,
                message);
        connection.send(new Frame.Reject(reason, message));
        close(CloseCode.REJECTED, reason.name());
    }

    // ------------------------------------------------------------------ streams

    /**
     * Opens a stream whose REQUEST {@code request} builds from its id, handled by what {@code handler}
     * makes for it; null when the tunnel takes none now ({@link TunnelConnection#openStream}). */
    @Override
    public TunnelStream openStream(IntFunction<Frame.Request> request, Function<TunnelStream, StreamHandler> handler) {
        return state == State.OPEN ? connection.openStream(request, handler) : null;
    }

    /** Server-side drain: no new streams here; the agent is told so it can reconnect elsewhere. */
    void drain(String reason) {
        if (state == State.OPEN) {
            connection.drain(reason);
        }
    }

    /**
     * Closes the tunnel: leaves the registry first (so no request picks it any more), then fails
     * its streams; queued frames are flushed and the WebSocket closed with {@code code}.
     */
    public void close(CloseCode code, String reason) {
        connection.close(code, reason);
    }

    @Override
    public void onClose(CloseCode code, String reason) {
        state = State.CLOSED;
        if (registered) {
            registry.unregister(this);
        }
        Disposable timer = helloTimer;
        if (timer != null) {
            timer.dispose();
        }
    }

    // ------------------------------------------------------------------ Tunnel

    @Override
    public String agentId() {
        return agentId;
    }

    @Override
    public String sessionId() {
        return sessionId;
    }

    @Override
    public List<RouteClaim> routes() {
        return routes;
    }

    @Override
    public boolean canAccept(RouteClaim route) {
        return state == State.OPEN
                && connection.isOpen()
                && !connection.isDraining()
                && connection.activeStreams() < properties.maxConcurrentStreams()
                && routeHealth.healthy(route);
    }

    /** The event loop the tunnel's connection runs on. */
    EventExecutor eventLoop() {
        return eventLoop;
    }

    @Override
    public boolean onCurrentEventLoop() {
        return eventLoop != null && eventLoop.inEventLoop();
    }

    @Override
    public boolean isOpen() {
        return state == State.OPEN;
    }

    @Override
    public boolean isDraining() {
        return connection.isDraining();
    }

    @Override
    public Set<RouteClaim> unhealthyRoutes() {
        return routeHealth.unhealthy();
    }

    @Override
    public int activeStreams() {
        return connection.activeStreams();
    }

    @Override
    public String identity() {
        return identity.isEmpty() ? agentId : identity;
    }

    @Override
    public String verifiedBy() {
        return verifiedBy;
    }

    @Override
    public String selfCheck() {
        return selfCheck;
    }

    @Override
    public String agentVersion() {
        return agentVersion;
    }

    @Override
    public int protocolVersion() {
        return protocolVersion;
    }

    @Override
    public long roundTripMicros() {
        return connection.roundTripNanos() / 1000;
    }

    @Override
    public String remoteAddress() {
        return remoteAddress;
    }

    @Override
    public Instant connectedSince() {
        return connectedSince;
    }

    @Override
    public String toString() {
        return "Tunnel[" + sessionId + ", agent=" + agentId + ", " + remoteAddress + "]";
    }
}
