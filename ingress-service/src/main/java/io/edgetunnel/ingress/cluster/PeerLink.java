package io.edgetunnel.ingress.cluster;

import io.edgetunnel.ingress.config.TunnelProperties;
import io.edgetunnel.ingress.tunnel.StreamOpener;
import io.edgetunnel.protocol.CloseCode;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.FrameCodec;
import io.edgetunnel.protocol.ProtocolException;
import io.edgetunnel.protocol.ProtocolLimits;
import io.edgetunnel.protocol.ResetCode;
import io.edgetunnel.protocol.session.ConnectionSide;
import io.edgetunnel.protocol.session.Role;
import io.edgetunnel.protocol.session.SessionLimits;
import io.edgetunnel.protocol.session.StreamHandler;
import io.edgetunnel.protocol.session.StreamSettings;
import io.edgetunnel.protocol.session.TunnelConnection;
import io.edgetunnel.protocol.session.TunnelStream;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.util.concurrent.EventExecutor;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.IntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;
import reactor.netty.http.websocket.WebsocketInbound;
import reactor.netty.http.websocket.WebsocketOutbound;

/**
 * One peer link: a WebSocket between two replicas carrying the tunnel protocol's streams, on the same
 * session core as an agent's tunnel. The replica without an agent for a request dials it and is the
 * opener ({@link StreamOpener}: a forwarded request is a stream with the REQUEST it would send an
 * agent); the holder accepts and splices each stream onto one of its agents' tunnels. Authentication
 * happened before the upgrade (the {@link HopSignature} over the request target, which also carries the
 * {@link LinkSettings}), so there is no Hello: both ends open the connection at once.
 */
public final class PeerLink implements StreamOpener, ConnectionSide {

    private static final Logger log = LoggerFactory.getLogger(PeerLink.class);

    /** Slack above the frame limit that the WebSocket layer lets through, as on the tunnel port. */
    static final int WEBSOCKET_SLACK_BYTES = 64 * 1024;

    private final String peer;
    private final TunnelConnection connection;
    private final FrameCodec codec;
    /** The holder's splice of each incoming stream; null at the opener. */
    private final BiConsumer<TunnelStream, Frame.Request> acceptor;

    /**
     * @param peer the other replica, for logs and access lines
     * @param acceptor null: this end opens streams; else it takes the other end's
     */
    PeerLink(String peer, LinkSettings settings, TunnelProperties tunnel, LongAdder bufferedBytes,
            Connection socket, BiConsumer<TunnelStream, Frame.Request> acceptor) {
        this.peer = peer;
        this.acceptor = acceptor;
        ProtocolLimits defaults = ProtocolLimits.DEFAULTS;
        this.codec = new FrameCodec(new ProtocolLimits(settings.maxFrameBytes(), defaults.maxHeaderCount(),
                defaults.maxHeaderBytes(), defaults.maxRoutes(), defaults.maxStringBytes()));
        EventExecutor loop = socket.channel().eventLoop();
        this.connection = new TunnelConnection(acceptor == null ? Role.OPENER : Role.ACCEPTOR,
                "Peer link " + (acceptor == null ? "to " : "from ") + peer, codec, socket.channel().alloc(), loop,
                // one link carries what many agents' tunnels do: room for more than one tunnel's queue
                new SessionLimits(tunnel.heartbeatMissedLimit(), 4 * tunnel.maxQueuedBytes().toBytes(),
                        tunnel.closeBackstop()),
                this, socket::dispose);
        connection.open(settings.heartbeat(),
                new StreamSettings(settings.window(), codec.limits().maxDataPayload(), tunnel.newWindowGrowth(),
                        bufferedBytes),
                settings.maxStreams());
    }

    /** Runs the link on its WebSocket until either end closes it or the connection is lost. */
    Mono<Void> run(WebsocketInbound in, WebsocketOutbound out) {
        Mono<Void> outbound = Mono.from(out.sendObject(connection.frames().frames().map(BinaryWebSocketFrame::new)))
                .then(Mono.defer(() -> out.sendClose(connection.closeCode().code(), connection.closeReason())))
                .onErrorResume(e -> Mono.empty());
        Mono<Void> inbound = in.aggregateFrames(codec.limits().maxFrameBytes() + WEBSOCKET_SLACK_BYTES)
                .receiveFrames()
                .doOnNext(connection::receive)
                .doOnError(error -> log.info("{} lost: {}", connection, error.toString()))
                .onErrorResume(e -> Flux.empty())
                // count(), not then(): then() would hand each frame to a discard hook after Reactor Netty released it
                .count()
                .then()
                .doFinally(signal -> connection.disconnected());
        return Mono.when(outbound, inbound);
    }

    /** The event loop the link runs on. */
    public EventExecutor eventLoop() {
        return connection.eventLoop();
    }

    /** Open and not draining: new streams may go here. */
    boolean usable() {
        return connection.isOpen() && !connection.isDraining();
    }

    int activeStreams() {
        return connection.activeStreams();
    }

    /** No new streams; those in flight finish (the holder's end, when its replica stops). */
    void drain(String reason) {
        connection.drain(reason);
    }

    void close(CloseCode code, String reason) {
        connection.close(code, reason);
    }

    boolean isClosing() {
        return connection.isClosing();
    }

    // ------------------------------------------------------------------ StreamOpener

    @Override
    public TunnelStream openStream(IntFunction<Frame.Request> request, Function<TunnelStream, StreamHandler> handler) {
        return usable() ? connection.openStream(request, handler) : null;
    }

    @Override
    public String agentId() {
        return "replica:" + peer;
    }

    // ------------------------------------------------------------------ ConnectionSide

    @Override
    public void onHandshake(Frame frame) {
        // unreachable: the connection is open before its first frame arrives
        if (frame instanceof Frame.Data data) {
            data.content().release();
        }
        throw new ProtocolException(CloseCode.PROTOCOL_ERROR, "peer link frame before open");
    }

    @Override
    public void onRequest(TunnelStream stream, Frame.Request request) {
        if (acceptor == null) {
            stream.reset(ResetCode.REFUSED_STREAM, "this end opens streams");
            return;
        }
        acceptor.accept(stream, request);
    }

    @Override
    public void onPeerDrain(String reason, boolean wasDraining) {
        log.info("{}: the peer drains it ({}); new streams go on a new link", connection, reason);
    }

    @Override
    public void onStreamsIdle() {
        connection.close(CloseCode.GOING_AWAY, "drained");
    }

    @Override
    public void onProtocolError(ProtocolException error) {
        log.warn("{} closed with {}: {}", connection, error.closeCode(), error.getMessage());
    }

    @Override
    public String toString() {
        return connection.toString();
    }
}
