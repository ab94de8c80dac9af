package io.edgetunnel.protocol.websocket;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.MessageToMessageEncoder;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrameEncoder;
import java.util.List;

/**
 * The tunnel's WebSocket frame encoder (RFC 6455 section 5.2), used on both ends in place of
 * Netty's: the frame header goes into a buffer of its own and the payload follows as it is, for a
 * gathering write. Netty's encoder merges the payload into the header buffer whenever that buffer
 * has room, and the pooled allocator hands out header buffers with room for a whole DATA frame: so
 * every frame was copied, and our composite frames (frame header + body slice) first into a fresh
 * heap buffer. That was the largest cost left in the download profile.
 *
 * <p>Unmasked frames (the ingress, a server) or masked with the all-zero key (the agent, a client,
 * where {@code agent.frame-masking} allows it): XOR with zero leaves the payload as it is. Payloads
 * under 1 KiB are still merged, one small copy being cheaper than a second buffer.
 */
public final class TunnelFrameEncoder extends MessageToMessageEncoder<WebSocketFrame> implements WebSocketFrameEncoder {

    private static final int MERGE_BELOW = 1024;

    private final boolean zeroMasked;

    /** @param zeroMasked a client's encoder: the MASK bit set with the all-zero key */
    public TunnelFrameEncoder(boolean zeroMasked) {
        super(WebSocketFrame.class);
        this.zeroMasked = zeroMasked;
    }

    /**
     * Replaces the WebSocket encoder the handshake installed. Call on the channel's event loop,
     * once the handshake completed and before the first frame is written.
     */
    public static void install(Channel channel, boolean zeroMasked) {
        ChannelPipeline pipeline = channel.pipeline();
        ChannelHandlerContext encoder = pipeline.context(WebSocketFrameEncoder.class);
        if (encoder == null) {
            throw new IllegalStateException("no WebSocket frame encoder in the pipeline: " + pipeline.names());
        }
        pipeline.replace(encoder.name(), encoder.name(), new TunnelFrameEncoder(zeroMasked));
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, WebSocketFrame frame, List<Object> out) {
        ByteBuf payload = frame.content();
        int opcode = opcode(frame);
        int length = payload.readableBytes();
        if (opcode >= 8 && length > 125) {
            throw new TooLongFrameException("control frame of " + length + " bytes (expected: <= 125)");
        }
        int lengthBytes = length <= 125 ? 0 : length <= 0xFFFF ? 2 : 8;
        boolean merge = length < MERGE_BELOW;
        ByteBuf header = ctx.alloc().buffer(2 + lengthBytes + (zeroMasked ? 4 : 0) + (merge ? length : 0));
        boolean added = false;
        try {
            header.writeByte((frame.isFinalFragment() ? 0x80 : 0) | (frame.rsv() & 0x07) << 4 | opcode);
            int mask = zeroMasked ? 0x80 : 0;
            if (lengthBytes == 0) {
                header.writeByte(mask | length);
            } else if (lengthBytes == 2) {
                header.writeByte(mask | 126);
                header.writeShort(length);
            } else {
                header.writeByte(mask | 127);
                header.writeLong(length);
            }
            if (zeroMasked) {
                header.writeInt(0);
            }
            if (merge) {
                // the payload copies itself, part by part: writeBytes(payload) would have a composite
                // (frame header + fields) first merged into a new heap ByteBuffer by nioBuffer()
                payload.getBytes(payload.readerIndex(), header, length);
            }
            out.add(header);
            added = true;
            if (!merge) {
                out.add(payload.retain());
            }
        } finally {
            if (!added) {
                header.release();
            }
        }
    }

    private static int opcode(WebSocketFrame frame) {
        if (frame instanceof BinaryWebSocketFrame) {
            return 2;
        } else if (frame instanceof PingWebSocketFrame) {
            return 9;
        } else if (frame instanceof PongWebSocketFrame) {
            return 10;
        } else if (frame instanceof CloseWebSocketFrame) {
            return 8;
        } else if (frame instanceof TextWebSocketFrame) {
            return 1;
        } else if (frame instanceof ContinuationWebSocketFrame) {
            return 0;
        }
        throw new UnsupportedOperationException("cannot encode " + frame.getClass().getSimpleName());
    }
}
