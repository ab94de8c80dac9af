package io.edgetunnel.protocol.websocket;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket08FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

/** Frames that straddle socket reads decode intact once the decoder gathers them without copying. */
class FrameCumulationTests {

    @Test
    void framesSplitAtEveryKindOfBoundaryDecodeIntactMaskedOrNot() {
        for (boolean masked : new boolean[] {false, true}) {
            byte[] first = random(65_536);
            byte[] second = random(200_000);
            ByteBuf wire = Unpooled.buffer();
            wire.writeBytes(encode(masked, new BinaryWebSocketFrame(Unpooled.wrappedBuffer(first))));
            wire.writeBytes(encode(masked, new PingWebSocketFrame(Unpooled.wrappedBuffer(new byte[] {7}))));
            wire.writeBytes(encode(masked, new BinaryWebSocketFrame(Unpooled.wrappedBuffer(second))));

            EmbeddedChannel decoder = new EmbeddedChannel(new WebSocket08FrameDecoder(
                    WebSocketDecoderConfig.newBuilder().expectMaskedFrames(masked).allowMaskMismatch(false)
                            .maxFramePayloadLength(1 << 20).build()));
            FrameCumulation.install(decoder);
            // reads of 1 byte (inside a header), then 64 KiB ones, as a socket delivers a bulk transfer
            decoder.writeInbound(wire.readRetainedSlice(1));
            while (wire.isReadable()) {
                decoder.writeInbound(wire.readRetainedSlice(Math.min(65_536, wire.readableBytes())));
            }
            wire.release();

            List<WebSocketFrame> frames = new ArrayList<>();
            WebSocketFrame frame;
            while ((frame = decoder.readInbound()) != null) {
                frames.add(frame);
            }
            assertThat(frames).hasSize(3);
            assertThat(ByteBufUtil.getBytes(frames.get(0).content())).isEqualTo(first);
            assertThat(frames.get(1)).isInstanceOf(PingWebSocketFrame.class);
            assertThat(ByteBufUtil.getBytes(frames.get(2).content())).isEqualTo(second);
            frames.forEach(WebSocketFrame::release);
            assertThat(decoder.finishAndReleaseAll()).isFalse();
        }
    }

    @Test
    void aPipelineWithoutWebSocketDecoderIsLeftAsItIs() {
        EmbeddedChannel channel = new EmbeddedChannel();
        List<String> before = channel.pipeline().names();
        FrameCumulation.install(channel);
        assertThat(channel.pipeline().names()).isEqualTo(before);
        channel.finishAndReleaseAll();
    }

    private static ByteBuf encode(boolean masked, WebSocketFrame frame) {
        EmbeddedChannel encoder = new EmbeddedChannel(new TunnelFrameEncoder(masked));
        encoder.writeOutbound(frame);
        ByteBuf out = Unpooled.buffer();
        ByteBuf part;
        while ((part = encoder.readOutbound()) != null) {
            out.writeBytes(part);
            part.release();
        }
        encoder.finishAndReleaseAll();
        return out;
    }

    private static byte[] random(int length) {
        byte[] bytes = new byte[length];
        ThreadLocalRandom.current().nextBytes(bytes);
        return bytes;
    }
}
