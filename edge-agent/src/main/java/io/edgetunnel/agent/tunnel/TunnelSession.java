package io.edgetunnel.agent.tunnel;

import io.edgetunnel.agent.config.Route;
import io.edgetunnel.agent.proxy.LocalAppForwarder;
import io.edgetunnel.agent.tcp.TcpStream;
import io.edgetunnel.protocol.CloseCode;
import io.edgetunnel.protocol.ConnectionNonce;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.FrameCodec;
import io.edgetunnel.protocol.ProtocolException;
import io.edgetunnel.protocol.ProtocolVersion;
import io.edgetunnel.protocol.session.ConnectionSide;
import io.edgetunnel.protocol.session.Role;
import io.edgetunnel.protocol.session.SessionLimits;
import io.edgetunnel.protocol.session.StreamSettings;
import io.edgetunnel.protocol.session.TunnelConnection;
import io.edgetunnel.protocol.session.TunnelStream;
import io.edgetunnel.protocol.stream.WindowGrowth;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ImmediateEventExecutor;
import java.time.Duration;
import java.util.Map;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;
import reactor.netty.http.websocket.WebsocketInbound;
import reactor.netty.http.websocket.WebsocketOutbound;

/**
 * One WebSocket connection (attempt) to the ingress: sends the hello, awaits accept or reject, then
 * runs a {@link TunnelConnection} as acceptor: each REQUEST becomes a {@link ProxyStream} (HTTP
 * route) or a {@link TcpStream} (TCP route). {@link TunnelClient} owns the reconnect loop.
 */
final class TunnelSession implements ConnectionSide {

    private static final Logger log = LoggerFactory.getLogger(TunnelSession.class);

    private static final int MAX_CHUNK = 64 * 1024;

    private record PendingClose(CloseCode code, String reason) {}

    enum State { CONNECTING, OPEN, DRAINING, CLOSED }

    private final String name;
    /** The hello for a connection, given the nonce the ingress sent in the handshake ("" if none). */
    private final Function<String, Mono<Frame.Hello>> hello;
    private final FrameCodec codec;
    private final Map<String, Route> routes;
    private final RouteHealthSource health;
    /** Serialises reading a route's health with queueing it, so the last frame sent is the latest state. */
    private final Object healthLock = new Object();
    private final LocalAppForwarder forwarder;
    private final TunnelMetrics metrics;
    private final SessionListener listener;
    private final WindowGrowth windowGrowth;
    private final SessionLimits limits;
    private final StreamAdmission admission;

    private volatile State state = State.CONNECTING;
    private volatile TunnelConnection connection;
    private volatile Connection socket;
    private volatile int claimedRoutes;
    private volatile Frame.Reject reject;
    private volatile long acceptedAtNanos;
    private volatile String replicaId = "";
    private volatile int replicaCount = 1;
    /** A close asked for before the connection was up; applied once it is. */
    private volatile PendingClose earlyClose;
    private volatile Disposable subscription;
    private volatile Disposable acceptTimer;

    TunnelSession(
            String name,
            Function<String, Mono<Frame.Hello>> hello,
            FrameCodec codec,
            Map<String, Route> routes,
            RouteHealthSource health,
            LocalAppForwarder forwarder,
            TunnelMetrics metrics,
            SessionListener listener,
            WindowGrowth windowGrowth,
            SessionLimits limits) {
        this.name = name;
        this.windowGrowth = windowGrowth;
        this.hello = hello;
        this.codec = codec;
        this.routes = routes;
        this.health = health;
        this.forwarder = forwarder;
        this.metrics = metrics;
        this.listener = listener;
        this.limits = limits;
        this.admission = new StreamAdmission(routes, health);
    }

    /** The WebSocket handler: runs until the connection ends. */
    Mono<Void> handle(WebsocketInbound in, WebsocketOutbound out) {
        in.withConnection(c -> socket = c);
        Connection c = socket;
        TunnelConnection tunnel = new TunnelConnection(Role.ACCEPTOR, name, codec, out.alloc(),
                c != null ? c.channel().eventLoop() : ImmediateEventExecutor.INSTANCE, limits, this, () -> {
                    Connection current = socket;
                    if (current != null) {
                        current.dispose();
                    }
                });
        connection = tunnel;
        PendingClose early = earlyClose;
        if (early != null) {
            tunnel.close(early.code(), early.reason());
        }
        // the hello goes ahead of the queue: OutboundFrames drops frames sent before it is subscribed
        String nonce = in.headers().get(ConnectionNonce.HEADER, "");
        Mono<ByteBuf> helloBytes = hello.apply(nonce).map(h -> {
                    claimedRoutes = h.routes().size();
                    return codec.encode(h, out.alloc());
                })
                .onErrorResume(e -> {
                    log.error("{}: cannot build the hello (credentials): {}", name, e.toString());
                    close(CloseCode.INTERNAL_ERROR, "agent has no credentials");
                    return Mono.empty();
                });
        Mono<Void> sending = out.send(Flux.concat(helloBytes, tunnel.frames().frames()))
                .then()
                // the close frame alone, the connection left open: Reactor Netty's sendClose closes the
                // socket at once, and closing it with the ingress's last frames (window updates, pings)
                // unread makes the kernel reset the connection, which can discard what this side still
                // had in flight (the end of a drained stream's body, through a proxy such as the ALB).
                // The ingress answers the close and closes; the close backstop disposes otherwise.
                .then(Mono.defer(() -> out.sendObject(
                                Mono.fromSupplier(() -> new CloseWebSocketFrame(
                                                tunnel.closeCode().code(), tunnel.closeReason()))
                                        .doOnDiscard(CloseWebSocketFrame.class, CloseWebSocketFrame::release))
                        .then()))
                .onErrorResume(e -> Mono.empty());
        Mono<Void> receiving = in.aggregateFrames(codec.limits().maxFrameBytes())
                .receiveFrames()
                .doOnNext(tunnel::receive)
                // count(), not then(): then() hands each frame to any discard hook in the context,
                // which would release it a second time after Reactor Netty's own release
                .count()
                .then()
                .doOnError(e -> log.warn("{}: tunnel failed: {}", name, e.toString()))
                .onErrorResume(e -> Mono.empty())
                .doFinally(signal -> abort());
        return Mono.when(sending, receiving);
    }

    /** The subscription running this session's connection, and its accept timer. */
    void attach(Disposable connectionSubscription, Disposable acceptTimeout) {
        this.subscription = connectionSubscription;
        this.acceptTimer = acceptTimeout;
        if (state == State.OPEN) {
            acceptTimeout.dispose();
        }
    }

    /** Drops the connection at once, without a close handshake. */
    void dispose() {
        Disposable current = subscription;
        if (current != null) {
            current.dispose();
        }
        Disposable timer = acceptTimer;
        if (timer != null) {
            timer.dispose();
        }
    }

    State state() {
        return state;
    }

    boolean isRegistered() {
        return state == State.OPEN;
    }

    /** The connection's event loop, once it is up; else null. */
    EventExecutor eventLoop() {
        TunnelConnection current = connection;
        return current == null ? null : current.eventLoop();
    }

    /** Accepted and not yet closed (possibly draining). */
    boolean wasAccepted() {
        return acceptedAtNanos != 0;
    }

    Duration uptime() {
        long accepted = acceptedAtNanos;
        return accepted == 0 ? Duration.ZERO : Duration.ofNanos(System.nanoTime() - accepted);
    }

    /** The ingress replica that accepted this tunnel; empty before the Accept or when it did not say. */
    String replicaId() {
        return replicaId;
    }

    /** Replicas the accepting ingress knows of, itself included; 1 when it did not say. */
    int replicaCount() {
        return replicaCount;
    }

    Frame.Reject reject() {
        return reject;
    }

    long queuedBytes() {
        TunnelConnection tunnel = connection;
        return tunnel == null ? 0 : tunnel.queuedBytes();
    }

    int activeStreams() {
        TunnelConnection tunnel = connection;
        return tunnel == null ? 0 : tunnel.activeStreams();
    }

    /** Sends the current health of {@code route} to the ingress, if this tunnel is registered. */
    void announceHealth(Route route) {
        announceHealth(route, true);
    }

    private void announceHealth(Route route, boolean evenIfHealthy) {
        if (state != State.OPEN) {
            // before accept the accept path reports it; a draining tunnel gets no new streams anyway
            return;
        }
        synchronized (healthLock) {
            // read under the lock: of two racing announcements, the later one carries the newer state
            boolean healthy = health.isHealthy(route);
            if (evenIfHealthy || !healthy) {
                connection.send(new Frame.RouteHealth(route.claim(), healthy));
            }
        }
    }

    /** Announces drain: the ingress sends no new streams; streams in flight finish. */
    void drain(String reason) {
        TunnelConnection tunnel = connection;
        if (state == State.OPEN && tunnel != null) {
            state = State.DRAINING;
            tunnel.drain(reason); // the Drain, then the barrier Ping
        }
    }

    /** After {@link #drain}: true once the ingress confirmed the Drain (no request can still come) or the tunnel is gone. */
    boolean drainSettled() {
        TunnelConnection tunnel = connection;
        return tunnel == null || state == State.CONNECTING || tunnel.drainSettled() || state == State.CLOSED;
    }

    /** Closes the tunnel: queued frames go out, then a close frame with {@code code}. */
    void close(CloseCode code, String reason) {
        TunnelConnection tunnel = connection;
        if (tunnel == null) {
            earlyClose = new PendingClose(code, reason);
            return;
        }
        tunnel.close(code, reason);
    }

    // ------------------------------------------------------------------ ConnectionSide

    @Override
    public void onClose(CloseCode code, String reason) {
        if (code != CloseCode.NORMAL && code != CloseCode.GOING_AWAY) {
            log.warn("{}: closing tunnel with {} ({}): {}", name, code, code.code(), reason);
        } else {
            log.info("{}: closing tunnel ({}): {}", name, code.code(), reason);
        }
    }

    @Override
    public void onHandshake(Frame frame) {
        if (frame instanceof Frame.Accept accept) {
            if (accept.version() < ProtocolVersion.MIN || accept.version() > ProtocolVersion.MAX) {
                throw new ProtocolException(
                        CloseCode.PROTOCOL_ERROR,
                        "accepted version " + accept.version() + " (expected: " + ProtocolVersion.MIN + ".."
                                + ProtocolVersion.MAX + ")");
            }
            int payload = Math.min(accept.maxFramePayload(), codec.limits().maxFrameBytes());
            int maxChunk = Math.min(MAX_CHUNK, payload - FrameCodec.HEADER_BYTES);
            if (maxChunk <= 0) {
                throw new ProtocolException(
                        CloseCode.PROTOCOL_ERROR,
                        "maxFramePayload: " + accept.maxFramePayload() + " (expected: > "
                                + FrameCodec.HEADER_BYTES + ")");
            }
            replicaId = accept.replicaId();
            replicaCount = accept.replicaCount();
            acceptedAtNanos = System.nanoTime();
            state = State.OPEN;
            connection.open(
                    Duration.ofMillis(accept.heartbeatIntervalMillis()),
                    new StreamSettings(accept.initialStreamWindow(), maxChunk, windowGrowth, metrics.bufferedBytes()),
                    accept.maxConcurrentStreams());
            log.info(
                    "{}: registered with the ingress (session {}, replica {} of {}, version {}, {} routes, window {}, "
                            + "max streams {})",
                    name,
                    accept.sessionId(),
                    accept.replicaId().isEmpty() ? "(unnamed)" : accept.replicaId(),
                    accept.replicaCount(),
                    accept.version(),
                    claimedRoutes,
                    accept.initialStreamWindow(),
                    accept.maxConcurrentStreams());
            // the ingress takes every claimed route as healthy at accept: correct it before it routes
            // much here (a request that comes first is refused and retried elsewhere, see onRequest)
            for (Route route : routes.values()) {
                announceHealth(route, false);
            }
            Disposable timer = acceptTimer;
            if (timer != null) {
                timer.dispose();
            }
            listener.onAccepted(this);
        } else if (frame instanceof Frame.Reject rejected) {
            reject = rejected;
            metrics.rejected(rejected.reason());
            // the token is never logged; the reason and message are the ingress's, safe by contract
            log.error("{}: the ingress rejected the hello: {} ({}): {}",
                    name, rejected.reason(), rejected.reason().code(), rejected.message());
            close(CloseCode.NORMAL, "rejected");
        } else {
            if (frame instanceof Frame.Data data) {
                data.content().release();
            }
            throw new ProtocolException(
                    CloseCode.PROTOCOL_ERROR,
                    frame.getClass().getSimpleName() + " before accept (expected: accept or reject)");
        }
    }

    @Override
    public void onRequest(TunnelStream stream, Frame.Request request) {
        Route route = admission.admit(stream, request);
        if (route != null && route.isTcp()) {
            TcpStream.accept(stream, request, route, forwarder.tcp()); // a connection (spec section 20)
        } else if (route != null) {
            ProxyStream handler = new ProxyStream(stream, request, route);
            stream.accept(handler);
            handler.start(forwarder);
        }
    }

    @Override
    public void onControl(Frame frame) {
        throw new ProtocolException(
                CloseCode.PROTOCOL_ERROR,
                frame.getClass().getSimpleName() + " frame from the ingress (expected: request, data, "
                        + "window update, reset, trailers, ping, pong or drain)");
    }

    @Override
    public void onPeerDrain(String reason, boolean wasDraining) {
        log.info("{}: the ingress asked to drain: {}", name, reason);
        if (state == State.OPEN) {
            state = State.DRAINING;
            listener.onDrainRequested(this);
        }
        if (connection.activeStreams() == 0) {
            close(CloseCode.GOING_AWAY, "drained");
        }
    }

    @Override
    public void onStreamsIdle() {
        if (state == State.DRAINING) {
            listener.onStreamsIdle(this);
        }
    }

    @Override
    public void onStreamCount(int delta) {
        if (delta > 0) {
            metrics.streamOpened();
        } else {
            metrics.streamClosed();
        }
    }

    /** The connection is gone: release everything without a close handshake. */
    void abort() {
        state = State.CLOSED;
        TunnelConnection tunnel = connection;
        if (tunnel != null) {
            tunnel.disconnected();
        }
    }
}
