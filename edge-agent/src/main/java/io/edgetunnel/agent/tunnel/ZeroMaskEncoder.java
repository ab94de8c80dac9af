package io.edgetunnel.agent.tunnel;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.websocketx.WebSocket08FrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketFrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketFrameMaskGenerator;
import reactor.netty.Connection;

/**
 * Swaps the WebSocket client's frame encoder for one that masks with the all-zero key (see {@link
 * io.edgetunnel.agent.config.FrameMasking}): the frames stay masked frames, and Netty then neither
 * XORs nor copies their payload, so a DATA frame's body goes out as the buffer it arrived in.
 */
final class ZeroMaskEncoder {

    private static final WebSocketFrameMaskGenerator ZERO = () -> 0;

    private ZeroMaskEncoder() {
    }

    /** Call once the handshake completed and before the first frame is written (on the connection's loop). */
    static void install(Connection connection) {
        ChannelPipeline pipeline = connection.channel().pipeline();
        ChannelHandlerContext encoder = pipeline.context(WebSocketFrameEncoder.class);
        if (encoder == null || !(encoder.handler() instanceof WebSocket08FrameEncoder)) {
            throw new IllegalStateException("no WebSocket 13 frame encoder in the tunnel's pipeline: " + pipeline.names());
        }
        pipeline.replace(encoder.name(), encoder.name(), new WebSocket08FrameEncoder(ZERO));
    }
}
