package io.edgetunnel.protocol.websocket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.EncoderException;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket08FrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Frames written by the tunnel's encoder are read back by Netty's own decoder, byte for byte. */
class TunnelFrameEncoderTests {

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 125, 126, 1023, 1024, 5_000, 65_535, 65_536, 262_144})
    void everyLengthEncodingDecodesToTheSamePayloadMaskedOrNot(int length) {
        for (boolean zeroMasked : new boolean[] {false, true}) {
            byte[] payload = random(length);
            List<WebSocketFrame> decoded = roundTrip(zeroMasked, new BinaryWebSocketFrame(Unpooled.wrappedBuffer(payload)));
            assertThat(decoded).singleElement().satisfies(frame -> {
                assertThat(frame).isInstanceOf(BinaryWebSocketFrame.class);
                assertThat(frame.isFinalFragment()).isTrue();
                assertThat(ByteBufUtil.getBytes(frame.content())).isEqualTo(payload);
            });
            decoded.forEach(WebSocketFrame::release);
        }
    }

    @Test
    void controlTextAndContinuationFramesKeepTheirTypeFinBitAndPayload() {
        List<WebSocketFrame> decoded = roundTrip(true,
                new TextWebSocketFrame(false, 0, "hello "),
                new ContinuationWebSocketFrame(true, 0, "world"),
                new PingWebSocketFrame(Unpooled.wrappedBuffer(new byte[] {1, 2, 3})),
                new PongWebSocketFrame(Unpooled.wrappedBuffer(new byte[] {4})),
                new CloseWebSocketFrame(4005, "stream id reuse"));

        assertThat(decoded).hasSize(5);
        assertThat(((TextWebSocketFrame) decoded.get(0)).text()).isEqualTo("hello ");
        assertThat(decoded.get(0).isFinalFragment()).isFalse();
        assertThat(((ContinuationWebSocketFrame) decoded.get(1)).text()).isEqualTo("world");
        assertThat(decoded.get(1).isFinalFragment()).isTrue();
        assertThat(ByteBufUtil.getBytes(decoded.get(2).content())).containsExactly(1, 2, 3);
        assertThat(decoded.get(3)).isInstanceOf(PongWebSocketFrame.class);
        CloseWebSocketFrame close = (CloseWebSocketFrame) decoded.get(4);
        assertThat(close.statusCode()).isEqualTo(4005);
        assertThat(close.reasonText()).isEqualTo("stream id reuse");
        decoded.forEach(WebSocketFrame::release);
    }

    @Test
    void aLargePayloadIsWrittenAsTheCallersBufferNotACopy() {
        EmbeddedChannel channel = new EmbeddedChannel(new TunnelFrameEncoder(true));
        CompositeByteBuf frameBytes = PooledByteBufAllocator.DEFAULT.compositeDirectBuffer()
                .addComponent(true, Unpooled.directBuffer(9).writeZero(9))
                .addComponent(true, Unpooled.directBuffer(65_536).writeZero(65_536));

        channel.writeOutbound(new BinaryWebSocketFrame(frameBytes));

        ByteBuf header = channel.readOutbound();
        ByteBuf body = channel.readOutbound();
        assertThat(header.readableBytes()).as("2 bytes, 8-byte length, 4-byte zero key").isEqualTo(14);
        assertThat(body).isSameAs(frameBytes);
        assertThat(body.refCnt()).as("the encoder's retain survives the frame's release").isEqualTo(1);
        header.release();
        body.release();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void aSmallCompositePayloadIsMergedPartByPartWithoutAnIntermediateCopy() {
        byte[] first = random(9);
        byte[] second = random(300);
        // nioBuffer() is where a composite of several parts would be copied into a new heap buffer first
        CompositeByteBuf payload = new CompositeByteBuf(PooledByteBufAllocator.DEFAULT, true, 4) {
            @Override
            public ByteBuffer nioBuffer(int index, int length) {
                throw new AssertionError("payload copied through nioBuffer(" + index + ", " + length + ")");
            }
        };
        payload.addComponent(true, Unpooled.directBuffer(9).writeBytes(first))
                .addComponent(true, Unpooled.directBuffer(300).writeBytes(second));

        List<WebSocketFrame> decoded = roundTrip(true, new BinaryWebSocketFrame(payload));

        assertThat(decoded).singleElement().satisfies(frame -> assertThat(ByteBufUtil.getBytes(frame.content()))
                .startsWith(first).endsWith(second).hasSize(309));
        assertThat(payload.refCnt()).as("merged, so released with its frame").isZero();
        decoded.forEach(WebSocketFrame::release);
    }

    @Test
    void aControlFrameOverTheRfcLimitIsRefused() {
        EmbeddedChannel channel = new EmbeddedChannel(new TunnelFrameEncoder(false));
        assertThatThrownBy(() -> channel.writeOutbound(new PingWebSocketFrame(Unpooled.wrappedBuffer(new byte[126]))))
                .isInstanceOf(EncoderException.class)
                .hasMessageContaining("control frame of 126 bytes");
        channel.finishAndReleaseAll();
    }

    private static List<WebSocketFrame> roundTrip(boolean zeroMasked, WebSocketFrame... frames) {
        EmbeddedChannel encoder = new EmbeddedChannel(new TunnelFrameEncoder(zeroMasked));
        EmbeddedChannel decoder = new EmbeddedChannel(new WebSocket08FrameDecoder(WebSocketDecoderConfig.newBuilder()
                .expectMaskedFrames(zeroMasked)
                .allowMaskMismatch(false)
                .maxFramePayloadLength(1 << 20)
                .build()));
        for (WebSocketFrame frame : frames) {
            encoder.writeOutbound(frame);
        }
        for (Object written; (written = encoder.readOutbound()) != null; ) {
            decoder.writeInbound(written);
        }
        List<WebSocketFrame> decoded = new ArrayList<>();
        for (Object read; (read = decoder.readInbound()) != null; ) {
            decoded.add((WebSocketFrame) read);
        }
        encoder.finishAndReleaseAll();
        decoder.finishAndReleaseAll();
        return decoded;
    }

    private static byte[] random(int length) {
        byte[] bytes = new byte[length];
        ThreadLocalRandom.current().nextBytes(bytes);
        return bytes;
    }
}
