package io.edgetunnel.protocol.session;

import io.edgetunnel.protocol.CloseCode;
import io.edgetunnel.protocol.Frame;
import io.edgetunnel.protocol.FrameCodec;
import io.edgetunnel.protocol.ProtocolException;
import io.edgetunnel.protocol.ResetCode;
import io.edgetunnel.protocol.stream.Heartbeat;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A connection's frame intake, on its event loop: decodes each message, maps every error to its
 * close code, answers pings, and routes frames to the handshake, the drain barrier, the stream table
 * or the side.
 */
final class FrameIntake {

    private static final Logger log = LoggerFactory.getLogger(TunnelConnection.class);

    private final TunnelConnection connection;
    private final FrameCodec codec;
    private final ConnectionSide side;
    private final StreamTable streams;
    private final DrainBarrier drain;

    FrameIntake(TunnelConnection connection, FrameCodec codec, ConnectionSide side, StreamTable streams,
            DrainBarrier drain) {
        this.connection = connection;
        this.codec = codec;
        this.side = side;
        this.streams = streams;
        this.drain = drain;
    }

    void receive(WebSocketFrame message) {
        try {
            if (message instanceof TextWebSocketFrame) {
                throw new ProtocolException(CloseCode.PROTOCOL_ERROR, "text WebSocket message (expected: binary)");
            }
            if (!(message instanceof BinaryWebSocketFrame)) {
                return; // ping/pong/close are the WebSocket layer's business
            }
            side.checkInbound(message.content().readableBytes());
            onFrame(codec.decode(message.content()));
        } catch (ProtocolException e) {
            connection.fail(e);
        } catch (RuntimeException e) {
            log.error("{}: internal error handling a frame", connection.name(), e);
            connection.close(CloseCode.INTERNAL_ERROR, "internal error");
        }
    }

    private void onFrame(Frame frame) {
        Heartbeat beat = connection.heartbeat();
        if (beat != null) {
            beat.onFrameReceived();
        }
        if (!connection.opened()) {
            side.onHandshake(frame);
            return;
        }
        if (frame instanceof Frame.Ping ping) {
            connection.send(new Frame.Pong(ping.payload()));
        } else if (frame instanceof Frame.Pong pong) {
            beat.onPong(pong.payload());
            if (drain.onPong(pong.payload())) {
                connection.checkIdle();
            }
        } else if (frame instanceof Frame.Drain peerDrain) {
            side.onPeerDrain(peerDrain.reason(), drain.onPeerDrain());
        } else if (frame instanceof Frame.Request request) {
            if (connection.role() != Role.ACCEPTOR) {
                throw new ProtocolException(CloseCode.PROTOCOL_ERROR,
                        "Request from the " + connection.role().peerName() + " (expected: the ingress opens streams)");
            }
            onRequest(request);
        } else if (frame instanceof Frame.Response && connection.role() != Role.OPENER) {
            throw new ProtocolException(CloseCode.PROTOCOL_ERROR,
                    "Response from the " + connection.role().peerName() + " (expected: the agent answers streams)");
        } else if (frame instanceof Frame.Data || frame instanceof Frame.Response || frame instanceof Frame.Trailers
                || frame instanceof Frame.WindowUpdate || frame instanceof Frame.Reset) {
            streams.dispatch(frame);
        } else {
            side.onControl(frame);
        }
    }

    private void onRequest(Frame.Request request) {
        int id = request.streamId();
        if (streams.contains(id)) {
            throw new ProtocolException(CloseCode.STREAM_ERROR, "stream " + id + " opened twice");
        }
        TunnelStream stream = new TunnelStream(connection, id, connection.streamSettings(), !request.endStream());
        stream.started(false, true, request.endStream());
        // a REQUEST that crossed our Drain on the wire is still served: we stay up until the opener
        // confirmed the Drain and every stream finished
        if (connection.isClosing()) {
            stream.reset(ResetCode.REFUSED_STREAM, "agent is closing");
            return;
        }
        side.onRequest(stream, request);
        if (!stream.isEnded() && !stream.counted()) {
            stream.reset(ResetCode.REFUSED_STREAM, "not accepted");
        }
    }
}
