package io.edgetunnel.agent.tunnel;

import io.edgetunnel.agent.config.Route;
import io.edgetunnel.agent.proxy.LocalAppForwarder;
import io.edgetunnel.protocol.CloseCode;
import io.edgetunnel.protocol.ConnectionNonce;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.FrameCodec;
import io.edgetunnel.protocol.ProtocolException;
import io.edgetunnel.protocol.ProtocolVersion;
import io.edgetunnel.protocol.ResetCode;
import io.edgetunnel.protocol.stream.FrameSink;
import io.edgetunnel.protocol.stream.Heartbeat;
import io.edgetunnel.protocol.stream.OutboundFrames;
import io.edgetunnel.protocol.stream.WindowGrowth;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.netty.Connection;
import reactor.netty.http.websocket.WebsocketInbound;
import reactor.netty.http.websocket.WebsocketOutbound;

/**
 * One WebSocket connection to the ingress: sends the hello, waits for accept or reject, then
 * dispatches frames to {@link ProxyStream}s and answers pings until the connection ends. A new
 * session is made for every connection attempt; {@link TunnelClient} owns the reconnect loop.
 */
final class TunnelSession {

    private static final Logger log = LoggerFactory.getLogger(TunnelSession.class);

    /** Heartbeat intervals of silence after which the ingress is declared dead. */
    static final int MISSED_HEARTBEATS = 3;

    /**
     * Safety net for the outbound queue: stream data in it is bounded by the ingress's windows, so
     * only a peer that stops reading altogether gets here.
     */
    private static final long MAX_QUEUED_BYTES = 128L * 1024 * 1024;

    private static final int MAX_CHUNK = 64 * 1024;

    private static final Duration CLOSE_GRACE = Duration.ofSeconds(3);

    enum State {
        CONNECTING,
        OPEN,
        DRAINING,
        CLOSED
    }

    /** What the owning client learns about the session. */
    interface Listener {
        void onAccepted(TunnelSession session);

        /** The ingress sent DRAIN: the session finishes its streams; a replacement should connect. */
        void onDrainRequested(TunnelSession session);

        void onStreamsIdle(TunnelSession session);
    }

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
    private final Listener listener;
    private final Map<Integer, ProxyStream> streams = new ConcurrentHashMap<>();

    private volatile State state = State.CONNECTING;
    private volatile OutboundFrames frames;
    private volatile Connection connection;
    private volatile Heartbeat heartbeat;
    private volatile ProxyStream.Settings settings;
    private final WindowGrowth windowGrowth;
    private volatile int maxConcurrentStreams;
    private volatile int claimedRoutes;
    private volatile Frame.Reject reject;
    private volatile long acceptedAtNanos;
    private volatile String replicaId = "";
    private volatile int replicaCount = 1;
    private final AtomicBoolean closing = new AtomicBoolean();
    /**
     * Ping payload sent right after our Drain: the ingress handles frames in order and answers on
     * the queue that carries its requests, so the matching Pong proves every request it sent
     * before it saw the Drain has arrived here (and was accepted or refused).
     */
    static final long DRAIN_BARRIER = 0x4452_4149_4E42_4152L;
    private volatile boolean drainSettled;
    private volatile Disposable subscription;
    private volatile Disposable acceptTimer;
    private volatile CloseCode closeCode = CloseCode.NORMAL;
    private volatile String closeReason = "";

    TunnelSession(
            String name,
            Function<String, Mono<Frame.Hello>> hello,
            FrameCodec codec,
            Map<String, Route> routes,
            RouteHealthSource health,
            LocalAppForwarder forwarder,
            TunnelMetrics metrics,
            Listener listener,
            WindowGrowth windowGrowth) {
        this.name = name;
        this.windowGrowth = windowGrowth;
        this.hello = hello;
        this.codec = codec;
        this.routes = routes;
        this.health = health;
        this.forwarder = forwarder;
        this.metrics = metrics;
        this.listener = listener;
    }

    static String routeKey(String host, String pathPrefix) {
        return host + " " + pathPrefix;
    }

    /** The WebSocket handler: runs until the connection ends. */
    Mono<Void> handle(WebsocketInbound in, WebsocketOutbound out) {
        in.withConnection(c -> connection = c);
        OutboundFrames queue = new OutboundFrames(
                codec, out.alloc(), MAX_QUEUED_BYTES, overflow -> close(overflow.closeCode(), overflow.getMessage()));
        frames = queue;
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
        Mono<Void> sending = out.send(Flux.concat(helloBytes, queue.frames()))
                .then()
                // the close frame alone, the connection left open: Reactor Netty's sendClose closes the
                // socket at once, and closing it with the ingress's last frames (window updates, pings)
                // unread makes the kernel reset the connection, which can discard what this side still
                // had in flight (the end of a drained stream's body, through a proxy such as the ALB).
                // The ingress answers the close and closes; close() disposes after a grace otherwise.
                .then(Mono.defer(() -> out.sendObject(
                                Mono.fromSupplier(() -> new CloseWebSocketFrame(closeCode.code(), closeReason))
                                        .doOnDiscard(CloseWebSocketFrame.class, CloseWebSocketFrame::release))
                        .then()))
                .onErrorResume(e -> Mono.empty());
        Mono<Void> receiving = in.aggregateFrames(codec.limits().maxFrameBytes())
                .receiveFrames()
                .doOnNext(this::onWebSocketFrame)
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
        OutboundFrames queue = frames;
        return queue == null ? 0 : queue.queuedBytes();
    }

    int activeStreams() {
        return streams.size();
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
                send(new Frame.RouteHealth(route.claim(), healthy));
            }
        }
    }

    /** Announces drain: the ingress sends no new streams; streams in flight finish. */
    void drain(String reason) {
        if (state == State.OPEN) {
            state = State.DRAINING;
            send(new Frame.Drain(reason));
            send(new Frame.Ping(DRAIN_BARRIER));
        } else {
            drainSettled = true;
        }
    }

    /**
     * After {@link #drain}: true once the ingress confirmed it saw the Drain (no request of it can
     * still be on the way) or the tunnel is gone; closing earlier would lose such a request.
     */
    boolean drainSettled() {
        return drainSettled || closing.get() || state == State.CLOSED;
    }

    /** Closes the tunnel: queued frames go out, then a close frame with {@code code}. */
    void close(CloseCode code, String reason) {
        if (!closing.compareAndSet(false, true)) {
            return;
        }
        closeCode = code;
        closeReason = reason.length() > 120 ? reason.substring(0, 120) : reason;
        if (code != CloseCode.NORMAL && code != CloseCode.GOING_AWAY) {
            log.warn("{}: closing tunnel with {} ({}): {}", name, code, code.code(), reason);
        } else {
            log.info("{}: closing tunnel ({}): {}", name, code.code(), reason);
        }
        stopHeartbeat();
        cancelStreams();
        OutboundFrames queue = frames;
        if (queue != null) {
            queue.close();
        }
        // the ingress normally answers the close frame; do not wait for ever if it does not
        Mono.delay(CLOSE_GRACE).subscribe(x -> {
            Connection c = connection;
            if (c != null) {
                c.dispose();
            }
        });
    }

    private void onWebSocketFrame(WebSocketFrame frame) {
        if (closing.get()) {
            return;
        }
        Heartbeat beat = heartbeat;
        if (beat != null) {
            beat.onFrameReceived();
        }
        if (frame instanceof BinaryWebSocketFrame) {
            try {
                dispatch(codec.decode(frame.content()));
            } catch (ProtocolException e) {
                close(e.closeCode(), e.getMessage());
            } catch (RuntimeException e) {
                log.error("{}: failed to handle a frame", name, e);
                close(CloseCode.INTERNAL_ERROR, "agent error handling a frame");
            }
        } else if (frame instanceof TextWebSocketFrame) {
            close(CloseCode.PROTOCOL_ERROR, "text message (expected: binary frames)");
        }
    }

    private void dispatch(Frame frame) {
        if (state == State.CONNECTING) {
            onHandshake(frame);
        } else if (frame instanceof Frame.Data data) {
            ProxyStream stream = streams.get(data.streamId());
            if (stream == null) {
                // a stream that already ended or was refused; the ingress learns from our reset
                data.content().release();
            } else {
                stream.onData(data);
            }
        } else if (frame instanceof Frame.Request request) {
            onRequest(request);
        } else if (frame instanceof Frame.WindowUpdate update) {
            ProxyStream stream = streams.get(update.streamId());
            if (stream != null) {
                stream.onWindowUpdate(update.increment());
            }
        } else if (frame instanceof Frame.Reset reset) {
            ProxyStream stream = streams.get(reset.streamId());
            if (stream != null) {
                stream.onReset(reset);
            }
        } else if (frame instanceof Frame.Trailers trailers) {
            ProxyStream stream = streams.get(trailers.streamId());
            if (stream != null) {
                stream.onTrailers(trailers);
            }
        } else if (frame instanceof Frame.Ping ping) {
            send(new Frame.Pong(ping.payload()));
        } else if (frame instanceof Frame.Pong pong) {
            // liveness already noted; the echo of our last PING measures the round trip
            Heartbeat beat = heartbeat;
            if (beat != null) {
                beat.onPong(pong.payload());
            }
            if (pong.payload() == DRAIN_BARRIER) {
                drainSettled = true;
                if (streams.isEmpty() && state == State.DRAINING) {
                    listener.onStreamsIdle(this);
                }
            }
        } else if (frame instanceof Frame.Drain drain) {
            onDrain(drain);
        } else {
            throw new ProtocolException(
                    CloseCode.PROTOCOL_ERROR,
                    frame.getClass().getSimpleName() + " frame from the ingress (expected: request, data, "
                            + "window update, reset, trailers, ping, pong or drain)");
        }
    }

    private void onHandshake(Frame frame) {
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
            settings = new ProxyStream.Settings(accept.initialStreamWindow(), maxChunk, windowGrowth);
            maxConcurrentStreams = accept.maxConcurrentStreams();
            replicaId = accept.replicaId();
            replicaCount = accept.replicaCount();
            acceptedAtNanos = System.nanoTime();
            state = State.OPEN;
            Heartbeat beat = new Heartbeat(
                    Duration.ofMillis(accept.heartbeatIntervalMillis()),
                    MISSED_HEARTBEATS,
                    this::send,
                    () -> close(CloseCode.HEARTBEAT_TIMEOUT, "no frame from the ingress for "
                            + MISSED_HEARTBEATS * accept.heartbeatIntervalMillis() + " ms"),
                    Schedulers.parallel(),
                    windowGrowth::roundTrip);
            heartbeat = beat;
            beat.start();
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
            log.error(
                    "{}: the ingress rejected the hello: {} ({}): {}",
                    name,
                    rejected.reason(),
                    rejected.reason().code(),
                    rejected.message());
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

    private void onRequest(Frame.Request request) {
        int id = request.streamId();
        if (streams.containsKey(id)) {
            throw new ProtocolException(CloseCode.STREAM_ERROR, "stream " + id + " opened twice");
        }
        // a REQUEST that crossed our Drain on the wire is still served: the tunnel stays up until the
        // ingress confirmed the Drain and every stream finished
        if (state != State.OPEN && state != State.DRAINING) {
            send(new Frame.Reset(id, ResetCode.REFUSED_STREAM, "agent is closing"));
            return;
        }
        Route route = routes.get(routeKey(request.routeHost(), request.routePathPrefix()));
        if (route == null) {
            send(new Frame.Reset(
                    id,
                    ResetCode.NO_ROUTE,
                    "agent claims no route " + request.routeHost() + request.routePathPrefix()));
            return;
        }
        if (!health.isHealthy(route)) {
            // the ingress sent it before our ROUTE_HEALTH arrived: refused streams are retried elsewhere
            send(new Frame.Reset(id, ResetCode.REFUSED_STREAM, "local app for " + route.claim() + " is unhealthy"));
            return;
        }
        if (streams.size() >= maxConcurrentStreams) {
            send(new Frame.Reset(
                    id, ResetCode.REFUSED_STREAM, "stream limit " + maxConcurrentStreams + " reached"));
            return;
        }
        ProxyStream stream =
                new ProxyStream(request, route, settings, streamSink, metrics.bufferedBytes(), this::streamFinished);
        streams.put(id, stream);
        metrics.streamOpened();
        stream.start(forwarder);
    }

    private void onDrain(Frame.Drain drain) {
        log.info("{}: the ingress asked to drain: {}", name, drain.reason());
        // the ingress sends no stream after its own Drain: nothing can still be on the way
        drainSettled = true;
        if (state == State.OPEN) {
            state = State.DRAINING;
            listener.onDrainRequested(this);
        }
        if (streams.isEmpty()) {
            close(CloseCode.GOING_AWAY, "drained");
        }
    }

    private void streamFinished(ProxyStream stream) {
        if (streams.remove(stream.id(), stream)) {
            metrics.streamClosed();
        }
        if (streams.isEmpty() && state == State.DRAINING && drainSettled) {
            listener.onStreamsIdle(this);
        }
    }

    /** The streams' frames: into the queue, which also paces their bodies on a slow link. */
    private final FrameSink streamSink = new FrameSink() {
        @Override
        public void send(Frame frame) {
            TunnelSession.this.send(frame);
        }

        @Override
        public boolean writable() {
            OutboundFrames queue = frames;
            return queue == null || queue.writable();
        }

        @Override
        public void whenWritable(Runnable task) {
            OutboundFrames queue = frames;
            if (queue == null) {
                task.run();
            } else {
                queue.whenWritable(task);
            }
        }
    };

    private void send(Frame frame) {
        OutboundFrames queue = frames;
        if (queue != null) {
            queue.send(frame);
        } else if (frame instanceof Frame.Data data) {
            data.content().release();
        }
    }

    private void cancelStreams() {
        for (ProxyStream stream : streams.values()) {
            stream.cancel();
        }
    }

    private void stopHeartbeat() {
        Heartbeat beat = heartbeat;
        if (beat != null) {
            beat.stop();
        }
    }

    /** The connection is gone: release everything without a close handshake. */
    void abort() {
        state = State.CLOSED;
        closing.set(true);
        stopHeartbeat();
        cancelStreams();
        OutboundFrames queue = frames;
        if (queue != null) {
            queue.close();
        }
    }
}
