package io.edgetunnel.protocol.websocket;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketFrameDecoder;

/**
 * Makes the tunnel's WebSocket decoder gather a frame that spans several socket reads without
 * copying it ({@link ByteToMessageDecoder#COMPOSITE_CUMULATOR}). With the default cumulator, every
 * read that ended inside a DATA frame (a bulk transfer's frames straddle nearly every read) grew the
 * cumulation buffer by a reallocation and a copy, before the decoder copied the payload once more;
 * above 16 KiB, in Netty's low-memory mode (heaps of 512 MiB or less), each such buffer is a fresh
 * zero-filled allocation. That was the largest cost of the ingress in a TCP route's bulk download.
 */
public final class FrameCumulation {

    private FrameCumulation() {
    }

    /** Call on the channel's event loop once the handshake installed the WebSocket decoder. */
    public static void install(Channel channel) {
        ChannelHandler decoder = channel.pipeline().get(WebSocketFrameDecoder.class);
        if (decoder instanceof ByteToMessageDecoder cumulating) {
            cumulating.setCumulator(ByteToMessageDecoder.COMPOSITE_CUMULATOR);
        }
    }
}
