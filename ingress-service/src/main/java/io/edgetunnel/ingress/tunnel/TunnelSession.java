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
import io.edgetunnel.protocol.stream.Heartbeat;
import io.edgetunnel.protocol.stream.OutboundFrames;
import io.edgetunnel.protocol.stream.WindowGrowth;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.concurrent.EventExecutor;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * One agent WebSocket: the hello handshake, then frame dispatch to streams, heartbeats, drain and
 * route health. Frames are handled on the connection's event loop, one at a time; streams may be
 * opened and frames sent from any thread.
 */
public final class TunnelSession implements Tunnel {

    private static final Logger log = LoggerFactory.getLogger(TunnelSession.class);

    /** WebSocket close reasons are limited to 123 bytes of UTF-8. */
    private static final int MAX_CLOSE_REASON_BYTES = 120;

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
    private final Runnable forceClose;
    private final EventExecutor eventLoop;
    private final WindowGrowth windowGrowth;

    private final OutboundFrames frames;
    private final Heartbeat heartbeat;
    private final Map<Integer, StreamListener> streams = new ConcurrentHashMap<>();
    private final AtomicInteger nextStreamId = new AtomicInteger(1);
    private final AtomicInteger activeStreams = new AtomicInteger();
    private final Set<RouteClaim> unhealthy = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean closed = new AtomicBoolean();
    /**
     * Orders stream opening against the agent's Drain: a stream is opened (on a public event loop)
     * before its REQUEST is queued, so an agent's drain barrier (the Ping it sends after Drain) is only
     * answered once every stream opened before the Drain has its REQUEST queued ahead of the Pong.
     * Otherwise the agent could see the Pong, find no streams, close, and a REQUEST would be lost.
     */
    private final Object streamGate = new Object();
    /** Streams opened whose REQUEST is not queued yet; guarded by {@link #streamGate}. */
    private final Set<Integer> unannounced = new HashSet<>();
    /** Pongs and our own Drain held back until {@link #unannounced} empties; guarded by {@link #streamGate}. */
    private final List<Frame> heldFrames = new ArrayList<>(1);

    private volatile State state = State.AWAITING_HELLO;
    private volatile boolean draining;
    private volatile String agentId = "";
    private volatile List<RouteClaim> routes = List.of();
    private volatile Disposable helloTimer;
    private volatile CloseCode closeCode = CloseCode.NORMAL;
    private volatile String closeReason = "";
    private volatile boolean registered;
    private volatile String identity = "";
    private volatile String verifiedBy = "";
    private volatile String selfCheck = "";
    private volatile String agentVersion = "";
    private volatile int protocolVersion;
    /** The last heartbeat round trip (the window growth keeps the least); 0 before the first. */
    private volatile long roundTripNanos;

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
        this.windowGrowth = properties.newWindowGrowth();
        this.preAuth = preAuth;
        this.properties = properties;
        this.codec = codec;
        this.registry = registry;
        this.metrics = metrics;
        this.replica = replica;
        this.shuttingDown = shuttingDown;
        this.forceClose = forceClose;
        this.frames = new OutboundFrames(
                codec, alloc, properties.maxQueuedBytes().toBytes(), this::protocolFailure);
        this.heartbeat = new Heartbeat(
                properties.heartbeatInterval(),
                properties.heartbeatMissedLimit(),
                frames,
                () -> close(CloseCode.HEARTBEAT_TIMEOUT, "no frame from agent for "
                        + properties.heartbeatInterval().multipliedBy(properties.heartbeatMissedLimit())),
                Schedulers.parallel(),
                rtt -> {
                    roundTripNanos = rtt;
                    windowGrowth.roundTrip(rtt);
                });
    }

    /** Starts the hello timer. Call once the outbound frame flux is subscribed. */
    void start() {
        Duration timeout = properties.helloTimeout();
        helloTimer = Mono.delay(timeout)
                .subscribe(tick -> {
                    if (state == State.AWAITING_HELLO) {
                        protocolFailure(new ProtocolException(
                                CloseCode.HELLO_TIMEOUT, "no hello within " + timeout));
                    }
                });
    }

    OutboundFrames frames() {
        return frames;
    }

    CloseCode closeCode() {
        return closeCode;
    }

    String closeReason() {
        return closeReason;
    }

    // ------------------------------------------------------------------ inbound

    /** One WebSocket message from the agent. Never throws. */
    void onWebSocketFrame(WebSocketFrame message) {
        if (closed.get()) {
            return;
        }
        try {
            if (message instanceof TextWebSocketFrame) {
                throw new ProtocolException(CloseCode.PROTOCOL_ERROR, "text WebSocket message (expected: binary)");
            }
            if (!(message instanceof BinaryWebSocketFrame)) {
                return; // ping/pong/close are the WebSocket layer's business
            }
            preAuth.checkSize(message.content().readableBytes());
            onFrame(codec.decode(message.content()));
        } catch (ProtocolException e) {
            protocolFailure(e);
        } catch (RuntimeException e) {
            log.error("Tunnel {} (agent '{}', {}): internal error handling a frame", sessionId, agentId, remoteAddress,
                    e);
            close(CloseCode.INTERNAL_ERROR, "internal error");
        }
    }

    /** The WebSocket layer failed (oversized or corrupt message, reset connection). */
    void onWebSocketError(Throwable error) {
        if (closed.get()) {
            return;
        }
        String message = error.getMessage() == null ? error.getClass().getSimpleName() : error.getMessage();
        if (error instanceof java.io.IOException) {
            // the connection itself failed (reset, broken pipe): a lost agent, not a protocol violation
            log.info("Tunnel {} (agent '{}', {}) lost: {}", sessionId, agentId, remoteAddress, message);
            close(CloseCode.GOING_AWAY, "connection lost");
            return;
        }
        CloseCode code = message.toLowerCase(java.util.Locale.ROOT).contains("too") ? CloseCode.FRAME_TOO_LARGE
                : CloseCode.PROTOCOL_ERROR;
        protocolFailure(new ProtocolException(code, "websocket: " + message));
    }

    /** The connection went away (peer close or network). */
    void onDisconnected() {
        if (!closed.get()) {
            log.info("Tunnel {} (agent '{}', {}) disconnected", sessionId, agentId, remoteAddress);
            close(CloseCode.GOING_AWAY, "connection closed");
        }
    }

    private void protocolFailure(ProtocolException e) {
        if (closed.get()) {
            return;
        }
        preAuth.failed(); // a hello timeout or protocol error before authentication counts as a failed hello
        log.warn("Tunnel {} (agent '{}', {}) closed with {}: {}", sessionId, agentId, remoteAddress,
                e.closeCode(), e.getMessage());
        close(e.closeCode(), e.getMessage());
    }

    private void onFrame(Frame frame) {
        heartbeat.onFrameReceived();
        State current = state;
        if (current == State.AWAITING_HELLO) {
            if (frame instanceof Frame.Hello hello) {
                onHello(hello);
                return;
            }
            release(frame);
            throw new ProtocolException(CloseCode.PROTOCOL_ERROR, frame.getClass().getSimpleName()
                    + " before hello (expected: Hello)");
        }
        if (frame instanceof Frame.Ping ping) {
            answerPing(ping.payload());
            return;
        }
        if (current != State.OPEN) {
            release(frame);
            if (current == State.CLOSED) {
                return;
            }
            throw new ProtocolException(CloseCode.PROTOCOL_ERROR, frame.getClass().getSimpleName()
                    + " before accept (expected: nothing until Accept)");
        }
        if (frame instanceof Frame.Pong pong) {
            heartbeat.onPong(pong.payload());
            return;
        }
        if (frame instanceof Frame.Drain drain) {
            log.info("Tunnel {} (agent '{}') draining: {}", sessionId, agentId, LogText.clip(drain.reason()));
            synchronized (streamGate) {
                draining = true;
            }
            return;
        }
        if (frame instanceof Frame.RouteHealth health) {
            onRouteHealth(health);
            return;
        }
        if (frame instanceof Frame.Hello || frame instanceof Frame.Accept || frame instanceof Frame.Reject
                || frame instanceof Frame.Request) {
            throw new ProtocolException(CloseCode.PROTOCOL_ERROR,
                    frame.getClass().getSimpleName() + " from agent on an open tunnel (expected: stream frames)");
        }
        onStreamFrame(frame);
    }

    private void onStreamFrame(Frame frame) {
        int id = frame.streamId();
        StreamListener listener = streams.get(id);
        if (listener == null) {
            release(frame);
            if (id >= nextStreamId.get()) {
                throw new ProtocolException(CloseCode.STREAM_ERROR,
                        frame.getClass().getSimpleName() + " on stream " + id + " (expected: a stream the ingress opened)");
            }
            return; // a stream we already finished (reset, timeout); late frames are normal
        }
        if (frame instanceof Frame.Data data) {
            listener.onData(data);
        } else if (frame instanceof Frame.Response response) {
            listener.onResponse(response);
        } else if (frame instanceof Frame.WindowUpdate update) {
            listener.onWindowUpdate(update.increment());
        } else if (frame instanceof Frame.Reset reset) {
            listener.onReset(reset);
        } else if (frame instanceof Frame.Trailers trailers) {
            listener.onTrailers(trailers);
        }
    }

    private void onRouteHealth(Frame.RouteHealth health) {
        if (!routes.contains(health.route())) {
            log.debug("Tunnel {}: health for unclaimed route {} ignored", sessionId, health.route());
            return;
        }
        boolean changed = health.healthy() ? unhealthy.remove(health.route()) : unhealthy.add(health.route());
        if (changed) {
            log.info("Tunnel {} (agent '{}'): route {} is now {}", sessionId, agentId, health.route(),
                    health.healthy() ? "healthy" : "unhealthy");
        }
    }

    // ------------------------------------------------------------------ handshake

    private void onHello(Frame.Hello hello) {
        state = State.AUTHENTICATING;
        Disposable timer = helloTimer;
        if (timer != null) {
            timer.dispose();
        }
        agentId = LogText.clip(hello.agentId(), 128);
        int version = ProtocolVersion.negotiate(hello.minVersion(), hello.maxVersion());
        if (version < 0) {
            reject(RejectReason.UNSUPPORTED_VERSION, "versions " + hello.minVersion() + ".." + hello.maxVersion()
                    + " (expected: overlap with " + ProtocolVersion.MIN + ".." + ProtocolVersion.MAX + ")");
            return;
        }
        String badId = LogText.agentIdProblem(hello.agentId());
        if (badId != null) {
            reject(RejectReason.INVALID_HELLO, badId);
            return;
        }
        if (hello.routes().isEmpty()) {
            reject(RejectReason.INVALID_HELLO, "routes: none (expected: at least one)");
            return;
        }
        if (hello.routes().size() > properties.maxRoutesPerAgent()) {
            reject(RejectReason.TOO_MANY_ROUTES, "routes: " + hello.routes().size() + " (expected: <= "
                    + properties.maxRoutesPerAgent() + ")");
            return;
        }
        if (shuttingDown.getAsBoolean()) {
            reject(RejectReason.SHUTTING_DOWN, "ingress is shutting down");
            return;
        }
        preAuth.verify(hello)
                .onErrorResume(e -> {
                    log.error("Tunnel {}: authentication of agent '{}' failed", sessionId, hello.agentId(), e);
                    return Mono.just(new AuthResult.Rejected(RejectReason.IDENTITY_UNVERIFIED,
                            "identity could not be verified"));
                })
                .subscribe(result -> {
                    if (result instanceof AuthResult.Rejected rejected) {
                        reject(rejected.reason(), rejected.message());
                    } else {
                        if (result instanceof AuthResult.Authenticated authenticated) {
                            identity = authenticated.principal();
                            verifiedBy = authenticated.method();
                        }
                        selfCheck = LogText.clip(hello.attributes().getOrDefault("identity.verified", ""));
                        agentVersion = LogText.clip(hello.attributes().getOrDefault("agent.version", ""));
                        protocolVersion = version;
                        accept(version, hello);
                    }
                });
    }

    private void accept(int version, Frame.Hello hello) {
        if (closed.get()) {
            return;
        }
        routes = List.copyOf(new java.util.LinkedHashSet<>(hello.routes()));
        preAuth.authenticated();
        state = State.OPEN;
        registry.register(this);
        registered = true;
        if (closed.get()) {
            // closed while registering: make sure it does not linger
            registry.unregister(this);
            return;
        }
        metrics.registrationAccepted();
        // read at accept time: the cluster view changes as replicas come and go
        boolean replicaFields = version >= ProtocolVersion.REPLICA_IN_ACCEPT;
        frames.send(new Frame.Accept(
                version,
                sessionId,
                properties.maxFrameBytes(),
                properties.initialStreamWindow(),
                properties.maxConcurrentStreams(),
                (int) Math.min(Integer.MAX_VALUE, properties.heartbeatInterval().toMillis()),
                replicaFields ? replica.replicaId() : "",
                replicaFields ? Math.max(1, replica.replicaCount()) : 1));
        heartbeat.start();
        log.info("Tunnel {} accepted: agent '{}' from {} claims {}", sessionId, agentId, remoteAddress, routes);
    }

    private void reject(RejectReason reason, String message) {
        if (reason != RejectReason.SHUTTING_DOWN) {
            preAuth.failed(); // no-op when the authenticator counted it
        }
        metrics.registrationRejected(reason, agentId, remoteAddress, message);
        log.warn("Tunnel {} rejected: agent '{}' from {}: {} ({})", sessionId, agentId, remoteAddress, reason,
                message);
        frames.send(new Frame.Reject(reason, message));
        close(CloseCode.REJECTED, reason.name());
    }

    // ------------------------------------------------------------------ streams

    /**
     * Opens a stream for {@code listener}; returns its id, or -1 when the tunnel cannot take one now
     * (closed, draining, at its stream limit). Ids are never reused.
     */
    public int openStream(StreamListener listener) {
        int id;
        synchronized (streamGate) {
            if (state != State.OPEN || draining || closed.get()) {
                return -1;
            }
            if (activeStreams.incrementAndGet() > properties.maxConcurrentStreams()) {
                activeStreams.decrementAndGet();
                return -1;
            }
            id = nextStreamId.getAndIncrement();
            if (id <= 0) {
                // stream ids exhausted: let this tunnel drain and the agent reconnect
                activeStreams.decrementAndGet();
                draining = true;
                return -1;
            }
            streams.put(id, listener);
            unannounced.add(id);
        }
        metrics.activeStreams().incrementAndGet();
        if (closed.get()) {
            closeStream(id);
            return -1;
        }
        return id;
    }

    /** Forgets a finished stream; idempotent. */
    public void closeStream(int streamId) {
        if (streams.remove(streamId) != null) {
            activeStreams.decrementAndGet();
            metrics.activeStreams().decrementAndGet();
        }
        synchronized (streamGate) {
            if (unannounced.remove(streamId)) {
                releaseHeldFrames();
            }
        }
    }

    /** False while the outbound queue is above its high-water mark (see {@link OutboundFrames}). */
    public boolean writable() {
        return frames.writable();
    }

    /** Runs {@code task} once the outbound queue has drained (see {@link OutboundFrames}). */
    public void whenWritable(Runnable task) {
        frames.whenWritable(task);
    }

    /** Queues a frame to the agent; dropped (and DATA released) once the tunnel is closed. */
    public void send(Frame frame) {
        if (frame instanceof Frame.Request request) {
            synchronized (streamGate) {
                frames.send(frame);
                if (unannounced.remove(request.streamId())) {
                    releaseHeldFrames();
                }
            }
            return;
        }
        frames.send(frame);
    }

    /** Pongs at once, except while streams opened before a Drain still have their REQUEST to queue. */
    private void answerPing(long payload) {
        if (!draining) {
            frames.send(new Frame.Pong(payload));
            return;
        }
        synchronized (streamGate) {
            sendAfterOpenedStreams(new Frame.Pong(payload));
        }
    }

    /** Queues {@code frame} behind the REQUEST of every stream opened so far; guarded by streamGate. */
    private void sendAfterOpenedStreams(Frame frame) {
        if (unannounced.isEmpty() && heldFrames.isEmpty()) {
            frames.send(frame);
        } else {
            heldFrames.add(frame);
        }
    }

    private void releaseHeldFrames() {
        // guarded by streamGate
        if (unannounced.isEmpty() && !heldFrames.isEmpty()) {
            heldFrames.forEach(frames::send);
            heldFrames.clear();
        }
    }

    public int initialStreamWindow() {
        return properties.initialStreamWindow();
    }

    /** How far the windows of the streams this tunnel receives may grow, shared by all of them. */
    public WindowGrowth windowGrowth() {
        return windowGrowth;
    }

    public int maxDataPayload() {
        return codec.limits().maxDataPayload();
    }

    /** Server-side drain: no new streams here; the agent is told so it can reconnect elsewhere. */
    void drain(String reason) {
        synchronized (streamGate) {
            if (!draining && state == State.OPEN) {
                draining = true;
                // the agent takes our Drain as "no REQUEST follows": it must not overtake one
                sendAfterOpenedStreams(new Frame.Drain(reason));
            }
        }
    }

    /**
     * Closes the tunnel: leaves the registry first (so no request picks it any more), then fails
     * its streams; queued frames are flushed and the WebSocket closed with {@code code}.
     */
    public void close(CloseCode code, String reason) {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        closeCode = code;
        closeReason = truncate(reason);
        state = State.CLOSED;
        if (registered) {
            registry.unregister(this);
        }
        Disposable timer = helloTimer;
        if (timer != null) {
            timer.dispose();
        }
        heartbeat.stop();
        frames.close();
        List<Integer> ids = new ArrayList<>(streams.keySet());
        for (Integer id : ids) {
            StreamListener listener = streams.get(id);
            closeStream(id);
            if (listener != null) {
                try {
                    listener.onTunnelClosed("tunnel closed: " + code + " " + reason);
                } catch (RuntimeException e) {
                    log.warn("Tunnel {}: stream {} failed to close cleanly", sessionId, id, e);
                }
            }
        }
        if (code == CloseCode.SLOW_CONSUMER) {
            // the peer is not reading: a close frame would queue behind everything else
            forceClose.run();
        } else {
            // backstop should the flush or the close handshake never finish
            Mono.delay(Duration.ofSeconds(5)).subscribe(tick -> forceClose.run());
        }
    }

    private static String truncate(String reason) {
        byte[] bytes = reason.getBytes(StandardCharsets.UTF_8);
        if (bytes.length <= MAX_CLOSE_REASON_BYTES) {
            return reason;
        }
        String cut = new String(bytes, 0, MAX_CLOSE_REASON_BYTES, StandardCharsets.UTF_8);
        // a multi-byte character cut in half decodes as U+FFFD: drop it
        return cut.endsWith("\uFFFD") ? cut.substring(0, cut.length() - 1) : cut;
    }

    private static void release(Frame frame) {
        if (frame instanceof Frame.Data data) {
            data.content().release();
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
                && !draining
                && activeStreams.get() < properties.maxConcurrentStreams()
                && (unhealthy.isEmpty() || !unhealthy.contains(route));
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
        return draining;
    }

    @Override
    public Set<RouteClaim> unhealthyRoutes() {
        return new HashSet<>(unhealthy);
    }

    @Override
    public int activeStreams() {
        return activeStreams.get();
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
        return roundTripNanos / 1000;
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
